"""The files of a random drop (tests/random_drops.py): headers in either language, cells in every form the contract
allows, valid and spoilt check digits, the writer (encoding, header language, extra column, line ends), invalid rows."""

import csv
import datetime as dt
import random
from decimal import Decimal
from pathlib import Path

from stdnum.cn import ric, uscc

ENUM_ZH = {
    "enterprise": "企业", "social_org": "社会团体", "foundation": "基金会", "social_service_org": "社会服务机构",
    "law_firm": "律师事务所", "accounting_firm": "会计师事务所", "individual_business": "个体工商户",
    "public_institution": "机关事业单位", "other": "其他", "large": "大型", "medium": "中型", "small": "小型",
    "micro": "微型", "active": "正常", "cancelled": "注销", "revoked": "吊销", "abnormal": "经营异常",
    "dismissal": "解除劳动合同", "resignation": "辞职", "contract_end": "合同到期", "retirement": "退休", "death": "死亡",
    "transfer": "转移",
}  # fmt: skip
HEADERS = {
    "units": [("uscc", "统一社会信用代码"), ("unit_name", "单位名称"), ("region_code", "统筹地区代码"),
              ("unit_type", "单位类型"), ("industry_code", "行业代码"), ("size_class", "企业划型"),
              ("employees", "从业人员"), ("revenue", "营业收入"), ("total_assets", "资产总额"), ("status", "单位状态"),
              ("bank_account", "基本存款账户"), ("bank_code", "开户行行号"), ("account_name", "账户名称")],
    "roster": [("person_id", "公民身份号码"), ("uscc", "统一社会信用代码"), ("start_date", "参保日期"),
               ("end_date", "停保日期"), ("end_reason", "停保原因")],
    "payments": [("uscc", "统一社会信用代码"), ("fee_month", "费款所属期"), ("unit_due", "单位应缴"), ("staff_due", "个人应缴"),
                 ("unit_paid", "单位实缴"), ("staff_paid", "个人实缴"), ("paid_date", "缴费日期"), ("late_fee", "滞纳金")],
    "region_funds": [("region_code", "统筹地区代码"), ("fund_year", "年度"), ("balance", "滚存结余"),
                     ("monthly_expenditure", "月均支出"), ("adjustment_approved", "省级调剂金"),
                     ("registered_unemployment_rate", "城镇登记失业率"), ("avg_monthly_benefit", "月人均失业保险金")],
    "lists/dishonest": [("uscc", "统一社会信用代码"), ("listed_date", "列入日期"), ("removed_date", "移出日期")],
    "lists/zombie": [("uscc", "统一社会信用代码"), ("listed_date", "列入日期")],
    "lists/other_subsidies": [("uscc", "统一社会信用代码"), ("subsidy_type", "补贴类型"), ("year", "年度"), ("amount", "金额")],
    "lists/difficulty": [("uscc", "统一社会信用代码"), ("recognised_date", "认定日期")],
    "prior_disbursements": [("uscc", "统一社会信用代码"), ("policy_id", "政策编号"), ("amount", "金额"), ("paid_date", "拨付日期")],
    "si_premiums_due": [("uscc", "统一社会信用代码"), ("fee_month", "费款所属期"), ("unit_due", "单位应缴社会保险费"),
                        ("staff_due", "个人应缴社会保险费")],
    "benefit_claims": [("person_id", "公民身份号码"), ("uscc", "统一社会信用代码"), ("claim_date", "申领日期")],
    "contribution_accounts": [("uscc", "统一社会信用代码"), ("bank_account", "缴费账号"), ("bank_code", "开户行行号"),
                              ("account_name", "账户名称")],
}  # fmt: skip


class Cells:
    """How one drop spells its values: each cell picks a form the contract allows."""

    def __init__(self, rng: random.Random):
        self.rng = rng

    def date(self, d: dt.date | None) -> str:
        if d is None:
            return ""
        return self.rng.choice([d.isoformat(), d.strftime("%Y/%m/%d"), d.strftime("%Y%m%d")])

    def month(self, year: int, month: int) -> str:
        return self.rng.choice([f"{year}-{month:02d}", f"{year}{month:02d}"])

    def money(self, fen: int) -> str:
        yuan, cents = divmod(fen, 100)
        forms = [f"{yuan}.{cents:02d}"]
        if cents % 10 == 0:
            forms.append(f"{yuan}.{cents // 10}")
        if cents == 0:
            forms.append(str(yuan))
        return self.rng.choice(forms)

    def enum(self, value: str) -> str:
        return self.rng.choice([value, ENUM_ZH.get(value, value)]) if value else ""


def valid_uscc(region: str, serial: int) -> str:
    body = f"91{region}{serial:09d}"
    return body + uscc.calc_check_digit(body)


def bad_check(code: str, alphabet: str) -> str:
    return code[:-1] + next(c for c in alphabet if c != code[-1])


def person_id(rng: random.Random, k: int) -> str:
    born = dt.date(1960, 1, 1) + dt.timedelta(days=rng.randrange(15000))
    body = f"{rng.choice(['210102', '210202', '150102', '152201', '370102'])}{born:%Y%m%d}{k % 1000:03d}"
    return body + ric.calc_check_digit(body + "0")  # stdnum takes the number with a check digit in place


def write_csv(path: Path, columns: list[tuple[str, str]], rows: list[dict], rng: random.Random) -> None:
    """One file: English, Chinese or mixed header, maybe an extra column, UTF-8 / BOM / GB18030, LF or CRLF."""
    path.parent.mkdir(parents=True, exist_ok=True)
    lang = rng.choice(["en", "zh", "mixed"]) if columns[0][1] else "en"
    header = [en if lang == "en" or (lang == "mixed" and rng.random() < 0.5) else zh for en, zh in columns]
    names = [en for en, _ in columns]
    extra = rng.random() < 0.2
    if extra:
        header.append("备注")
    encoding = rng.choice(["utf-8", "utf-8-sig", "gb18030"])
    with path.open("w", encoding=encoding, newline="") as fh:
        w = csv.writer(fh, lineterminator=rng.choice(["\n", "\r\n"]))
        w.writerow(header)
        for row in rows:
            w.writerow([row.get(n, "") for n in names] + (["备注文字"] if extra else []))


def spoil(b, modes: dict[str, str]) -> list[str]:
    """A few invalid rows in the drop b (a DropBuilder), each making its unit INVALID_INPUT; returns the USCCs spoiled."""
    r, spoiled = b.rng, []
    units = [u for u in b.units[1:]]
    kinds = r.sample(["person_id", "end_before_start", "spell_twice", "paid_no_date", "three_decimals", "removed_before",
                          "register_check", "register_twice", "prior_bad_date"], r.randrange(0, 4))  # fmt: skip
    for kind in kinds:
        if (kind == "removed_before" and modes["lists/dishonest"] != "rows") or (
            kind == "prior_bad_date" and modes["prior_disbursements"] != "rows"
        ):
            continue
        unit = r.choice(units)
        units.remove(unit)
        code = unit["uscc"]
        if kind == "person_id":
            b.persons += 1
            b.rows["roster"].append({"person_id": bad_check(person_id(r, b.persons), "0123456789X"), "uscc": code,
                                     "start_date": "2015-01-01", "end_date": "", "end_reason": ""})  # fmt: skip
        elif kind == "end_before_start":
            b.persons += 1
            b.rows["roster"].append(b.spell(person_id(r, b.persons), code, dt.date(b.year, 6, 1), dt.date(b.year, 5, 1), "other"))
        elif kind == "spell_twice":  # the same spell on two lines, each date spelt as it comes: the later one refused
            b.persons += 1
            pid, start = person_id(r, b.persons), dt.date(b.year - 3, 3, 1)
            b.rows["roster"] += [b.spell(pid, code, start, None, ""), b.spell(pid, code, start, None, "")]
        elif kind == "paid_no_date":
            b.rows["payments"].append({"uscc": code, "fee_month": f"{b.year}-03", "unit_due": "10.00", "staff_due": "0",
                                       "unit_paid": "10", "staff_paid": "0", "paid_date": ""})  # fmt: skip
        elif kind == "three_decimals":
            b.rows["payments"].append({"uscc": code, "fee_month": f"{b.year}05", "unit_due": "10.125", "staff_due": "0",
                                       "unit_paid": "10", "staff_paid": "0", "paid_date": f"{b.year}0601"})  # fmt: skip
        elif kind == "removed_before":
            b.rows["lists/dishonest"].append({"uscc": code, "listed_date": f"{b.year}-06-01", "removed_date": f"{b.year}-05-01"})
        elif kind == "register_check":
            bad = bad_check(code, "0123456789ABCDEFGHJKLMNPQRTUWXY")
            for rows in b.rows.values():
                for row in rows:
                    if row.get("uscc") == code:
                        row["uscc"] = bad
            code = bad
        elif kind == "register_twice":
            b.rows["units"].append(dict(unit, unit_name=unit["unit_name"] + "分公司"))
        elif kind == "prior_bad_date":
            b.rows["prior_disbursements"].append(
                {"uscc": code, "policy_id": b.policy_id, "amount": "1.00", "paid_date": "2021-02-30"}
            )
        spoiled.append(code)
    return spoiled


def add_priors(b, formula: dict[str, int], policies) -> None:
    """Prior disbursements of any size against what the policy grants now: more, equal, less, another policy's."""
    r, c = b.rng, b.cells
    for unit in b.units:
        if r.random() > 0.3:
            continue
        due = formula.get(unit["uscc"], 0)
        pid = b.policy_id
        amount = r.choice([due, due, due + r.randrange(1, 10**6), max(due - r.randrange(1, 10**5), 0), due // 2, 0,
                           r.randrange(1, 10**9)])  # fmt: skip
        if r.random() < 0.15:
            pid = r.choice([p for p in policies if p != b.policy_id])
        parts = [amount] if amount < 2 or r.random() < 0.6 else [amount // 2, amount - amount // 2]
        for part in parts:
            b.rows["prior_disbursements"].append({"uscc": unit["uscc"], "policy_id": pid, "amount": c.money(part),
                                                  "paid_date": c.date(dt.date(b.year + 1, 3, 1) + dt.timedelta(days=r.randrange(200)))})  # fmt: skip


def write_control(b, out: Path, modes: dict[str, str], pick: float) -> str:
    """control.csv now and then: what each agency says it sent (rows, Σ paid or Σ amount), right or one row too many."""
    path = out / "control.csv"
    path.unlink(missing_ok=True)
    if pick < 0.7:
        return "none"
    lines = [["file", "rows", "amount_total"]]
    for name, amount_cols in (("units", ()), ("roster", ()), ("payments", ("unit_paid", "staff_paid")),
                              ("prior_disbursements", ("amount",))):  # fmt: skip
        if modes.get(name, "rows") == "missing":
            continue
        rows = b.rows[name] if modes.get(name, "rows") == "rows" else []
        total = sum(Decimal(r[c]) for r in rows for c in amount_cols)
        lines.append([f"{name}.csv", str(len(rows) + (1 if pick >= 0.95 and name == "payments" else 0)),
                      f"{total:.2f}" if amount_cols else ""])  # fmt: skip
    with path.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows(lines)
    return "wrong" if pick >= 0.95 else "right"


def add_si_premiums(b, seed: int, modes: dict[str, str]) -> list[str]:
    """si_premiums_due.csv (issue 17 item 4) for an Inner Mongolia drop, drawn apart from the rest of the drop: rows,
    header only or no file; units with all 12 months, a few, none, rows of other years, dues small and large against
    the benefit standard; now and then a month sent twice or a malformed cell (the unit INVALID_INPUT). Returns the
    USCCs spoiled."""
    r, c, y = random.Random(seed * 7919 + 3), b.cells, b.year
    modes["si_premiums_due"] = r.choice(["rows", "rows", "header", "missing"]) if b.policy_id.startswith("IM-") else "missing"
    if modes["si_premiums_due"] != "rows":
        return []
    spoiled = []
    for unit in b.units[1:]:
        if r.random() < 0.4:
            continue
        heads = sum(1 for s in b.rows["roster"] if s["uscc"] == unit["uscc"])
        scale = r.choice([50_000, 300_000, 600_000, 1_500_000]) * max(heads, 1)  # fen a month: 3 months near 6 of benefit
        months = [(y, m) for m in (range(1, 13) if r.random() < 0.6 else sorted(r.sample(range(1, 13), r.randrange(1, 12))))]
        if r.random() < 0.2:
            months.append((y + r.choice([-1, 1]), r.randrange(1, 13)))  # another year's month: not counted
        for year, month in months:
            due = r.randrange(0, scale + 1)
            unit_part = due * r.choice([1, 2, 3]) // 4
            b.rows["si_premiums_due"].append({"uscc": unit["uscc"], "fee_month": c.month(year, month),
                                              "unit_due": c.money(unit_part), "staff_due": c.money(due - unit_part)})  # fmt: skip
        if r.random() < 0.05:  # its last month sent twice, a month 13 or three decimals: quarantined
            row = dict(b.rows["si_premiums_due"][-1])
            row |= r.choice([{}, {"fee_month": f"{y}-13"}, {"unit_due": "1.005"}])
            b.rows["si_premiums_due"].append(row)
            spoiled.append(unit["uscc"])
    return spoiled
