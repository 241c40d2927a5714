"""Hand-made units at the boundaries of the rules, built in code.

``DropBuilder`` makes one unit at a time from the figures a rule looks at (headcounts at the start and end of
the assessed year, the premium paid, arrears, lists, account) and gives pyarrow tables in the contract's
columns. The tests build their drops with it; ``add`` appends the named boundary units to a generated drop
(the bundled samples), so that every reason code shows up there.
"""

import datetime as dt
from dataclasses import dataclass, field

import pyarrow as pa
import pyarrow.compute as pc
from stdnum.cn import ric
from stdnum.cn import uscc as uscc_mod

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"


def make_uscc(region: str, serial: int) -> str:
    body = f"91{region}{serial:09d}"
    return body + uscc_mod.calc_check_digit(body)


def make_person_id(k: int) -> str:
    birth = dt.date(1970, 1, 1) + dt.timedelta(days=k // 1000 % 12000)
    body = f"210102{birth:%Y%m%d}{k % 1000:03d}"
    return body + ric.calc_check_digit(body + "0")


def fen_text(fen: int) -> str:
    return f"{fen // 100}.{fen % 100:02d}"


@dataclass
class DropBuilder:
    """A small drop for assessed year ``y``; units are added with the figures the rules compare."""

    y: int = 2020
    serial: int = 900_000_000
    person: int = 5_000_000
    units: list[dict] = field(default_factory=list)
    roster: list[dict] = field(default_factory=list)
    payments: list[dict] = field(default_factory=list)
    region_funds: list[dict] = field(default_factory=list)
    dishonest: list[dict] = field(default_factory=list)
    zombie: list[dict] = field(default_factory=list)
    other_subsidies: list[dict] = field(default_factory=list)
    difficulty: list[dict] = field(default_factory=list)
    prior_disbursements: list[dict] = field(default_factory=list)
    benefit_claims: list[dict] = field(default_factory=list)  # written only when a case adds one (optional file)
    si_premiums_due: list[dict] = field(default_factory=list)  # likewise (social-insurance premiums due, issue 17)
    contribution_accounts: list[dict] = field(default_factory=list)  # the tax bureau's accounts (optional file)

    def fund(self, region: str, months: float = 24, adjustment: bool = False, year: int | None = None,
             unemployment_rate: str | None = "0.042", benefit: str | None = "1550.00") -> None:  # fmt: skip
        expenditure = 10_000_000_00
        self.region_funds.append({
            "region_code": region, "fund_year": year or self.y, "balance": fen_text(int(expenditure * months)),
            "monthly_expenditure": fen_text(expenditure), "adjustment_approved": "true" if adjustment else "false",
            "registered_unemployment_rate": unemployment_rate, "avg_monthly_benefit": benefit,
        })  # fmt: skip

    def unit(
        self,
        region: str,
        *,
        name: str = "大连华兴机械有限公司",
        unit_type: str = "enterprise",
        size_class: str | None = "small",
        industry: str | None = "C3411",
        employees: int | None = None,
        revenue: int | None = None,
        total_assets: int | None = None,
        status: str = "active",
        start: int = 10,
        end: int | None = None,
        natural_exits: int = 0,
        leave_on: dt.date | None = None,
        monthly_premium: int = 100_00,
        account: bool = True,
        account_name: str | None = None,
        bank_account: str | None = None,
    ) -> str:
        """Add a unit insured with ``start`` persons on 31 Dec of Y-1 and ``end`` on 31 Dec of Y; returns its USCC.

        Leavers end on ``leave_on`` (30 June of Y unless given); the first ``natural_exits`` of them retire.
        ``monthly_premium`` fen is due and paid (unit and staff each) for every fee month of Y, in Y.
        Each unit has an account of its own (from its serial number) unless ``bank_account`` names one.
        """
        self.serial += 1
        code = make_uscc(region, self.serial)
        end = start if end is None else end
        self.units.append({
            "uscc": code, "unit_name": name, "region_code": region, "unit_type": unit_type,
            "industry_code": industry, "size_class": size_class,
            "employees": None if employees is None else str(employees),
            "revenue": None if revenue is None else fen_text(revenue),
            "total_assets": None if total_assets is None else fen_text(total_assets),
            "status": status,
            "bank_account": (bank_account or f"62220202{self.serial:08d}") if account else None, "bank_code": "102222000011" if account else None,
            "account_name": (account_name or name) if account else None,
        })  # fmt: skip
        leave = leave_on or dt.date(self.y, 6, 30)
        for i in range(max(start, end)):
            self.person += 1
            if i < start:
                s, e = dt.date(self.y - 3, 3, 1), (leave if i < start - end else None)
                reason = ("retirement" if i < natural_exits else "resignation") if e else None
            else:
                s, e, reason = dt.date(self.y, 4, 1), None, None
            self.roster.append({"person_id": make_person_id(self.person), "uscc": code, "start_date": s.isoformat(),
                                "end_date": e.isoformat() if e else None, "end_reason": reason})  # fmt: skip
        for month in range(1, 13):
            self.pay(code, f"{self.y}-{month:02d}", monthly_premium, monthly_premium, dt.date(self.y, month, 15))
        return code

    def pay(self, code: str, fee_month: str, due: int, paid: int, paid_date: dt.date | None, late_fee: int = 0) -> None:
        """One premium row: ``due`` and ``paid`` fen each for the unit and the staff side."""
        self.payments.append({
            "uscc": code, "fee_month": fee_month, "unit_due": fen_text(due), "staff_due": fen_text(due),
            "unit_paid": fen_text(paid), "staff_paid": fen_text(paid),
            "paid_date": paid_date.isoformat() if paid_date else None, "late_fee": fen_text(late_fee),
        })  # fmt: skip

    def si_due(self, code: str, monthly: list[int]) -> None:
        """Social-insurance premiums due (fen, unit + staff) for the last len(monthly) fee months of Y, the unit's part
        two thirds (si_premiums_due.csv)."""
        for k, fen in enumerate(monthly):
            unit = fen * 2 // 3
            self.si_premiums_due.append({"uscc": code, "fee_month": f"{self.y}-{12 - len(monthly) + 1 + k:02d}",
                                         "unit_due": fen_text(unit), "staff_due": fen_text(fen - unit)})  # fmt: skip

    def tables(self) -> dict[str, pa.Table]:
        out = {}
        for name in ("units", "roster", "payments", "region_funds", "dishonest", "zombie", "other_subsidies",
                     "difficulty", "prior_disbursements", "benefit_claims", "si_premiums_due",
                     "contribution_accounts"):  # fmt: skip
            rows = getattr(self, name)
            if rows:
                out[name] = pa.Table.from_pylist([{k: (None if v is None else str(v)) for k, v in r.items()} for r in rows])
        return out


def boundary_units(b: DropBuilder, region: str) -> dict[str, str]:
    """The named boundary units of POLICY_RULES (LN-2021 figures); returns name -> USCC."""
    y = b.y
    u = {}
    u["cap_200"] = b.unit(region, start=200, end=200, size_class="medium", name="辽宁恒泰重工有限公司")
    u["cap_201"] = b.unit(region, start=201, end=201, size_class="medium", name="辽宁恒泰船舶有限公司")
    u["layoff_6pct"] = b.unit(region, start=100, end=94, name="辽宁宏达化工有限公司")
    u["layoff_7pct"] = b.unit(region, start=100, end=93, name="辽宁宏达塑料有限公司")
    u["small30_20pct"] = b.unit(region, start=37, end=30, name="大连瑞丰商贸有限公司")  # 7/37 = 18.9% <= 20%
    u["small31_general"] = b.unit(region, start=38, end=31, name="大连瑞丰物流有限公司")  # 7/38 > 6%, not small
    u["small_exact_20pct"] = b.unit(region, start=35, end=28, name="大连瑞丰食品有限公司")  # 7/35 = 20% exactly
    u["small_over_20pct"] = b.unit(region, start=35, end=27, name="大连瑞丰包装有限公司")  # 8/35 > 20%
    u["leave_dec31"] = b.unit(region, start=50, end=47, leave_on=dt.date(y, 12, 31), name="沈阳广和电子有限公司")
    late = b.unit(region, name="沈阳金源建材有限公司", monthly_premium=0)
    for month in range(1, 13):
        b.pay(late, f"{y}-{month:02d}", 500_00, 500_00, dt.date(y, month, 20), late_fee=12_34 if month == 5 else 0)
    u["late_fee"] = late
    back = b.unit(region, name="沈阳金源钢构有限公司")
    b.pay(back, f"{y - 1}-11", 0, 800_00, dt.date(y, 2, 1))  # back-payment of an earlier year: not in the base
    u["back_payment"] = back
    paid_up = b.unit(region, name="鞍山东方铸造有限公司", monthly_premium=0)
    for month in range(1, 13):
        b.pay(paid_up, f"{y}-{month:02d}", 300_00, 300_00, dt.date(y + 1, 2, 10) if month == 12 else dt.date(y, month, 10))
    u["arrears_paid_up"] = paid_up
    owing = b.unit(region, name="鞍山东方锻造有限公司", monthly_premium=0)
    for month in range(1, 13):
        b.pay(owing, f"{y}-{month:02d}", 300_00, 0 if month == 12 else 300_00, None if month == 12 else dt.date(y, month, 10))
    u["arrears_outstanding"] = owing
    u["dishonest_removed"] = b.unit(region, name="营口新光玻璃有限公司")
    b.dishonest.append({"uscc": u["dishonest_removed"], "listed_date": f"{y}-03-01", "removed_date": f"{y + 1}-06-30"})
    u["dishonest_listed"] = b.unit(region, name="营口新光陶瓷有限公司")
    b.dishonest.append({"uscc": u["dishonest_listed"], "listed_date": f"{y}-03-01", "removed_date": None})
    u["fullwidth_account"] = b.unit(region, name="大连明辉(集团)有限公司", account_name="大连明辉（集团）有限公司")
    u["account_mismatch"] = b.unit(region, name="大连明辉科技有限公司", account_name="大连明辉科技有限公司沙河口分公司")
    u["no_account"] = b.unit(region, name="大连明辉贸易有限公司", account=False)
    # floor: 12 × 2 × 138.91 = 3333.84 yuan; × 60% = 2000.304 -> 2000.30; 138.92 -> 3334.08 × 60% = 2000.448
    u["floor_fen"] = b.unit(region, name="锦州永安包装有限公司", monthly_premium=138_91)
    u["floor_round_up"] = b.unit(region, name="锦州永安纸业有限公司", monthly_premium=138_99)  # 3335.76 × .6 = 2001.456
    u["large"] = b.unit(region, start=150, size_class="large", name="辽宁华兴钢铁股份有限公司")
    u["size_derived_large"] = b.unit(region, start=150, size_class=None, industry="C3110", employees=1200,
                                     revenue=500_000_000_00, name="辽宁华兴特钢有限公司")  # fmt: skip
    u["size_missing"] = b.unit(region, size_class=None, industry=None, name="辽宁华兴物资有限公司")
    u["social_org"] = b.unit(region, unit_type="social_org", size_class=None, industry=None, name="辽宁省机械行业协会")
    u["public_institution"] = b.unit(region, unit_type="public_institution", size_class=None, name="某市第一中学")
    u["cancelled"] = b.unit(region, status="cancelled", name="丹东宇晨服装有限公司")
    u["zombie"] = b.unit(region, name="丹东宇晨纺织有限公司")
    b.zombie.append({"uscc": u["zombie"], "listed_date": f"{y}-08-01"})
    u["no_premium"] = b.unit(region, name="丹东宇晨针织有限公司", monthly_premium=0)
    u["already_paid"] = b.unit(region, name="本溪华丰药业有限公司", monthly_premium=100_00)  # 2400.00 × 60% = 1440.00
    b.prior_disbursements.append(
        {"uscc": u["already_paid"], "policy_id": "LN-2021", "amount": "1440.00", "paid_date": f"{y + 1}-05-01"}
    )
    u["top_up"] = b.unit(region, name="本溪华丰化工有限公司", monthly_premium=100_00)
    b.prior_disbursements.append({"uscc": u["top_up"], "policy_id": "LN-2021", "amount": "720.00", "paid_date": f"{y + 1}-05-01"})
    u["double_dip"] = b.unit(region, name="本溪华丰机电有限公司")
    b.other_subsidies.append(
        {"uscc": u["double_dip"], "subsidy_type": "si_subsidy_hard_to_employ", "year": str(y), "amount": "5000.00"}
    )
    u["difficulty"] = b.unit(region, name="本溪华丰矿业有限公司")
    b.difficulty.append({"uscc": u["difficulty"], "recognised_date": f"{y + 1}-05-20"})
    # fraud signals (reference/account_signals.yaml): one account registered for two employers; an account in the
    # name of another unit of the register
    u["shared_account_1"] = b.unit(region, name="沈阳博远商贸有限公司", bank_account="6222029900000001")
    u["shared_account_2"] = b.unit(region, name="沈阳博远物流有限公司", bank_account="6222029900000001")
    u["account_of_other_unit"] = b.unit(region, name="沈阳博远科技有限公司", account_name="辽宁华兴钢铁股份有限公司")
    return u


def add(tables: dict[str, pa.Table], y: int, regions: list[str]) -> dict[str, pa.Table]:
    """Append the boundary units (in the third region, whose reserve suffices) and an out-of-scope unit."""
    b = DropBuilder(y=y)
    region = sorted(regions)[min(2, len(regions) - 1)]
    boundary_units(b, region)
    b.unit("130100", name="河北某某有限公司")  # out of every Liaoning and Inner Mongolia policy's scope
    bad = b.unit(region, name="铁岭华兴机械有限公司")
    b.roster[-1]["person_id"] = b.roster[-1]["person_id"][:-1] + ("0" if b.roster[-1]["person_id"][-1] != "0" else "1")
    del bad
    b.units.append(
        dict(
            b.units[0],
            uscc=make_uscc(region, 999_999_999),
            unit_name="铁岭宏鑫有限公司",
            status="正在经营",
            bank_account="6222020299999999",
            account_name="铁岭宏鑫有限公司",
        )
    )
    return merge(tables, b)


def merge(tables: dict[str, pa.Table], b: DropBuilder) -> dict[str, pa.Table]:
    """The generated tables with a builder's rows appended; the builder's fund position replaces a region's generated one."""
    out = dict(tables)
    if "region_funds" in out and b.region_funds:
        mine = pa.array(sorted({r["region_code"] for r in b.region_funds}))
        funds = out["region_funds"]
        out["region_funds"] = funds.filter(pc.invert(pc.is_in(funds["region_code"], value_set=mine)))
    for name, extra in b.tables().items():
        if name in out:
            extra = extra.select(out[name].column_names).cast(out[name].schema)
            out[name] = pa.concat_tables([out[name], extra])
        else:
            out[name] = extra
    return out
