"""Seeded generator of data drops in the format of ../shared/CONTRACT.md section 1.

    python -m autogrant.data_samples.generate OUT_DIR --units 300000 --seed 7 [--format csv,parquet,hive] [--chinese] [--gb18030]

``--format``: ``csv`` (default), ``parquet``, or ``hive`` (Parquet partitioned by region, hive-style:
``units/region_code=210100/part-0.parquet``, the same for roster and payments; lists and fund positions flat),
what the Dask fan-out reads region by region. Several formats (comma-separated) go to OUT_DIR/<format>/ each.

Realistic shape: most units small with a long tail of large ones (lognormal headcounts), staff churn and
natural exits, monthly premiums with late, partial and unpaid months, list hits, missing and mismatched
bank accounts, and a fund position per region and year. Vectorised with numpy/pyarrow: 300,000 units,
~8 million roster spells and ~3.6 million payment rows take about a minute.
``--edge-cases`` adds hand-made units that hit every rule at its boundary (the bundled samples use it).
The value columns (USCC codes, ID numbers, dates, yuan) come from value_columns.py; the files are written by
drop_files.py.
"""

import argparse
import datetime as dt
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from autogrant.data_samples import edge_cases
from autogrant.data_samples.drop_files import write_drop
from autogrant.data_samples.value_columns import datestr, person_ids, uscc_codes, yuan

LIAONING = ["210100", "210200", "210300", "210400", "210500", "210600", "210700",
            "210800", "210900", "211000", "211100", "211200", "211300", "211400"]  # fmt: skip
INNER_MONGOLIA = ["150100", "150200", "150300", "150400", "150500", "150600", "150700",
                  "150800", "150900", "152200", "152500", "152900"]  # fmt: skip
INDUSTRIES = np.array(["C3110", "C3011", "B0610", "D4411", "C3216", "C3041", "C3731", "C2211", "C3511", "E4710", "F5123",
                       "F5211", "G5430", "G5920", "H6110", "H6210", "I6510", "K7020", "L7212", "M7320", "O8010", "A0111"])  # fmt: skip
UNIT_TYPES = np.array(["enterprise", "social_org", "foundation", "social_service_org", "law_firm", "accounting_firm",
                       "individual_business", "public_institution", "other"])  # fmt: skip
UNIT_TYPE_P = np.array([0.86, 0.02, 0.005, 0.02, 0.01, 0.01, 0.04, 0.03, 0.005])
SURNAMES = np.array(list("华兴宏鑫盛达恒泰隆昌瑞丰永安金源广和东方新光明辉宇晨"))
SUFFIX = np.array(["有限公司", "有限责任公司", "股份有限公司", "（集团）有限公司", "商贸有限公司", "科技有限公司"])


def generate_tables(n_units: int, seed: int, assessed_year: int, regions: list[str]) -> dict[str, pa.Table]:
    rng = np.random.default_rng(seed)
    y = assessed_year
    n = n_units
    region = np.array(regions)[rng.integers(0, len(regions), n)].astype(np.int64)
    serial = rng.permutation(np.arange(100_000_000, 100_000_000 + n * 7, 7))[:n] if n < 10**7 else np.arange(n) + 10**8
    uscc = uscc_codes(region, serial)
    unit_type = rng.choice(UNIT_TYPES, n, p=UNIT_TYPE_P)
    # headcount at the start of the assessed year: lognormal, most units small, a tail of large ones
    hc = np.maximum(1, np.floor(rng.lognormal(1.9, 1.15, n))).astype(np.int64)
    names = pc.binary_join_element_wise(
        pa.array(np.array(["辽宁", "大连", "沈阳", "鞍山", "营口"])[rng.integers(0, 5, n)]),
        pa.array(SURNAMES[rng.integers(0, len(SURNAMES), n)]),
        pa.array(SURNAMES[rng.integers(0, len(SURNAMES), n)]),
        pa.array(SUFFIX[rng.integers(0, len(SUFFIX), n)]),
        "",
    )
    industry = INDUSTRIES[rng.integers(0, len(INDUSTRIES), n)]
    size = np.where(hc >= 1000, "large", np.where(hc >= 300, "medium", np.where(hc >= 20, "small", "micro")))
    size_known = rng.random(n) < 0.85
    enterprise = unit_type == "enterprise"
    revenue = (hc * rng.integers(200_000, 900_000, n)) * 100
    assets = (hc * rng.integers(100_000, 1_500_000, n)) * 100
    status = rng.choice(np.array(["active", "cancelled", "revoked", "abnormal"]), n, p=[0.97, 0.012, 0.008, 0.01])
    has_account = rng.random(n) > 0.02
    account = pc.cast(pa.array(rng.integers(10**15, 10**16 - 1, n)), pa.string())
    bank_code = pc.cast(pa.array(rng.integers(10**11, 10**12 - 1, n)), pa.string())
    name_variant = rng.random(n)
    account_name = pc.if_else(
        pa.array(name_variant < 0.01),
        pc.binary_join_element_wise(names, pa.array(["分公司"] * n), ""),
        pc.if_else(pa.array(name_variant < 0.03), pc.replace_substring(names, "（集团）", "(集团)"), names),
    )
    no_acct = pa.array(~has_account)
    units = pa.table(
        {
            "uscc": uscc,
            "unit_name": names,
            "region_code": pa.array(region.astype(str)),
            "unit_type": pa.array(unit_type),
            "industry_code": pc.if_else(pa.array(enterprise), pa.array(industry), pa.nulls(n, pa.string())),
            "size_class": pc.if_else(pa.array(enterprise & size_known), pa.array(size), pa.nulls(n, pa.string())),
            "employees": pa.array(hc),
            "revenue": yuan(revenue),
            "total_assets": yuan(assets),
            "status": pa.array(status),
            "bank_account": pc.if_else(no_acct, pa.nulls(n, pa.string()), account),
            "bank_code": pc.if_else(no_acct, pa.nulls(n, pa.string()), bank_code),
            "account_name": pc.if_else(no_acct, pa.nulls(n, pa.string()), account_name),
        }
    )

    # --- roster: spells in place at the start of Y (some leave in Y), hires in Y, and earlier history
    exit_rate = rng.beta(1.2, 14, n)
    hire_rate = rng.beta(1.2, 12, n)
    hires = rng.binomial(hc, hire_rate)
    history = rng.binomial(hc * 2, 0.5)
    per_unit = hc + hires + history
    unit_of = np.repeat(np.arange(n), per_unit)
    offset = np.repeat(np.cumsum(per_unit) - per_unit, per_unit)
    pos = np.arange(len(unit_of)) - offset
    kind = np.where(pos < hc[unit_of], 0, np.where(pos < (hc + hires)[unit_of], 1, 2))  # 0 staff, 1 hire, 2 history
    m = len(unit_of)
    y0 = np.datetime64(f"{y}-01-01")
    start = np.where(
        kind == 0, y0 - rng.integers(1, 4000, m).astype("timedelta64[D]"),
        np.where(kind == 1, y0 + rng.integers(0, 365, m).astype("timedelta64[D]"),
                 y0 - rng.integers(800, 5000, m).astype("timedelta64[D]")))  # fmt: skip
    leaves = np.where(kind == 0, rng.random(m) < exit_rate[unit_of], kind == 2)
    end = np.where(
        kind == 2, start + rng.integers(30, 700, m).astype("timedelta64[D]"),
        y0 + rng.integers(0, 365, m).astype("timedelta64[D]"))  # fmt: skip
    end = np.maximum(end, start)
    reason = rng.choice(np.array(["dismissal", "resignation", "contract_end", "retirement", "death", "transfer", "other"]),
                        m, p=[0.2, 0.35, 0.2, 0.15, 0.01, 0.05, 0.04])  # fmt: skip
    roster = pa.table(
        {
            "person_id": person_ids(np.arange(m) + seed * 7919),
            "uscc": pc.take(uscc, pa.array(unit_of)),
            "start_date": datestr(start),
            "end_date": datestr(end, mask=~leaves),
            "end_reason": pc.if_else(pa.array(leaves), pa.array(reason), pa.nulls(m, pa.string())),
        }
    )

    # --- payments: 12 fee months of Y per unit; rate 0.5% unit + 0.5% staff of a monthly wage bill
    wage = rng.integers(3000_00, 9000_00, n)
    monthly_due = (hc * wage * 5) // 1000  # fen, each side
    paying = rng.random(n) > 0.015  # some units pay nothing in Y
    late_unit = rng.random(n) < 0.03  # pay December late, after year end
    unpaid_unit = rng.random(n) < 0.01  # leave December unpaid
    pu = np.repeat(np.arange(n), 12)
    month = np.tile(np.arange(1, 13), n)
    due = monthly_due[pu]
    paid = np.where(paying[pu], due, 0)
    fee_month = np.array([f"{y}-{mm:02d}" for mm in range(1, 13)])[month - 1]
    paid_day = np.datetime64(f"{y}-01-15") + ((month - 1) * 30.4).astype(int).astype("timedelta64[D]")
    dec = month == 12
    paid_day = np.where(dec & late_unit[pu], np.datetime64(f"{y + 1}-03-10"), paid_day)
    paid = np.where(dec & unpaid_unit[pu], 0, paid)
    # partial payments: a tenth of months paid in two rows (the second row carries no new amount due)
    split = rng.random(len(pu)) < 0.1
    first = np.where(split, paid // 2, paid)
    payments = pa.table(
        {
            "uscc": pc.take(uscc, pa.array(pu)),
            "fee_month": pa.array(fee_month),
            "unit_due": yuan(due),
            "staff_due": yuan(due),
            "unit_paid": yuan(first),
            "staff_paid": yuan(first),
            "paid_date": datestr(paid_day, mask=first == 0),
            "late_fee": yuan(np.where(dec & late_unit[pu], due // 100, 0)),
        }
    )
    sp = np.flatnonzero(split & (paid > 0))
    second = pa.table(
        {
            "uscc": pc.take(uscc, pa.array(pu[sp])),
            "fee_month": pa.array(fee_month[sp]),
            "unit_due": yuan(np.zeros(len(sp), dtype=np.int64)),
            "staff_due": yuan(np.zeros(len(sp), dtype=np.int64)),
            "unit_paid": yuan(paid[sp] - first[sp]),
            "staff_paid": yuan(paid[sp] - first[sp]),
            "paid_date": datestr(paid_day[sp] + 5),
            "late_fee": yuan(np.zeros(len(sp), dtype=np.int64)),
        }
    )
    payments = pa.concat_tables([payments, second])

    # --- lists
    def pick(share: float) -> np.ndarray:
        return np.flatnonzero(rng.random(n) < share)

    d = pick(0.006)
    removed = rng.random(len(d)) < 0.4
    dishonest = pa.table(
        {
            "uscc": pc.take(uscc, pa.array(d)),
            "listed_date": datestr(np.full(len(d), np.datetime64(f"{y}-06-01"))),
            "removed_date": datestr(np.full(len(d), np.datetime64(f"{y + 1}-03-01")), mask=~removed),
        }
    )
    z = pick(0.003)
    zombie = pa.table({"uscc": pc.take(uscc, pa.array(z)), "listed_date": datestr(np.full(len(z), np.datetime64(f"{y}-09-30")))})
    s = pick(0.01)
    subsidies = pa.table(
        {
            "uscc": pc.take(uscc, pa.array(s)),
            "subsidy_type": pa.array(
                rng.choice(np.array(["si_subsidy_hard_to_employ", "si_subsidy_graduates", "training"]), len(s))
            ),
            "year": pa.array(np.full(len(s), y)),
            "amount": yuan(rng.integers(1000_00, 50000_00, len(s))),
        }
    )
    f = pick(0.02)
    difficulty = pa.table(
        {"uscc": pc.take(uscc, pa.array(f)), "recognised_date": datestr(np.full(len(f), np.datetime64(f"{y + 1}-05-20")))}
    )

    # --- fund position per region and year (the first region short of a year's reserve, the second with an adjustment fund)
    fund_rows = []
    for i, code in enumerate(sorted(regions)):
        for year in range(y - 1, y + 2):
            expenditure = int(rng.integers(5_000_000, 50_000_000)) * 100
            months = 8 if i == 0 else (10 if i == 1 else 30)
            fund_rows.append({
                "region_code": code, "fund_year": year, "balance": f"{expenditure * months // 100}.00",
                "monthly_expenditure": f"{expenditure // 100}.00", "adjustment_approved": "true" if i == 1 else "false",
                "registered_unemployment_rate": "0.042", "avg_monthly_benefit": "1550.00",
            })  # fmt: skip
    region_funds = pa.Table.from_pylist(fund_rows)
    return {
        "units": units, "roster": roster, "payments": payments, "region_funds": region_funds,
        "dishonest": dishonest, "zombie": zombie, "other_subsidies": subsidies, "difficulty": difficulty,
    }  # fmt: skip


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out", type=Path)
    ap.add_argument("--units", type=int, default=300)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--assessed-year", type=int, default=2020)
    ap.add_argument("--regions", default="liaoning", help="liaoning, inner_mongolia, or comma-separated codes")
    ap.add_argument("--format", default="csv", help="csv, parquet or hive; several comma-separated go to OUT/<format>/")
    ap.add_argument("--chinese", action="store_true", help="Chinese column names")
    ap.add_argument("--gb18030", action="store_true", help="GB18030-encoded CSV")
    ap.add_argument("--edge-cases", action="store_true", help="add the hand-made boundary units")
    ap.add_argument("--policy-cases", type=Path, help="add the units of a readable case file (tests/policies/<ID>.yaml)")
    a = ap.parse_args(argv)
    regions = {"liaoning": LIAONING, "inner_mongolia": INNER_MONGOLIA}.get(a.regions) or a.regions.split(",")
    t0 = dt.datetime.now()
    tables = generate_tables(a.units, a.seed, a.assessed_year, regions)
    if a.edge_cases:
        tables = edge_cases.add(tables, a.assessed_year, regions)
    if a.policy_cases:
        from autogrant.data_samples.policy_cases import sample_cases

        tables = edge_cases.merge(tables, sample_cases(a.policy_cases))
    formats = a.format.split(",")
    for fmt in formats:
        if fmt not in ("csv", "parquet", "hive"):
            ap.error(f"unknown format {fmt}: csv, parquet or hive")
        write_drop(tables, a.out / fmt if len(formats) > 1 else a.out, fmt, a.chinese, a.gb18030)
    rows = {k: v.num_rows for k, v in tables.items()}
    print(f"wrote {a.out} in {(dt.datetime.now() - t0).total_seconds():.1f}s: {rows}")


if __name__ == "__main__":
    main()
