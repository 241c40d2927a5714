"""Seeded small drops over the whole input contract (../shared/CONTRACT.md section 1), awkward values included.

    python -m tests.random_drop_generate OUT_DIR --seed 7 [--policy LN-2021]

Each drop holds 30-80 units in a few of the policy's regions (plus one outside them) and mixes, file by file and
cell by cell, what the contract allows: UTF-8, UTF-8 with BOM or GB18030; English or Chinese headers (per column),
extra columns, CRLF; enums in either language; dates YYYY-MM-DD, YYYY/MM/DD, YYYYMMDD; fee months YYYY-MM, YYYYMM;
money with 0, 1 or 2 decimals. Units: several payment rows a month, late payments before and after the cut-off,
arrears, overpayment; no roster, no payments; size class empty with or without what derives it; account names that
differ only by full-width brackets or outer spaces; missing bank data; prior disbursements of any size (more, equal,
less than due, for another policy); list rows for unknown units and for known ones on both sides of the cut-off;
optional files header-only or missing; a few invalid rows (bad check digit, end before start, paid without a date,
three decimals, removal before listing, a duplicated register row) that make their unit INVALID_INPUT. Under the
policies after 2021, benefit_claims.csv and contribution_accounts.csv (tests/random_drop_later.py).
``random_drop_generate.generate`` writes one and returns what the drop should produce: the policy, the exit code and the regions that cannot be decided.
"""

import datetime as dt
import random
from pathlib import Path

import yaml

from tests.random_drop_files import HEADERS, Cells, person_id, valid_uscc, write_csv

POLICY_DIR = Path(__file__).resolve().parents[1] / "autogrant" / "policies"
OPTIONAL = ("lists/dishonest", "lists/zombie", "lists/other_subsidies", "lists/difficulty", "prior_disbursements")
POLICIES = ("LN-2021", "DL-2020", "DL-2018", "IM-2020", "IM-2020-DIFFICULTY", "LN-2022", "CN-2023", "CN-2024", "CN-2025")
# Industries whose 国统字〔2017〕213号 sector the reference knows: industry, retail, software, other (employees only).
INDUSTRIES = ["C3110", "C2211", "B0610", "D4411", "C3011", "C3216", "C3041", "C3731", "F5211", "I6510", "M7320", "O8010"]
SUBSIDY_TYPES = ["si_subsidy_hard_to_employ", "si_subsidy_graduates", "public_welfare_post", "startup_leader", "training"]
UNIT_TYPES = ["enterprise", "social_org", "foundation", "social_service_org", "law_firm", "accounting_firm",
              "individual_business", "public_institution", "other"]  # fmt: skip
NAMES = "华兴宏鑫盛达恒泰隆昌瑞丰永安金源广和东方新光明辉宇晨"


def policy_values(policy_id: str) -> dict:
    rules = yaml.safe_load((POLICY_DIR / f"{policy_id}.yaml").read_text(encoding="utf-8"))["rules"]
    return {k: (v["value"] if isinstance(v, dict) and "value" in v else v) for k, v in rules.items()}


class DropBuilder:
    def __init__(self, seed: int, policy_id: str):
        # the policies after 2021 share their regions: each draws its own drops from the seed (the older ones as before)
        self.rng = random.Random(seed if policy_id in POLICIES[:5] else f"{policy_id}:{seed}")
        self.cells = Cells(self.rng)
        self.policy_id = policy_id
        self.p = policy_values(policy_id)
        self.year = int(self.p["assessed_year"])
        self.cutoff = dt.date.fromisoformat(str(self.p["default_as_of"]))
        self.rows: dict[str, list[dict]] = {name: [] for name in HEADERS}
        self.persons = 0
        self.units: list[dict] = []

    # -- units ------------------------------------------------------------------------------------------
    def unit(self, serial: int, region: str) -> dict:
        r, c = self.rng, self.cells
        code = valid_uscc(region, serial)
        name = "".join(r.sample(NAMES, 2)) + r.choice(["有限公司", "（集团）有限公司", "商贸有限公司", "(辽宁)科技有限公司"])
        unit_type = "enterprise" if r.random() < 0.8 else r.choice(UNIT_TYPES)
        size, industry, emp, rev, assets = "", "", "", "", ""
        if r.random() < 0.55:
            size = r.choice(["large", "medium", "small", "micro"])
        if r.random() < 0.8:
            industry = r.choice(INDUSTRIES)
        if r.random() < 0.7:
            emp = str(r.choice([r.randrange(1, 30), r.randrange(5, 400), r.choice([10, 20, 50, 100, 300, 1000])]))
        if r.random() < 0.6:
            rev = c.money(r.choice([r.randrange(10**6, 10**11), 300_000_000, 50_000_000, 100_000_000]))
        if r.random() < 0.3:
            assets = c.money(r.randrange(10**6, 10**11))
        status = "active" if r.random() < 0.85 else r.choice(["cancelled", "revoked", "abnormal"])
        account, bank, acc_name = str(r.randrange(10**9, 10**19)), f"{r.randrange(10**11, 10**12)}", name
        pick = r.random()
        if pick < 0.08:
            account = ""
        elif pick < 0.13:
            bank = ""
        elif pick < 0.16:
            account, bank, acc_name = "", "", ""
        kind = r.random()
        if kind < 0.12:
            acc_name = (
                acc_name.replace("（", "(").replace("）", ")")
                if "（" in acc_name
                else acc_name.replace("(", "（").replace(")", "）")
            )
        elif kind < 0.2:
            acc_name = r.choice(["\u3000", "  ", " "]) + acc_name + r.choice(["\u3000", " ", ""])
        elif kind < 0.25:
            acc_name = acc_name[:2] + " " + acc_name[2:]  # an inner space: a different name
        elif kind < 0.3:
            acc_name = "".join(r.sample(NAMES, 3)) + "有限公司"
        elif kind < 0.33:
            acc_name = ""
        elif kind < 0.36 and self.rows["units"]:  # fraud signal: the account is in the name of another unit of the drop
            acc_name = r.choice(self.rows["units"])["unit_name"]
        if account and self.rows["units"] and r.random() < 0.05:  # fraud signal: another unit's account number
            account = r.choice([u["bank_account"] for u in self.rows["units"] if u["bank_account"]] or [account])
        row = {"uscc": code, "unit_name": name, "region_code": region, "unit_type": c.enum(unit_type),
               "industry_code": industry, "size_class": c.enum(size), "employees": emp, "revenue": rev,
               "total_assets": assets, "status": c.enum(status), "bank_account": account, "bank_code": bank,
               "account_name": acc_name}  # fmt: skip
        self.rows["units"].append(row)
        return row

    # -- roster: persons at the start of Y, leavers and joiners in Y, rehires and overlapping spells ---------
    def roster(self, code: str) -> None:
        r, c, y = self.rng, self.cells, self.year
        shape = r.random()
        if shape < 0.08:
            return  # no roster at all
        cap = self.p.get("headcount_cap")
        if cap and shape < 0.16:
            n = cap + r.choice([-1, 0, 1, 2])
        elif cap and cap < 30 and shape < 0.85:
            n = r.randrange(0, cap + 1)
        elif shape < 0.5:
            n = r.randrange(1, 31)
        else:
            n = r.randrange(0, 60)
        leavers = r.choice([0, 0, 1, 2, max(0, round(n * 0.06)), max(0, round(n * 0.2)), r.randrange(0, n + 1)])
        leavers = min(leavers, n)
        joiners = r.choice([0, 0, 1, r.randrange(0, 5)])
        year_start, year_end = dt.date(y, 1, 1), dt.date(y, 12, 31)
        for i in range(n):
            self.persons += 1
            pid = person_id(r, self.persons)
            start = year_start - dt.timedelta(days=r.randrange(1, 3000))
            end, reason = None, ""
            if i < leavers:
                end = year_start + dt.timedelta(days=r.randrange(0, 364))
                reason = r.choice(["dismissal", "resignation", "contract_end", "retirement", "death", "transfer", "other", ""])
            elif r.random() < 0.05:
                end = year_end + dt.timedelta(days=r.randrange(0, 400))  # leaves after Y: counted at its end
                reason = "resignation"
            self.rows["roster"].append(self.spell(pid, code, start, end, reason))
            if r.random() < 0.05:  # an overlapping second spell of the same person: counted once
                self.rows["roster"].append(self.spell(pid, code, start + dt.timedelta(days=10), None, ""))
        for _ in range(joiners):
            self.persons += 1
            pid = person_id(r, self.persons)
            start = year_start + dt.timedelta(days=r.randrange(0, 365))
            self.rows["roster"].append(self.spell(pid, code, start, None, ""))
        if r.random() < 0.2:  # spells on the days counted: ended the day before or on 31 Dec of Y-1, started on 31 Dec of Y
            self.persons += 1
            pid = person_id(r, self.persons)
            start, end = r.choice([(dt.date(y - 3, 5, 1), dt.date(y - 1, 12, 30)), (dt.date(y - 3, 5, 1), dt.date(y - 1, 12, 31)),
                                   (dt.date(y, 12, 31), None), (dt.date(y - 1, 12, 31), dt.date(y - 1, 12, 31))])  # fmt: skip
            self.rows["roster"].append(self.spell(pid, code, start, end, "resignation" if end else ""))
        _ = c

    def spell(self, pid: str, code: str, start: dt.date, end: dt.date | None, reason: str) -> dict:
        c = self.cells
        return {
            "person_id": pid,
            "uscc": code,
            "start_date": c.date(start),
            "end_date": c.date(end),
            "end_reason": c.enum(reason),
        }

    # -- payments: monthly premiums of Y (and Y-1, Y+1) paid on time, late, in parts, after the cut-off, never ----
    def payments(self, code: str) -> None:
        r, y = self.rng, self.year
        shape = r.random()
        if shape < 0.08:
            return
        if shape < 0.11:  # one fen of premium in Y: a refund under one fen (AMOUNT_ZERO)
            self.pay(code, y, 6, 1, 0, 1, 0, dt.date(y, 6, 15))
            return
        monthly = r.choice(
            [0, 1, r.randrange(100, 500_000), r.randrange(100_000, 20_000_000)] + [r.randrange(100, 2_000_000)] * 6
        )
        months = [(y, m) for m in range(1, 13)]
        months += [(y - 1, m) for m in r.sample(range(1, 13), r.randrange(0, 3))]
        months += [(y + 1, m) for m in r.sample(range(1, 13), r.randrange(0, 3))]
        behaviour = r.choice(
            ["ontime"] * 6 + ["late_before", "late_before", "late_after", "partial", "unpaid", "mixed", "overpaid"]
        )
        for year, month in months:
            unit_due = monthly
            staff_due = monthly // 2
            how = behaviour if behaviour != "mixed" else r.choice(["ontime", "late_before", "late_after", "partial", "unpaid"])
            if r.random() < 0.6 and how not in ("ontime",) and behaviour != "mixed":
                how = "ontime"  # most months of a late payer are still on time
            on_time = dt.date(year, month, 1) + dt.timedelta(days=r.randrange(-20, 40))  # some paid ahead, before their month
            if how == "ontime" or how == "overpaid":
                extra = r.randrange(0, 5000) if how == "overpaid" else 0
                self.pay(code, year, month, unit_due, staff_due, unit_due + extra, staff_due, on_time)
            elif how == "late_before":
                day = r.choice([self.cutoff, self.cutoff - dt.timedelta(days=r.randrange(1, 300))])
                self.pay(code, year, month, unit_due, staff_due, unit_due, staff_due, day, late=True)
            elif how == "late_after":
                day = self.cutoff + dt.timedelta(days=r.randrange(1, 90))
                self.pay(code, year, month, unit_due, staff_due, unit_due, staff_due, day, late=True)
            elif how == "partial":
                first = unit_due // 3
                self.pay(code, year, month, unit_due, staff_due, first, 0, on_time)
                self.pay(code, year, month, 0, 0, unit_due - first, staff_due, on_time + dt.timedelta(days=r.randrange(1, 500)))
            else:
                self.pay(code, year, month, unit_due, staff_due, 0, 0, None)

    def pay(self, code, year, month, unit_due, staff_due, unit_paid, staff_paid, day, late=False) -> None:
        c = self.cells
        late_fee = c.money(self.rng.randrange(1, 9999)) if late else self.rng.choice(["", c.money(0)])
        self.rows["payments"].append({
            "uscc": code, "fee_month": c.month(year, month), "unit_due": c.money(unit_due), "staff_due": c.money(staff_due),
            "unit_paid": c.money(unit_paid), "staff_paid": c.money(staff_paid), "paid_date": c.date(day), "late_fee": late_fee})  # fmt: skip

    # -- lists --------------------------------------------------------------------------------------------
    def around_cutoff(self) -> dt.date:
        r = self.rng
        return self.cutoff + dt.timedelta(days=r.choice([-400, -30, -1, 0, 1, 30]) + r.randrange(0, 3))

    def lists(self, code: str) -> None:
        r, c = self.rng, self.cells
        if r.random() < 0.1:
            listed = self.around_cutoff()
            removed = r.choice(
                [None, None, listed + dt.timedelta(days=r.randrange(0, 500)), self.cutoff, self.cutoff + dt.timedelta(days=1)]
            )
            if removed is not None and removed < listed:
                removed = listed
            self.rows["lists/dishonest"].append({"uscc": code, "listed_date": c.date(listed), "removed_date": c.date(removed)})
        if r.random() < 0.07:
            self.rows["lists/zombie"].append({"uscc": code, "listed_date": c.date(self.around_cutoff())})
        if r.random() < 0.12:
            self.rows["lists/other_subsidies"].append({
                "uscc": code, "subsidy_type": r.choice(SUBSIDY_TYPES), "year": str(r.choice([self.year, self.year, self.year - 1])),
                "amount": c.money(r.randrange(0, 10**7))})  # fmt: skip
        if r.random() < (0.6 if self.p.get("difficulty_list_required") else 0.1):
            self.rows["lists/difficulty"].append({"uscc": code, "recognised_date": c.date(self.around_cutoff())})

    def region_funds(self, region: str, missing: bool) -> None:
        r, c = self.rng, self.cells
        for year in (self.year - 1, self.year, self.year + 1):
            if missing and year == self.year:
                continue
            expenditure = r.randrange(100_000, 10**9)
            months = r.choice([3, 11, 12, 24, 24, 30, 30, 30])
            balance = expenditure * months + r.choice([-1, 0, 0, 1, 12345])
            if r.random() < 0.05:
                balance = -r.randrange(1, 10**8)
            self.rows["region_funds"].append({
                "region_code": region, "fund_year": str(year), "balance": ("-" if balance < 0 else "") + c.money(abs(balance)),
                "monthly_expenditure": c.money(expenditure), "adjustment_approved": r.choice(["true", "false", "True", "FALSE"]),
                "registered_unemployment_rate": r.choice(["0.04", "0.035", "0.055", "0.1", "0.0625"]),
                "avg_monthly_benefit": c.money(r.randrange(100_000, 250_000))})  # fmt: skip


def build(seed: int, policy_id: str) -> DropBuilder:
    b = DropBuilder(seed, policy_id)
    r = b.rng
    regions = list(b.p["regions"])
    chosen = r.sample(regions, min(len(regions), r.randrange(2, 5)))
    outside = "211400" if regions[0].startswith("15") else "150200"
    n_units = r.randrange(30, 81)
    serial = r.randrange(10**6, 10**8)
    for i in range(n_units):
        region = outside if i == 0 else r.choice(chosen)
        row = b.unit(serial + i, region)
        b.units.append(row)
        b.roster(row["uscc"])
        b.payments(row["uscc"])
        b.lists(row["uscc"])
    for _ in range(r.randrange(0, 3)):  # list and prior rows of units the register does not know
        ghost = valid_uscc(r.choice(chosen), serial + 10**6 + r.randrange(1000))
        b.rows["lists/dishonest"].append({"uscc": ghost, "listed_date": b.cells.date(b.around_cutoff()), "removed_date": ""})
        b.rows["lists/zombie"].append({"uscc": ghost, "listed_date": b.cells.date(b.around_cutoff())})
        b.rows["lists/difficulty"].append({"uscc": ghost, "recognised_date": b.cells.date(b.around_cutoff())})
        b.rows["lists/other_subsidies"].append(
            {"uscc": ghost, "subsidy_type": "startup_leader", "year": str(b.year), "amount": "1"}
        )
        b.rows["prior_disbursements"].append(
            {"uscc": ghost, "policy_id": policy_id, "amount": "100.00", "paid_date": "2021-03-01"}
        )
    b.missing_region = chosen[-1] if r.random() < 0.12 else None
    for region in chosen + [outside]:
        b.region_funds(region, missing=region == b.missing_region)
    return b


def write(b: DropBuilder, out: Path, optional_modes: dict[str, str]) -> None:
    wr = random.Random(b.rng.random())
    for name, columns in HEADERS.items():
        path = out / f"{name}.csv"
        if path.exists():
            path.unlink()
        mode = optional_modes.get(name, "rows")
        if name in OPTIONAL:  # the contract gives the lists and prior disbursements no Chinese aliases
            columns = [(en, "") for en, _ in columns]
        if mode == "missing":
            continue
        cols = columns
        if name == "payments" and wr.random() < 0.3:
            cols = columns[:-1]  # late_fee is optional
        write_csv(path, cols, [] if mode == "header" else b.rows[name], wr)
