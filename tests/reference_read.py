"""The reference's reading of a data drop (CONTRACT.md section 1), row by row with the csv module: encodings, headers in
either language, each cell checked and typed as its column's kind, the row rules (duplicates, end before start, paid
without a date, removal before listing); a row failing any of them is quarantined, never used.
"""

import codecs
import csv
import datetime as dt
import io
import re
from fractions import Fraction
from pathlib import Path

ALIASES = {
    "uscc": "统一社会信用代码", "unit_name": "单位名称", "region_code": "统筹地区代码", "unit_type": "单位类型",
    "industry_code": "行业代码", "size_class": "企业划型", "employees": "从业人员", "revenue": "营业收入",
    "total_assets": "资产总额", "status": "单位状态", "bank_account": "基本存款账户", "bank_code": "开户行行号",
    "account_name": "账户名称", "person_id": "公民身份号码", "start_date": "参保日期", "end_date": "停保日期",
    "end_reason": "停保原因", "fee_month": "费款所属期", "unit_due": "单位应缴", "staff_due": "个人应缴", "unit_paid": "单位实缴",
    "staff_paid": "个人实缴", "paid_date": "缴费日期", "late_fee": "滞纳金", "fund_year": "年度", "balance": "滚存结余",
    "monthly_expenditure": "月均支出", "adjustment_approved": "省级调剂金", "registered_unemployment_rate": "城镇登记失业率",
    "avg_monthly_benefit": "月人均失业保险金", "listed_date": "列入日期", "removed_date": "移出日期", "subsidy_type": "补贴类型",
    "year": "年度", "amount": "金额", "recognised_date": "认定日期", "policy_id": "政策编号", "claim_date": "申领日期",
}  # fmt: skip
# the files whose columns have an alias (README: the additions of issues 16 and 17 give theirs)
ALIASED = ("units", "roster", "payments", "region_funds", "si_premiums_due", "benefit_claims", "contribution_accounts")
# README (issue 17 item 4): si_premiums_due.csv names its two amounts for every social insurance, not the UI premium's;
# (issue 16) contribution_accounts.csv names the tax bureau's account 缴费账号
OWN_ALIASES = {
    "si_premiums_due": {**ALIASES, "unit_due": "单位应缴社会保险费", "staff_due": "个人应缴社会保险费"},
    "contribution_accounts": {**ALIASES, "bank_account": "缴费账号"},
}
ENUMS = {
    "unit_type": {"enterprise": "企业", "social_org": "社会团体", "foundation": "基金会", "social_service_org": "社会服务机构",
                  "law_firm": "律师事务所", "accounting_firm": "会计师事务所", "individual_business": "个体工商户",
                  "public_institution": "机关事业单位", "other": "其他"},
    "size_class": {"large": "大型", "medium": "中型", "small": "小型", "micro": "微型"},
    "status": {"active": "正常", "cancelled": "注销", "revoked": "吊销", "abnormal": "经营异常"},
    "end_reason": {"dismissal": "解除劳动合同", "resignation": "辞职", "contract_end": "合同到期", "retirement": "退休",
                   "death": "死亡", "transfer": "转移", "other": "其他"},
}  # fmt: skip
# (column, kind, may be empty) per file, as CONTRACT.md section 1 lists them.
FILES = {
    "units": [("uscc", "uscc", 0), ("unit_name", "text", 0), ("region_code", "region", 0), ("unit_type", "unit_type", 0),
              ("industry_code", "industry", 1), ("size_class", "size_class", 1), ("employees", "count", 1),
              ("revenue", "money", 1), ("total_assets", "money", 1), ("status", "status", 0), ("bank_account", "digits", 1),
              ("bank_code", "cnaps", 1), ("account_name", "text", 1)],
    "roster": [("person_id", "person_id", 0), ("uscc", "uscc", 0), ("start_date", "date", 0), ("end_date", "date", 1),
               ("end_reason", "end_reason", 1)],
    "payments": [("uscc", "uscc", 0), ("fee_month", "month", 0), ("unit_due", "money", 0), ("staff_due", "money", 0),
                 ("unit_paid", "money", 0), ("staff_paid", "money", 0), ("paid_date", "date", 1), ("late_fee", "money", 1)],
    "region_funds": [("region_code", "region", 0), ("fund_year", "year", 0), ("balance", "signed_money", 0),
                     ("monthly_expenditure", "money", 0), ("adjustment_approved", "bool", 0),
                     ("registered_unemployment_rate", "ratio", 1), ("avg_monthly_benefit", "money", 1)],
    "lists/dishonest": [("uscc", "uscc", 0), ("listed_date", "date", 0), ("removed_date", "date", 1)],
    "lists/zombie": [("uscc", "uscc", 0), ("listed_date", "date", 0)],
    "lists/other_subsidies": [("uscc", "uscc", 0), ("subsidy_type", "text", 0), ("year", "year", 0), ("amount", "money", 0)],
    "lists/difficulty": [("uscc", "uscc", 0), ("recognised_date", "date", 0)],
    "prior_disbursements": [("uscc", "uscc", 0), ("policy_id", "text", 0), ("amount", "money", 0), ("paid_date", "date", 0)],
    "si_premiums_due": [("uscc", "uscc", 0), ("fee_month", "month", 0), ("unit_due", "money", 0), ("staff_due", "money", 0)],
    # README, additions of issue 16: every column required
    "benefit_claims": [("person_id", "person_id", 0), ("uscc", "uscc", 0), ("claim_date", "date", 0)],
    "contribution_accounts": [("uscc", "uscc", 0), ("bank_account", "digits", 0), ("bank_code", "cnaps", 0),
                              ("account_name", "text", 0)],
}  # fmt: skip
USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"


def uscc_ok(s: str) -> bool:
    if not re.fullmatch(r"[0-9]{8}[0-9A-HJ-NPQRTUWXY]{10}", s):
        return False
    total = sum(USCC_CHARS.index(ch) * pow(3, i, 31) for i, ch in enumerate(s[:17]))
    return USCC_CHARS[(31 - total % 31) % 31] == s[17]


def person_ok(s: str) -> bool:
    if not re.fullmatch(r"[0-9]{17}[0-9X]", s) or parse_date(s[6:14]) is None:
        return False
    total = sum(int(ch) * pow(2, 17 - i, 11) for i, ch in enumerate(s[:17]))
    return "10X98765432"[total % 11] == s[17]


def parse_date(s: str):
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}|\d{4}/\d{2}/\d{2}|\d{8}", s):
        return None
    digits = s.replace("-", "").replace("/", "")
    try:
        return dt.date(int(digits[:4]), int(digits[4:6]), int(digits[6:]))
    except ValueError:
        return None


def parse(kind: str, s: str):
    """The typed value of a non-empty cell, or raise ValueError."""
    if kind == "uscc" or kind == "person_id":
        v = s.replace(" ", "").upper()
        if not (uscc_ok(v) if kind == "uscc" else person_ok(v)):
            raise ValueError(kind)
        return v
    if kind in ENUMS:
        for en, zh in ENUMS[kind].items():
            if s in (en, zh):
                return en
        raise ValueError(kind)
    checks = {"region": r"\d{6}", "industry": r"[A-T]\d{2,4}", "count": r"\d{1,12}", "year": r"(19|20)\d{2}",
              "money": r"\d{1,14}(\.\d{1,2})?", "signed_money": r"-?\d{1,14}(\.\d{1,2})?", "digits": r"\d{6,32}",
              "cnaps": r"\d{12}", "ratio": r"0(\.\d{1,8})?|1(\.0{1,8})?|\.\d{1,8}", "bool": r"(?i)true|false",
              "month": r"\d{4}-?(0[1-9]|1[0-2])", "text": r"(?s).*"}  # fmt: skip
    if kind == "date":
        d = parse_date(s)
        if d is None:
            raise ValueError(kind)
        return d
    if not re.fullmatch(checks[kind], s):
        raise ValueError(kind)
    if kind in ("money", "signed_money"):
        sign = -1 if s.startswith("-") else 1
        whole, _, frac = s.lstrip("-").partition(".")
        return sign * (int(whole) * 100 + int((frac + "00")[:2]))
    if kind in ("count", "year"):
        return int(s)
    if kind == "ratio":
        return Fraction(s)
    if kind == "bool":
        return s.lower() == "true"
    if kind == "month":
        digits = s.replace("-", "")
        return (int(digits[:4]), int(digits[4:]))
    return s


def read(drop: Path, name: str) -> tuple[list[dict], list[dict]]:
    """Staged rows and quarantined rows of one file (typed where a cell parses; ``_key``: the USCC as written, normalised)."""
    path = drop / f"{name}.csv"
    if not path.exists():
        return [], []
    raw = path.read_bytes()
    if raw.startswith(codecs.BOM_UTF8):
        text = raw[3:].decode("utf-8")
    else:
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            text = raw.decode("gb18030")
    records = list(csv.reader(io.StringIO(text, newline="")))
    header = [h.strip() for h in records[0]]
    index = {}
    for col, _, _ in FILES[name]:
        for i, h in enumerate(header):
            if h == col or (h == OWN_ALIASES.get(name, ALIASES).get(col, ALIASES[col]) and name in ALIASED):
                index[col] = i
    staged = []
    for rec in records[1:]:
        row, bad, key = {}, False, None
        for col, kind, nullable in FILES[name]:
            cell = rec[index[col]].strip(" ") if col in index and index[col] < len(rec) else ""
            if col == "uscc" and cell:
                key = cell.replace(" ", "").upper()
            if cell == "":
                row[col] = None
                bad = bad or not nullable
                continue
            try:
                row[col] = parse(kind, cell)
            except ValueError:
                row[col], bad = None, True
        row["_bad"] = bad
        row["_key"] = key
        staged.append(row)
    row_rules(name, staged)
    return [r for r in staged if not r["_bad"]], [r for r in staged if r["_bad"]]


def row_rules(name: str, rows: list[dict]) -> None:
    """The contract's rules across cells and rows (README: duplicates)."""
    if name == "units":
        seen: dict[str, int] = {}
        for r in rows:
            if r["uscc"]:
                seen[r["uscc"]] = seen.get(r["uscc"], 0) + 1
        for r in rows:
            r["_bad"] |= seen.get(r["uscc"], 0) > 1
    if name == "roster":
        spells = set()
        for r in rows:
            if r["end_date"] and r["start_date"] and r["end_date"] < r["start_date"]:
                r["_bad"] = True
            if r["person_id"] and r["uscc"] and r["start_date"]:
                spell = (r["person_id"], r["uscc"], r["start_date"])
                r["_bad"] |= spell in spells
                spells.add(spell)
    if name == "payments":
        for r in rows:
            if r["paid_date"] is None and (r["unit_paid"] or 0) + (r["staff_paid"] or 0) > 0:
                r["_bad"] = True
    if name == "region_funds":
        count: dict = {}
        for r in rows:
            count[(r["region_code"], r["fund_year"])] = count.get((r["region_code"], r["fund_year"]), 0) + 1
        for r in rows:
            r["_bad"] |= r["monthly_expenditure"] == 0 or count[(r["region_code"], r["fund_year"])] > 1
    if name == "si_premiums_due":  # one row per unit and fee month: a repeated one is refused, the first kept
        months = set()
        for r in rows:
            if r["uscc"] and r["fee_month"]:
                r["_bad"] |= (r["uscc"], r["fee_month"]) in months
                months.add((r["uscc"], r["fee_month"]))
    if name == "benefit_claims":  # the same (person, unit, claim_date) sent again: the later lines refused
        claims = set()
        for r in rows:
            if r["person_id"] and r["uscc"] and r["claim_date"]:
                claim = (r["person_id"], r["uscc"], r["claim_date"])
                r["_bad"] |= claim in claims
                claims.add(claim)
    if name == "contribution_accounts":  # a USCC on two lines: every such line (which account would be paid?)
        lines: dict[str, int] = {}
        for r in rows:
            if r["uscc"]:
                lines[r["uscc"]] = lines.get(r["uscc"], 0) + 1
        for r in rows:
            r["_bad"] |= lines.get(r["uscc"], 0) > 1
    if name == "lists/dishonest":
        for r in rows:
            if r["removed_date"] and r["listed_date"] and r["removed_date"] < r["listed_date"]:
                r["_bad"] = True
