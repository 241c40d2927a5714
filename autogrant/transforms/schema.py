"""The data drop as ../shared/CONTRACT.md section 1 defines it: files, columns, Chinese aliases, kinds.

A column's *kind* names the SQL macros (sql/00_macros.sql) that check and parse it:
``ok_<kind>(s)`` is true when a non-empty value is well-formed, ``to_<kind>(s)`` gives the typed value.
"""

from dataclasses import dataclass, field

from autogrant.transforms import reasons


@dataclass(frozen=True)
class Column:
    name: str
    alias: str
    kind: str
    required: bool = True  # the header must carry the column
    nullable: bool = False  # an empty value is allowed
    enum: str | None = None  # enum name in ENUMS for kind 'enum'
    what: str = ""  # how the kind reads in a quarantine message


@dataclass(frozen=True)
class FileSpec:
    name: str  # table stem: stg_<name>, raw_<name>
    path: str  # relative path in the drop (without the extension for lists/bank_returns)
    columns: tuple[Column, ...]
    required: bool = True
    glob: bool = False  # several files (bank_returns/*.csv)
    amount_columns: tuple[str, ...] = field(default=())  # what control.csv's amount_total sums

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)


def _c(name, alias, kind, **kw):
    return Column(name, alias, kind, **kw)


def _opt(name, alias, kind, **kw):
    """A column the header may leave out and a row may leave empty."""
    return _c(name, alias, kind, required=False, nullable=True, **kw)


def _file(name: str, *columns: Column, path: str = "", optional: bool = False, glob: bool = False, amount=()) -> FileSpec:
    """A file of the drop; its path is its name unless given (lists/…); amount: what control.csv's amount_total sums."""
    return FileSpec(name, path or name, columns, required=not optional, glob=glob, amount_columns=tuple(amount))


# Enum values: canonical English name -> accepted Chinese alias (both accepted on input).
ENUMS: dict[str, dict[str, str]] = {
    "unit_type": {
        "enterprise": "企业",
        "social_org": "社会团体",
        "foundation": "基金会",
        "social_service_org": "社会服务机构",
        "law_firm": "律师事务所",
        "accounting_firm": "会计师事务所",
        "individual_business": "个体工商户",
        "public_institution": "机关事业单位",
        "other": "其他",
    },
    "size_class": {"large": "大型", "medium": "中型", "small": "小型", "micro": "微型"},
    "status": {"active": "正常", "cancelled": "注销", "revoked": "吊销", "abnormal": "经营异常"},
    "end_reason": {
        "dismissal": "解除劳动合同",
        "resignation": "辞职",
        "contract_end": "合同到期",
        "retirement": "退休",
        "death": "死亡",
        "transfer": "转移",
        "other": "其他",
    },
    "return_status": {"paid": "已支付", "returned": "退回"},
}

USCC = _c("uscc", "统一社会信用代码", "uscc")

UNITS = _file(
    "units",
    USCC,
    _c("unit_name", "单位名称", "text"),
    _c("region_code", "统筹地区代码", "region"),
    _c("unit_type", "单位类型", "enum", enum="unit_type"),
    _opt("industry_code", "行业代码", "industry"),
    _opt("size_class", "企业划型", "enum", enum="size_class"),
    _opt("employees", "从业人员", "count"),
    _opt("revenue", "营业收入", "money"),
    _opt("total_assets", "资产总额", "money"),
    _c("status", "单位状态", "enum", enum="status"),
    _opt("bank_account", "基本存款账户", "account"),
    _opt("bank_code", "开户行行号", "cnaps"),
    _opt("account_name", "账户名称", "text"),
)

ROSTER = _file(
    "roster",
    _c("person_id", "公民身份号码", "person_id"),
    USCC,
    _c("start_date", "参保日期", "date"),
    _c("end_date", "停保日期", "date", nullable=True),
    _opt("end_reason", "停保原因", "enum", enum="end_reason"),
)

PAYMENTS = _file(
    "payments",
    USCC,
    _c("fee_month", "费款所属期", "month"),
    _c("unit_due", "单位应缴", "money"),
    _c("staff_due", "个人应缴", "money"),
    _c("unit_paid", "单位实缴", "money"),
    _c("staff_paid", "个人实缴", "money"),
    _c("paid_date", "缴费日期", "date", nullable=True),
    _opt("late_fee", "滞纳金", "money"),
    amount=("unit_paid", "staff_paid"),
)

REGION_FUNDS = _file(
    "region_funds",
    _c("region_code", "统筹地区代码", "region"),
    _c("fund_year", "年度", "year"),
    _c("balance", "滚存结余", "signed_money"),
    _c("monthly_expenditure", "月均支出", "money"),
    _c("adjustment_approved", "省级调剂金", "bool"),
    _opt("registered_unemployment_rate", "城镇登记失业率", "ratio"),
    _opt("avg_monthly_benefit", "月人均失业保险金", "money"),
)

# The optional files: the lists, earlier payments, and (issues 16, 17) the files only some policies read.
DISHONEST = _file(
    "dishonest", USCC, _c("listed_date", "列入日期", "date"), _opt("removed_date", "移出日期", "date"), path="lists/dishonest",
    optional=True,
)  # fmt: skip
ZOMBIE = _file("zombie", USCC, _c("listed_date", "列入日期", "date"), path="lists/zombie", optional=True)
OTHER_SUBSIDIES = _file(
    "other_subsidies", USCC, _c("subsidy_type", "补贴类型", "text"), _c("year", "年度", "year"), _c("amount", "金额", "money"),
    path="lists/other_subsidies", optional=True, amount=("amount",),
)  # fmt: skip
DIFFICULTY = _file("difficulty", USCC, _c("recognised_date", "认定日期", "date"), path="lists/difficulty", optional=True)
PRIOR_DISBURSEMENTS = _file(
    "prior_disbursements", USCC, _c("policy_id", "政策编号", "text"), _c("amount", "金额", "money"),
    _c("paid_date", "拨付日期", "date"), optional=True, amount=("amount",),
)  # fmt: skip

# Optional (issue 16): the year's new unemployment-benefit claimants, by the unit they left; a policy with
# layoff_formula benefit_claims_over_avg_insured needs it (its layoff rate: claimants ÷ average monthly insured).
BENEFIT_CLAIMS = _file(
    "benefit_claims", _c("person_id", "公民身份号码", "person_id"), USCC, _c("claim_date", "申领日期", "date"), optional=True
)

# Optional (issue 17 item 4): the social-insurance premiums due (应缴纳社会保险费: every insurance, not only UI) by
# the unit and by its staff, per fee month; 内蒙古工作方案 二(二)'s second standard ("或按不超过3个月的企业及其职工
# 应缴纳社会保险费确定") is computed where a policy has premium_months_alt and the unit has rows of the assessed year.
SI_PREMIUMS_DUE = _file(
    "si_premiums_due", USCC, _c("fee_month", "费款所属期", "month"), _c("unit_due", "单位应缴社会保险费", "money"),
    _c("staff_due", "个人应缴社会保险费", "money"), optional=True, amount=("unit_due", "staff_due"),
)  # fmt: skip

# Optional (issue 16): the account each unit pays its social insurance contributions from, as the tax bureau holds it
# (社会保险费缴费账户, the account of the unit's debit agreement). A policy with fallback_payee contribution_account pays
# a unit whose register has no usable bank account to this account (sql/33_payee_account.sql); no policy needs the file.
CONTRIBUTION_ACCOUNTS = _file(
    "contribution_accounts", USCC, _c("bank_account", "缴费账号", "account"), _c("bank_code", "开户行行号", "cnaps"),
    _c("account_name", "账户名称", "text"), optional=True,
)  # fmt: skip

BANK_RETURNS = _file(
    "bank_returns", _c("batch_id", "批次号", "text"), _c("payment_id", "支付编号", "text"), USCC, _c("amount", "金额", "money"),
    _c("status", "状态", "enum", enum="return_status"), _opt("reason", "原因", "text"), _c("value_date", "入账日期", "date"),
    optional=True, glob=True, amount=("amount",),
)  # fmt: skip

CONTROL = _file(
    "control", _c("file", "文件", "text"), _c("rows", "行数", "count"), _opt("amount_total", "金额合计", "money"), optional=True
)

# Order of ingest; control.csv is read first but checked after the others are staged. The roster, by far the
# largest file, comes last: its GB18030 transcoding (csv_prefetch, the largest file first) runs while the others
# are staged rather than holding up the ingest.
DATA_FILES: tuple[FileSpec, ...] = (
    UNITS,
    PAYMENTS,
    REGION_FUNDS,
    DISHONEST,
    ZOMBIE,
    OTHER_SUBSIDIES,
    DIFFICULTY,
    PRIOR_DISBURSEMENTS,
    BENEFIT_CLAIMS,
    SI_PREMIUMS_DUE,
    CONTRIBUTION_ACCOUNTS,
    BANK_RETURNS,
    ROSTER,
)

# CONTRACT.md section 3, in the order of listing, and the codes appended to it since: reference/reasons.yaml
REASON_CODES = reasons.codes()
