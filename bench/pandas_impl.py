"""LN-2021 in plain pandas, as a team would write it without this project: read the Parquet drop into frames,
group and merge, no row validation, no ledger. bench/ times it and checks it agrees with autogrant unit by unit.

    python -m bench.pandas_impl DROP OUT.parquet
"""

import json
import sys
import time
import unicodedata
from pathlib import Path

import pandas as pd

from autogrant.transforms.paths import REFERENCE_DIR

REFERENCE = REFERENCE_DIR
LN_REGIONS = [f"21{n:02d}00" for n in range(1, 15)]
ELIGIBLE = {"enterprise", "social_org", "foundation", "social_service_org", "law_firm", "accounting_firm", "individual_business"}
AS_OF = pd.Timestamp("2021-12-31")
Y_START_EVE, Y_END = pd.Timestamp("2019-12-31"), pd.Timestamp("2020-12-31")


def fen(s: pd.Series) -> pd.Series:
    """Yuan text with at most 2 decimals -> integer fen, without going through float."""
    parts = s.fillna("0").str.split(".", n=1, expand=True)
    cents = parts[1].fillna("0").str.ljust(2, "0") if 1 in parts else "00"
    return parts[0].astype("int64") * 100 + pd.Series(cents, index=s.index).astype("int64")


def read(drop: Path, rel: str) -> pd.DataFrame | None:
    path = drop / rel
    return pd.read_parquet(path) if path.is_file() else None


def headcount(roster: pd.DataFrame, day: pd.Timestamp) -> pd.Series:
    on = roster[(roster.start <= day) & (roster.end.isna() | (roster.end >= day))]
    return on.drop_duplicates(["uscc", "person_id"]).groupby("uscc").size()


def derive_size(units: pd.DataFrame) -> pd.Series:
    """国统字〔2017〕213号 for enterprises without a registered class."""
    sectors = pd.read_csv(REFERENCE / "nbs_2017_sectors.csv", dtype=str, keep_default_na=False)
    thresholds = pd.read_csv(REFERENCE / "nbs_2017_thresholds.csv")
    need = units[(units.unit_type == "enterprise") & units.size_class.isna() & units.industry_code.notna()]

    def sector(code: str) -> str:
        hits = sectors[[code.startswith(p) for p in sectors.prefix]]
        return hits.loc[hits.prefix.str.len().idxmax(), "sector"]

    out = {}
    for uscc, row in need.set_index("uscc").iterrows():
        tiers = []
        for _, t in thresholds[thresholds.sector == sector(row.industry_code)].iterrows():
            value = row[t.indicator]
            if pd.isna(value):
                tiers.append(None)
                continue
            scale = 1 if t.indicator == "employees" else 100
            tiers.append(3 if value >= t.large_min * scale else 2 if value >= t.medium_min * scale
                         else 1 if value >= t.small_min * scale else 0)  # fmt: skip
        if 0 in tiers:
            out[uscc] = "micro"
        elif tiers and None not in tiers:
            out[uscc] = ["micro", "small", "medium", "large"][min(tiers)]
    return pd.Series(out, dtype=object)


def fold(name) -> str:
    return "" if name is None or (isinstance(name, float) and pd.isna(name)) else unicodedata.normalize("NFKC", name).strip()


def decide(drop: Path) -> pd.DataFrame:
    units = read(drop, "units.parquet")
    units = units[units.region_code.isin(LN_REGIONS)].copy()
    units["employees"] = pd.to_numeric(units.employees)
    units["revenue"], units["total_assets"] = fen(units.revenue), fen(units.total_assets)

    roster = read(drop, "roster.parquet")
    roster["start"], roster["end"] = pd.to_datetime(roster.start_date), pd.to_datetime(roster.end_date)
    hs, he = headcount(roster, Y_START_EVE), headcount(roster, Y_END)
    del roster

    pay = read(drop, "payments.parquet")
    pay["fm"] = pd.to_datetime(pay.fee_month.str.replace("-", "") + "01", format="%Y%m%d")
    pay["pd"] = pd.to_datetime(pay.paid_date)
    pay["due"] = fen(pay.unit_due) + fen(pay.staff_due)
    pay["paid"] = fen(pay.unit_paid) + fen(pay.staff_paid)
    pay = pay[pay.fm <= Y_END]
    # premiums of 2020 paid by the cut-off, late ones included (issue 17 item 2: 补缴后…要发放)
    base = pay[(pay.fm.dt.year == 2020) & (pay.pd <= AS_OF)].groupby("uscc").paid.sum()
    arrears = pay.groupby("uscc").due.sum().sub(pay[pay.pd <= AS_OF].groupby("uscc").paid.sum(), fill_value=0)

    funds = read(drop, "region_funds.parquet")
    funds = funds[funds.fund_year.astype(int) == 2020]
    reserve_ok = (fen(funds.balance) >= 12 * fen(funds.monthly_expenditure)) | funds.adjustment_approved.str.lower().isin(
        ["true", "1"]
    )
    reserve_ok.index = funds.region_code

    dishonest, zombie, prior = (
        read(drop, "lists/dishonest.parquet"),
        read(drop, "lists/zombie.parquet"),
        read(drop, "prior_disbursements.parquet"),
    )
    listed = set()
    if dishonest is not None:
        removed = pd.to_datetime(dishonest.removed_date)
        listed = set(dishonest[(pd.to_datetime(dishonest.listed_date) <= AS_OF) & (removed.isna() | (removed > AS_OF))].uscc)
    zombies = set() if zombie is None else set(zombie[pd.to_datetime(zombie.listed_date) <= AS_OF].uscc)
    already = (
        pd.Series(dtype="int64")
        if prior is None
        else prior[prior.policy_id == "LN-2021"].assign(f=lambda d: fen(d.amount)).groupby("uscc").f.sum()
    )

    u = units.set_index("uscc")
    u["hs"] = hs.reindex(u.index, fill_value=0)
    u["he"] = he.reindex(u.index, fill_value=0)
    u["base"] = base.reindex(u.index, fill_value=0).astype("int64")
    u["arrears"] = arrears.reindex(u.index, fill_value=0).clip(lower=0)
    u["already"] = already.reindex(u.index, fill_value=0).astype("int64")
    derived = derive_size(units)
    u["size_used"] = u.size_class.where(u.size_class.notna(), derived.reindex(u.index))
    u.loc[u.unit_type != "enterprise", "size_used"] = None
    u["size_missing"] = (u.unit_type == "enterprise") & u.size_used.isna()
    u["formula"] = (u.base * u.size_used.eq("large").map({True: 30, False: 60}) // 100).where(~u.size_missing, 0)
    layoff = (u.hs - u.he).clip(lower=0)
    limit = u.he.le(30).map({True: 20, False: 6})

    decisions = []
    for uscc, r in u.iterrows():
        rejects = [code for code, hit in (
            ("UNIT_TYPE_INELIGIBLE", r.unit_type not in ELIGIBLE),
            ("UNIT_INACTIVE", r.status in ("cancelled", "revoked")),
            ("REGION_RESERVE_INSUFFICIENT", not reserve_ok[r.region_code]),
            ("LAYOFF_RATE_EXCEEDED", r.hs > 0 and layoff[uscc] * 100 > limit[uscc] * r.hs),
            ("ARREARS_OUTSTANDING", r.arrears > 0),
            ("NO_PREMIUM_PAID", r.base == 0),
            ("DISHONEST_ENTITY", uscc in listed),
            ("ZOMBIE_ENTERPRISE", uscc in zombies),
            ("ALREADY_PAID", r.formula > 0 and r.already >= r.formula),
            ("AMOUNT_ZERO", r.base > 0 and r.formula == 0 and not r.size_missing),
        ) if hit]  # fmt: skip
        has_account = pd.notna(r.bank_account) and pd.notna(r.bank_code)
        holds = [code for code, hit in (
            ("SIZE_CLASS_MISSING", r.size_missing),
            ("BANK_ACCOUNT_MISSING", not has_account),
            ("ACCOUNT_NAME_MISMATCH", has_account and fold(r.account_name) != fold(r.unit_name)),
            ("APPLICATION_REQUIRED", r.he > 200),  # paid on application (辽人社发〔2021〕7号 一(一)); none applied here
        ) if hit]  # fmt: skip
        decision = "REJECT" if rejects else "HOLD" if holds else "PAY"
        amount = max(int(r.formula) - int(r.already), 0) if decision == "PAY" else 0
        decisions.append((uscc, decision, ";".join(rejects + holds), amount))
    return pd.DataFrame(decisions, columns=["uscc", "decision", "reasons", "amount_fen"]).sort_values("uscc")


def main(drop: str, out: str) -> None:
    t0 = time.perf_counter()
    frame = decide(Path(drop))
    seconds = time.perf_counter() - t0
    frame.to_parquet(out, index=False)
    print(json.dumps({"seconds": round(seconds, 3)}))


if __name__ == "__main__":
    main(*sys.argv[1:3])
