"""`autogrant explain`: one unit's decision as a clerk reads it, rule by rule, from decision_details."""

import datetime as dt
import json
from pathlib import Path

import duckdb

from autogrant.transforms import decide
from autogrant.transforms.errors import InputError
from autogrant.transforms.money import yuan
from autogrant.transforms.policy import load
from autogrant.transforms.run_state import connect


def _yuan(fen) -> str:
    return "-" if fen is None else yuan(int(fen), grouping=True)


def _ratio(num: int, den: int) -> str:
    return "0" if not den else f"{num}/{den} = {num / den:.4%}"


def rules_of(d: dict, cites: dict) -> list[tuple[str, str, str, bool, str]]:
    """(rule, the unit's value, the limit, failed, clause) for every rule the policy evaluates."""
    op = "<" if d["layoff_comparison"] == "below" else "<="
    limit = "-" if d["layoff_rate_applied"] is None else f"{d['layoff_rate_applied'].normalize():f}"
    reserve = (
        f"{d['balance'] / d['monthly_expenditure']:.2f} months" if d.get("monthly_expenditure") else "no fund position"
    ) + (", adjustment fund granted" if d.get("adjustment_approved") else "")
    layoff_cite = cites["LAYOFF_RATE_EXCEEDED_SMALL" if d["layoff_rate_applied_kind"] == "small_unit" else "LAYOFF_RATE_EXCEEDED"]
    out = [
        (
            "input complete",
            d["quarantined_rows"] or "all rows staged",
            "no quarantined row of the unit",
            d["invalid_input"],
            cites["INVALID_INPUT"],
        ),
        (
            "unit type",
            d["unit_type"],
            ", ".join(d["eligible_unit_types"]),
            d["unit_type_ineligible"],
            cites["UNIT_TYPE_INELIGIBLE"],
        ),
        ("unit status", d["status"], "not " + ", ".join(d["inactive_statuses"]), d["unit_inactive"], cites["UNIT_INACTIVE"]),
        (
            "region reserve",
            reserve,
            f">= {d['reserve_months_min']} months",
            d["region_reserve_insufficient"],
            cites["REGION_RESERVE_INSUFFICIENT"],
        ),
    ]
    if d["size_class_matters"]:
        out.append(("size class", f"{d['size_class_used'] or 'unknown'} ({d['size_source']})",
                    ", ".join(d["size_classes_covered"]) if d["size_classes_covered"] else "known for an enterprise",
                    d["size_class_ineligible"] or d["size_class_missing"], cites["SIZE_CLASS_MISSING"]))  # fmt: skip
    if d["headcount_cap"] is not None and d.get("over_cap_by_application"):  # above the cap: paid on application
        applied = not d.get("application_required") and d["headcount_ref"] > d["headcount_cap"]
        out.append(("insured on reference date", str(d["headcount_ref"]) + (" (applied)" if applied else ""),
                    f"<= {d['headcount_cap']}, or an application", bool(d.get("application_required")),
                    cites["APPLICATION_REQUIRED"]))  # fmt: skip
    elif d["headcount_cap"] is not None:
        out.append(
            (
                "insured on reference date",
                str(d["headcount_ref"]),
                f"<= {d['headcount_cap']}",
                d["headcount_over_cap"],
                cites["HEADCOUNT_OVER_CAP"],
            )
        )
    layoff = (f"{_ratio(d['layoff_count'], d['headcount_start'])} ({d['headcount_start']} -> {d['headcount_end']}"
              + (f", {d['natural_exits']} natural exits" if d["natural_exits"] else "") + ")")  # fmt: skip
    if d.get("layoff_formula") == "benefit_claims_over_avg_insured":  # issue 16: claimants ÷ average monthly insured
        layoff = (f"{d['benefit_claimants']}/({d['insured_month_total']}÷12) = "
                  + ("0" if not d["insured_month_total"] else f"{12 * d['benefit_claimants'] / d['insured_month_total']:.4%}"))  # fmt: skip
    out += [
        ("layoff rate", layoff, f"{op} {limit} ({d['layoff_rate_applied_kind'].replace('_', ' ')})", d["layoff_rate_exceeded"], layoff_cite),
        ("arrears at cut-off", _yuan(d["arrears_as_of_fen"]) + (" (paid up after year end)" if d["paid_up_arrears"] else ""),
         "0.00", d["arrears_outstanding"], cites["ARREARS_OUTSTANDING"]),
        ("premium paid in the assessed year", _yuan(d["premium_base"]), "> 0.00", d["no_premium_paid"], cites["NO_PREMIUM_PAID"]),
    ] + ([("fee months paid in full", str(d["full_months_paid"]), f">= {d['months_paid_min']}", d["premium_months_short"],
           cites["PREMIUM_MONTHS_SHORT"])] if d.get("months_paid_min") else []) + [
        ("dishonest list", "listed" if d["on_dishonest_list"] else "not listed", "not listed", d["dishonest_entity"], cites["DISHONEST_ENTITY"]),
        ("zombie list", "listed" if d["on_zombie_list"] else "not listed", "not listed", d["zombie_enterprise"], cites["ZOMBIE_ENTERPRISE"]),
    ]  # fmt: skip
    if d["double_dip_subsidy_types"]:
        out.append(("other subsidies", d["double_dip_subsidies"] or "none", "none of " + ", ".join(d["double_dip_subsidy_types"]),
                    d["double_dip"], cites["DOUBLE_DIP"]))  # fmt: skip
    if d["difficulty_list_required"]:
        out.append(("difficulty list", "listed" if d["on_difficulty_list"] else "not listed", "listed", d["not_in_difficulty"],
                    cites["NOT_IN_DIFFICULTY"]))  # fmt: skip
    if d.get("other_scheme"):  # 内蒙古工作方案 二(二): one scheme per unit, the larger
        out.append(("other scheme", f"{_yuan(d.get('own_scheme_fen'))} here, {_yuan(d.get('other_scheme_fen'))} under {d['other_scheme']}"
                    + ("" if d.get("other_scheme_open") else " (not open to the unit)"),
                    "the larger scheme", bool(d.get("other_scheme_chosen")), cites["OTHER_SCHEME_CHOSEN"]))  # fmt: skip
    # 内蒙古工作方案 二(二) "可按…或…": the two standards compared, the larger paid (not in an OUT written before them)
    if d.get("premium_months_alt") and "amount_standard" in d:
        out.append(("amount standard", _standards(d), f"the larger: {d['amount_standard']}", False, cites["PREMIUM_MONTHS_ALT"]))
    # issue 16: where the register has none, the tax bureau's contribution account (fallback_payee, 33_payee_account.sql)
    fallback = d.get("payee_account") == "contribution_account"
    account = (
        (CONTRIBUTION_ACCOUNT + f" ...{d['bank_account'][-4:]}")
        if fallback
        else "given"
        if not d["bank_account_missing"]
        else "missing"
    )
    out += [
        ("already paid", _yuan(d["already_paid"]), f"< {_yuan(d['amount_due_calc_fen'])}", d["already_paid_full"],
         cites["ALREADY_PAID_PREMIUM_MONTHS" if d.get("amount_standard") == "premium_months" else "ALREADY_PAID"]),
        ("bank account", account, "account and CNAPS code", d["bank_account_missing"],
         cites["FALLBACK_PAYEE"] if fallback else cites["BANK_ACCOUNT_MISSING"]),
        ("account name", d["account_name"] or "-", d["unit_name"], d["account_name_mismatch"], cites["ACCOUNT_NAME_MISMATCH"]),
        ("bank return", "returned" if d["payment_returned"] else "none", "none open", d["payment_returned"], cites["PAYMENT_RETURNED"]),
        ("objection", "open" if d["under_objection"] else "none", "none open", d["under_objection"], cites["UNDER_OBJECTION"]),
    ]  # fmt: skip
    if "account_shared_units" in d:  # the fraud signals (not in an OUT written before them)
        out += [
            ("units on the account", f"{d['account_shared_units']}" + (f" (with {', '.join(d['account_shared_with'])})" if d["account_shared_with"] else ""),
             "<= threshold, or cleared", d["account_shared"], cites["ACCOUNT_SHARED"]),
            ("account since the notice", "changed from the noticed account" if d["account_changed"] or (d["noticed_account"] and d["noticed_account"] != d["bank_account"]) else "unchanged",
             "unchanged, or cleared", d["account_changed"], cites["ACCOUNT_CHANGED"]),
            ("account holder", d["account_name_unit"] if d["account_name_unit"] else "no other unit", "no other unit, or cleared",
             d["account_name_other_unit"], cites["ACCOUNT_NAME_OTHER_UNIT"]),
        ]  # fmt: skip
    return out


def _standards(d: dict) -> str:
    """benefit_months and premium_months standards with their figures (fen -> yuan), for the amount standard line."""
    benefit = f"{d['benefit_months']}×{_yuan(d['avg_monthly_benefit'])}×{d['headcount_ref']} = {_yuan(d['benefit_standard_fen'])}"
    if d.get("premium_standard_fen") is None:
        return f"{benefit} (benefit_months); premium_months: no premium due of the year in si_premiums_due.csv"
    alt, due, months = d["premium_months_alt"], _yuan(d["si_due_total_fen"]), d["si_due_months"]
    premium = f"{alt}×{due}÷{months} = {_yuan(d['premium_standard_fen'])}"
    return f"{benefit} (benefit_months) vs {premium} (premium_months)"


def _premium_line(d: dict, zh: bool) -> str:
    if zh:
        return (f"应发金额：{d['premium_months_alt']} 个月 × 月均应缴社会保险费（{_yuan(d['si_due_total_fen'])} ÷ {d['si_due_months']} 个月）"
                f" = {_yuan(d['amount_due_calc_fen'])} 元（高于失业保险金标准 {_yuan(d['benefit_standard_fen'])} 元）")  # fmt: skip
    return (f"amount due: {d['premium_months_alt']} months x the average monthly social-insurance premium due "
            f"({_yuan(d['si_due_total_fen'])} / {d['si_due_months']} fee months) = {_yuan(d['amount_due_calc_fen'])} yuan "
            f"(more than the benefit standard {_yuan(d['benefit_standard_fen'])})")  # fmt: skip


CONTRIBUTION_ACCOUNT = "none in the register; paid to the contribution account the tax bureau holds"
RULE_NAMES = {
    "input complete": "数据完整", "unit type": "单位类型", "unit status": "单位状态", "region reserve": "统筹地区基金备付",
    "size class": "企业划型", "insured on reference date": "基准日参保人数", "layoff rate": "裁员率",
    "arrears at cut-off": "截止日欠费", "premium paid in the assessed year": "上年度实缴失业保险费",
    "dishonest list": "严重失信名单", "zombie list": "僵尸企业名单", "other subsidies": "其他补贴",
    "difficulty list": "困难企业名单", "already paid": "已发放", "bank account": "银行账户", "account name": "账户名称",
    "bank return": "银行退回", "objection": "公示异议", "units on the account": "同一账户单位数",
    "account since the notice": "公示后账户变更", "account holder": "账户户名", "other scheme": "另一返还标准",
    "amount standard": "返还标准", "fee months paid in full": "足额缴费月数",
}  # fmt: skip
WORDS = {
    "listed": "已列入", "not listed": "未列入", "given": "已提供", "missing": "缺失", "none": "无", "none open": "无未结",
    "returned": "已退回", "open": "有未结异议", "all rows staged": "全部入库", "no quarantined row of the unit": "无隔离行",
    "account and CNAPS code": "账号及联行号", "<= threshold, or cleared": "不超过阈值，或已核实解除",
    "unchanged, or cleared": "未变更，或已核实解除", "no other unit, or cleared": "非其他单位，或已核实解除", "unchanged": "未变更",
    "changed from the noticed account": "与公示时账户不同", "no other unit": "非其他单位",
    CONTRIBUTION_ACCOUNT: "登记无账户，返还至税务部门提供的社会保险费缴费账户", "known for an enterprise": "企业须有划型",
}  # fmt: skip


# the explanation's lines in each language: {name} fields come from the unit's details and the rule rows
LINES = {
    "zh": {
        "head": "{unit_name}  {uscc}  统筹地区 {region}  政策 {policy_id}",
        "decision": "决定：{decision_label} {decision}{reasons}",
        "reasons": "（{}）",
        "rule": "  [{mark}] {name}：{value}  | 标准：{limit}  | {cite}",
        "share": "应发金额：floor({base} × {rate}) = {due} 元",
        "arm": "（返还比例 '{arm}'：{arm_cite}）",
        "benefit": "应发金额：{months} 个月 × {benefit} × {headcount} 人 = {due} 元",
        "paid": "已发放：{paid}  本次可发：{amount} 元",
        "clauses": "依据：{citations}",
    },
    "en": {
        "head": "{unit_name}  {uscc}  region {region}  policy {policy_id}",
        "decision": "decision: {decision}{reasons}",
        "reasons": "  ({})",
        "rule": "  [{mark}] {name}: {value}  | limit: {limit}  | {cite}",
        "share": "amount due: floor({base} x {rate}) = {due} yuan",
        "arm": "  (rate arm '{arm}': {arm_cite})",
        "benefit": "amount due: {months} months x {benefit} x {headcount} insured = {due} yuan",
        "paid": "already paid: {paid}  payable now: {amount} yuan",
        "clauses": "clauses: {citations}",
    },
}


def render(d: dict, cites: dict) -> str:
    """The explanation in the clerk's language (messages.current(): Chinese unless --lang en)."""
    from autogrant.transforms import messages

    zh = messages.current() != "en"
    t = LINES["zh" if zh else "en"]

    def word(v) -> str:
        if not zh:
            return str(v)
        if isinstance(v, str) and v.startswith(CONTRIBUTION_ACCOUNT):  # the account's last digits follow
            return WORDS[CONTRIBUTION_ACCOUNT] + v[len(CONTRIBUTION_ACCOUNT) :]
        return WORDS.get(v, v) if isinstance(v, str) else str(v)

    codes = d["reasons"].split(";") if d["reasons"] else []
    reasons = "；".join(messages.reason(c) for c in codes) if zh else d["reasons"]
    lines = [
        t["head"].format(unit_name=d["unit_name"], uscc=d["uscc"], policy_id=d["policy_id"],
                         region=messages.region(d["region_code"]) if zh else d["region_code"]),
        t["decision"].format(decision_label=messages.decision(d["decision"]), decision=d["decision"],
                             reasons=t["reasons"].format(reasons) if reasons else ""),
        "",
    ]  # fmt: skip
    for rule, value, limit, failed, cite in rules_of(d, cites):
        name = RULE_NAMES.get(rule, rule) if zh else rule
        lines.append(
            t["rule"].format(mark="FAIL" if failed else "pass", name=name, value=word(value), limit=word(limit), cite=cite)
        )
    lines.append("")
    due = _yuan(d["amount_due_calc_fen"])
    if d["amount_formula"] == "premium_share":
        rate = "-" if d["rate"] is None else f"{d['rate']:.2f}"
        arm = t["arm"].format(arm=d["rate_arm"], arm_cite=d["rate_arm_cite"]) if d["rate_arm"] else ""
        lines.append(t["share"].format(base=_yuan(d["premium_base"]), rate=rate, due=due) + arm)
    elif d.get("amount_standard") == "premium_months":
        lines.append(_premium_line(d, zh=zh))
    else:
        lines.append(t["benefit"].format(months=d["benefit_months"], benefit=_yuan(d["avg_monthly_benefit"]),
                                         headcount=d["headcount_ref"], due=due))  # fmt: skip
    lines.append(t["paid"].format(paid=_yuan(d["already_paid"]), amount=_yuan(d["amount"])))
    lines.append(t["clauses"].format(citations=d["citations"]))
    return "\n".join(lines)


def _details(con, uscc: str) -> dict:
    cur = con.execute(
        "SELECT d.*, p.* EXCLUDE (policy_id) FROM decision_details d CROSS JOIN policy p WHERE d.uscc = ?",
        [uscc.upper()],
    )
    rows = cur.fetchall()
    if not rows:
        raise InputError(f"unit {uscc} is not among the decisions (out of scope, or not in the drop)")
    return dict(zip([c[0] for c in cur.description], rows[0], strict=False))


# decision_details columns named otherwise in an OUT written before issue 14 (one name per concept)
OLD_NAMES = {
    "layoff_limit": "layoff_rate_applied",
    "layoff_limit_kind": "layoff_rate_applied_kind",
    "arrears_as_of": "arrears_as_of_fen",
    "amount_due_calc": "amount_due_calc_fen",
    "si_due_total": "si_due_total_fen",
}


def explain_from_out(out: Path, uscc: str) -> str:
    parts = sorted(out.glob("regions/*/decision_details.parquet"))
    if not parts:
        raise InputError(f"{out} holds no decisions of an earlier run (regions/*/decision_details.parquet)")
    con = duckdb.connect()
    con.execute(
        "CREATE TABLE decision_details AS SELECT * FROM read_parquet(?) WHERE uscc = ?",
        [[p.as_posix() for p in parts], uscc.upper()],
    )
    for old in OLD_NAMES.keys() & {c[0] for c in con.execute("DESCRIBE decision_details").fetchall()}:
        con.execute(f"ALTER TABLE decision_details RENAME COLUMN {old} TO {OLD_NAMES[old]}")
    policy_id = con.execute("SELECT any_value(policy_id) FROM decision_details").fetchall()[0][0]
    if policy_id is None:
        raise InputError(f"unit {uscc} is not among the decisions in {out}")
    loaded = load(policy_id)
    decide.load_policy_tables(con, loaded, list(loaded.rules.regions.value), _as_of(out))
    return render(_details(con, uscc), loaded.policy.cites())


def _as_of(out: Path) -> dt.date | None:
    manifest = out / "manifest.json"
    if manifest.is_file():
        return dt.date.fromisoformat(json.loads(manifest.read_text(encoding="utf-8"))["as_of"])
    return None


def explain_from_drop(policy_id: str, data: Path, uscc: str, as_of: dt.date | None) -> str:
    loaded = load(policy_id)
    con = connect()
    decide.decide_drop(con, loaded, data, None, as_of)
    return render(_details(con, uscc), loaded.policy.cites())
