"""The yearly report's words and cells, in Chinese or English: column and sheet labels, the reasons a region is
flagged, overdue ages, percentages by integer arithmetic, and each table's rows as people read them (money in yuan
text). Shared by the HTML, CSV and XLSX files (transforms/annual_files.py)."""

from autogrant.transforms import messages
from autogrant.transforms.money import yuan

AGE_LABELS = {
    "not_due": ("未到发放期限", "not yet due"), "late_1_30": ("逾期1-30天", "1-30 days late"),
    "late_31_90": ("逾期31-90天", "31-90 days late"), "late_91_365": ("逾期91-365天", "91-365 days late"),
    "late_over_365": ("逾期365天以上", "over 365 days late"),
}  # fmt: skip


FLAG_REASONS = {
    "no_units": ("本年度无单位作出决定", "no unit was decided this year"),
    "none_eligible": ("无符合条件单位", "no unit qualified"),
    "not_released": ("已公示或已制单，尚未拨付", "in notice or in batches, nothing released"),
    "all_held": ("符合条件单位均暂缓发放", "every qualifying unit is held"),
    "not_started": ("未启动公示与发放", "no notice and no payment started"),
}


def ratio(num: int, den: int) -> str:
    """A percentage to one decimal, by integer arithmetic (half up); '-' when nothing is due."""
    if not den:
        return "-"
    tenths = (num * 1000 * 2 + den) // (2 * den)
    return f"{tenths // 10}.{tenths % 10}%"


def reserve_text(r: dict) -> str:
    c = r.get("reserve_centimonths")
    return "-" if c is None else f"{c // 100}.{c % 100:02d}"


def label(pair_map: dict, key: str, lang: str | None = None) -> str:
    return messages.pick(pair_map[key], lang) if key in pair_map else key


# column key -> (zh, en); the per-region table of every file, in this order
REGION_COLUMNS = {
    "policy_id": ("政策", "policy"),
    "region": ("统筹地区", "pooling region"),
    "reserve_months": ("基金备付月数", "fund reserve (months)"),
    "qualifies": ("符合实施条件", "qualifies"),
    "implemented": ("已实施", "implemented"),
    "units_decided": ("作出决定单位数", "units decided"),
    "units_eligible": ("应享单位数", "units eligible"),
    "units_paid": ("已发放单位数", "units paid"),
    "units_held": ("暂缓发放单位数", "units held"),
    "units_rejected": ("不予发放单位数", "units rejected"),
    "units_unpaid": ("应享未发单位数", "units eligible, unpaid"),
    "coverage_units": ("应享尽享(单位)", "coverage (units)"),
    "granted": ("应发金额(元)", "granted (yuan)"),
    "paid": ("已发放金额(元)", "paid (yuan)"),
    "returned": ("银行退回(元)", "returned (yuan)"),
    "net": ("实际发放净额(元)", "net paid (yuan)"),
    "coverage_money": ("应享尽享(金额)", "coverage (money)"),
    "flag": ("备付一年以上未发放", "reserve ≥ 12 months, nothing paid"),
}
MONEY = {"granted": "granted_fen", "paid": "paid_fen", "returned": "returned_fen", "net": "net_fen"}
COUNTS = ("units_decided", "units_eligible", "units_paid", "units_held", "units_rejected", "units_unpaid")

TEXT = {
    "title": ("{year}年度失业保险稳岗返还“护航行动”实施情况", "{year} job-stabilisation refund (护航行动) implementation report"),
    "basis": (
        "依据人社厅发〔2017〕129号 三：每年1月31日前报送上年度“护航行动”实施情况；一(一)“两个全覆盖”：符合条件的统筹地区政策全覆盖、"
        "符合申领条件企业的主体全覆盖；二(一)：基金具备一年以上支付能力却未开展的统筹地区，说明原因。",
        "人社厅发〔2017〕129号 三: each province reports the year's implementation by 31 January; 一(一) two full coverages: "
        "every qualifying region, every qualifying unit; 二(一): regions with a reserve of a year and more that have not "
        "implemented, with the reason.",
    ),
    "as_of": ("统计截止 {date}；数据来源：{sources}", "figures as of {date}; from: {sources}"),
    "totals": ("总体情况", "totals"),
    "regions": ("各统筹地区", "per pooling region"),
    "coverage_chart": ("应享尽享：已发放单位 ÷ 应享单位", "coverage: units paid ÷ units eligible"),
    "flagged": ("基金备付一年以上但未发放的统筹地区", "regions with a reserve of 12 months and more that paid nothing"),
    "flagged_none": ("无。", "none."),
    "reasons": ("暂缓发放与不予发放原因", "held and rejected units by reason"),
    "unpaid": ("应享未发单位（按原因与逾期时长）", "eligible units unpaid, by reason and age"),
    "none": ("无。", "none."),
    "total_row": ("合计", "total"),
    "item": ("项目", "item"),
    "value": ("数值", "value"),
    "yes": ("是", "yes"),
    "no": ("否", "no"),
    "kind": ("类别", "kind"),
    "reason": ("原因", "reason"),
    "units": ("单位数", "units"),
    "age": ("逾期时长", "age"),
    "unpaid_yuan": ("未发金额(元)", "unpaid (yuan)"),
    "reason_col": ("原因", "reason"),
    "regions_n": ("统筹地区数", "pooling regions"),
    "regions_qualifying": ("符合实施条件的统筹地区", "regions qualifying"),
    "regions_implemented": ("已实施的统筹地区", "regions implemented"),
    "regions_flagged": ("备付一年以上未发放的统筹地区", "regions flagged"),
    "region_coverage": ("统筹地区全覆盖(已实施 ÷ 符合条件)", "region coverage (implemented ÷ qualifying)"),
}
SHEETS = {"totals": ("汇总", "totals"), "regions": ("各统筹地区", "regions"), "reasons": ("原因", "reasons"),
          "unpaid": ("应享未发", "unpaid")}  # fmt: skip


def phrase(key: str, lang: str | None, **values) -> str:
    text = messages.pick(TEXT[key], lang)
    return text.format(**values) if values else text


def _yes(v, lang) -> str:
    return "-" if v is None else phrase("yes", lang) if v else phrase("no", lang)  # None: no fund position known


def region_cells(r: dict, lang: str | None, grouping: bool = True) -> dict:
    """One region's row as people read it (money in yuan text, ratios as percentages)."""
    return {
        "policy_id": r["policy_id"],
        "region": messages.region(r["region_code"], lang),
        "reserve_months": reserve_text(r),
        "qualifies": _yes(r["qualifies"], lang),
        "implemented": _yes(r["implemented"], lang),
        **{k: r[k] for k in COUNTS},
        "coverage_units": ratio(r["units_paid"], r["units_eligible"]),
        **{k: yuan(r[f], grouping=grouping) for k, f in MONEY.items()},
        "coverage_money": ratio(r["net_fen"], r["granted_fen"]),
        "flag": label(FLAG_REASONS, r["flag_reason"], lang) if r["flagged"] else "",
    }


def totals_rows(report, lang) -> list[tuple[str, str]]:
    t = report.totals
    return [
        (phrase("regions_n", lang), t["regions"]),
        (phrase("regions_qualifying", lang), t["regions_qualifying"]),
        (phrase("regions_implemented", lang), t["regions_implemented"]),
        (phrase("region_coverage", lang), ratio(t["regions_covered"], t["regions_qualifying"])),
        (phrase("regions_flagged", lang), t["regions_flagged"]),
        *((messages.pick(REGION_COLUMNS[k], lang), t[k] or 0) for k in COUNTS),
        (messages.pick(REGION_COLUMNS["coverage_units"], lang), ratio(t["units_paid"] or 0, t["units_eligible"] or 0)),
        *((messages.pick(REGION_COLUMNS[k], lang), yuan(t[f] or 0, grouping=True)) for k, f in MONEY.items()),
        (messages.pick(REGION_COLUMNS["coverage_money"], lang), ratio(t["net_fen"] or 0, t["granted_fen"] or 0)),
    ]


def reason_rows(report, lang) -> list[tuple]:
    return [(r["policy_id"], messages.region(r["region_code"], lang), messages.decision(r["kind"], lang),
             messages.reason(r["code"], lang), r["units"]) for r in report.reasons]  # fmt: skip


def unpaid_rows(report, lang) -> list[tuple]:
    return [(r["policy_id"], messages.region(r["region_code"], lang), messages.reason(r["code"], lang),
             label(AGE_LABELS, r["age"], lang), r["units"], yuan(r["unpaid_fen"], grouping=True))
            for r in report.unpaid]  # fmt: skip
