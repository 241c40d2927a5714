"""The yearly report's files: HTML (inline CSS and SVG, reads offline), XLSX (numbers as numbers, yuan with a total
row) and CSV (UTF-8 with BOM, Chinese headers; one row per policy and region). Labels in Chinese, or English."""

import html
from decimal import Decimal

from autogrant.transforms import files, messages
from autogrant.transforms.money import yuan

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


def _t(key: str, lang: str | None, **values) -> str:
    text = messages.pick(TEXT[key], lang)
    return text.format(**values) if values else text


def _yes(v, lang) -> str:
    return "-" if v is None else _t("yes", lang) if v else _t("no", lang)  # None: no fund position known


def region_cells(r: dict, lang: str | None, grouping: bool = True) -> dict:
    """One region's row as people read it (money in yuan text, ratios as percentages)."""
    from autogrant.transforms.annual import FLAG_REASONS, label, ratio, reserve_text

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


def _coverage_chart(report, lang) -> str:
    """Horizontal bars: coverage of units per region (paid ÷ eligible), with the figures as labels."""
    rows = [r for r in report.regions if r["units_eligible"]]
    if not rows:
        return ""
    h, width, left = 22, 420, 190
    parts = [f'<svg role="img" aria-label="{html.escape(_t("coverage_chart", lang))}" width="{left + width + 160}" '
             f'height="{h * len(rows) + 10}">']  # fmt: skip
    from autogrant.transforms.annual import ratio

    for i, r in enumerate(rows):
        y = i * h + 4
        w = width * r["units_paid"] / r["units_eligible"]
        name = html.escape(f"{r['policy_id']} {messages.region(r['region_code'], lang)}")
        parts.append(f'<text x="0" y="{y + 14}" font-size="12">{name}</text>')
        parts.append(f'<rect x="{left}" y="{y}" width="{width}" height="{h - 6}" fill="#eee"/>')
        parts.append(f'<rect x="{left}" y="{y}" width="{w:.1f}" height="{h - 6}" fill="#2e7d32"/>')
        parts.append(
            f'<text x="{left + width + 6}" y="{y + 14}" font-size="12">{ratio(r["units_paid"], r["units_eligible"])} '
            f"({r['units_paid']}/{r['units_eligible']})</text>"
        )
    return "".join(parts) + "</svg>"


def _table(header, rows) -> str:
    head = "".join(f"<th>{html.escape(str(h))}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in r) + "</tr>" for r in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def totals_rows(report, lang) -> list[tuple[str, str]]:
    from autogrant.transforms.annual import ratio

    t = report.totals
    return [
        (_t("regions_n", lang), t["regions"]),
        (_t("regions_qualifying", lang), t["regions_qualifying"]),
        (_t("regions_implemented", lang), t["regions_implemented"]),
        (_t("region_coverage", lang), ratio(t["regions_covered"], t["regions_qualifying"])),
        (_t("regions_flagged", lang), t["regions_flagged"]),
        *((messages.pick(REGION_COLUMNS[k], lang), t[k] or 0) for k in COUNTS),
        (messages.pick(REGION_COLUMNS["coverage_units"], lang), ratio(t["units_paid"] or 0, t["units_eligible"] or 0)),
        *((messages.pick(REGION_COLUMNS[k], lang), yuan(t[f] or 0, grouping=True)) for k, f in MONEY.items()),
        (messages.pick(REGION_COLUMNS["coverage_money"], lang), ratio(t["net_fen"] or 0, t["granted_fen"] or 0)),
    ]


def reason_rows(report, lang) -> list[tuple]:
    return [(r["policy_id"], messages.region(r["region_code"], lang), messages.decision(r["kind"], lang),
             messages.reason(r["code"], lang), r["units"]) for r in report.reasons]  # fmt: skip


def unpaid_rows(report, lang) -> list[tuple]:
    from autogrant.transforms.annual import AGE_LABELS, label

    return [(r["policy_id"], messages.region(r["region_code"], lang), messages.reason(r["code"], lang),
             label(AGE_LABELS, r["age"], lang), r["units"], yuan(r["unpaid_fen"], grouping=True))
            for r in report.unpaid]  # fmt: skip


CSS = """body{font-family:'Noto Sans CJK SC','Noto Sans SC','Microsoft YaHei',system-ui,sans-serif;margin:2em;color:#222}
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}
th{background:#f3f3f3}td:first-child,th:first-child{text-align:left}.flag{color:#b00020;font-weight:bold}small{color:#666}"""


def html_page(report, lang: str | None = None) -> str:
    zh = messages.pick(("zh", "en"), lang) == "zh"
    title = _t("title", lang, year=report.year)
    sources = ", ".join(f"{s.policy_id} ({s.last_night})" for s in report.sources)
    region_header = [messages.pick(v, lang) for v in REGION_COLUMNS.values()]
    region_rows = [tuple(region_cells(r, lang).values()) for r in report.regions]
    flagged = [r for r in report.regions if r["flagged"]]
    out = [
        f"<!doctype html><html lang='{'zh-CN' if zh else 'en'}'><head><meta charset='utf-8'><title>{html.escape(title)}</title>",
        f"<style>{CSS}</style></head><body><h1>{html.escape(title)}</h1>",
        f"<p><small>{html.escape(_t('basis', lang))}</small></p>",
        f"<p>{html.escape(_t('as_of', lang, date=report.report_date, sources=sources))}</p>",
        f"<h2>{html.escape(_t('totals', lang))}</h2>" + _table((_t("item", lang), _t("value", lang)), totals_rows(report, lang)),
        f"<h2>{html.escape(_t('coverage_chart', lang))}</h2>" + _coverage_chart(report, lang),
        f"<h2>{html.escape(_t('regions', lang))}</h2>" + _table(region_header, region_rows),
        f"<h2 class='flag'>{html.escape(_t('flagged', lang))}</h2>",
    ]
    if flagged:
        out.append(_table(region_header[:3] + region_header[-1:], [(c[0], c[1], c[2], c[-1]) for c in
                   (tuple(region_cells(r, lang).values()) for r in flagged)]))  # fmt: skip
    else:
        out.append(f"<p>{html.escape(_t('flagged_none', lang))}</p>")
    head = (REGION_COLUMNS["policy_id"], REGION_COLUMNS["region"])
    out.append(f"<h2>{html.escape(_t('reasons', lang))}</h2>")
    rows = reason_rows(report, lang)
    out.append(_table([messages.pick(h, lang) for h in head] + [_t(k, lang) for k in ("kind", "reason", "units")], rows)
               if rows else f"<p>{html.escape(_t('none', lang))}</p>")  # fmt: skip
    out.append(f"<h2>{html.escape(_t('unpaid', lang))}</h2>")
    rows = unpaid_rows(report, lang)
    out.append(_table([messages.pick(h, lang) for h in head] + [_t(k, lang) for k in ("reason", "age", "units", "unpaid_yuan")],
                      rows) if rows else f"<p>{html.escape(_t('none', lang))}</p>")  # fmt: skip
    out.append("</body></html>")
    return "\n".join(out)


def csv_text(report, lang: str | None = None) -> str:
    """One row per policy and region, then the total row; UTF-8 with BOM so that Excel reads the Chinese."""
    header = [messages.pick(v, lang) for v in REGION_COLUMNS.values()]
    lines = [header] + [list(region_cells(r, lang, grouping=False).values()) for r in report.regions]
    t = report.totals
    from autogrant.transforms.annual import ratio

    total = {k: "" for k in REGION_COLUMNS} | {"policy_id": _t("total_row", lang)}
    total |= {k: t[k] or 0 for k in COUNTS} | {k: yuan(t[f] or 0, grouping=False) for k, f in MONEY.items()}
    total |= {"coverage_units": ratio(t["units_paid"] or 0, t["units_eligible"] or 0),
              "coverage_money": ratio(t["net_fen"] or 0, t["granted_fen"] or 0)}  # fmt: skip
    lines.append(list(total.values()))
    # our labels and figures only, no text from the input: nothing to neutralise
    body = "\r\n".join(",".join(files.csv_cell(v) for v in row) for row in lines)
    return "\ufeff" + body + "\r\n"


def _yuan_number(fen: int) -> Decimal:
    return Decimal(int(fen)) / 100


def write_xlsx(report, path, lang: str | None = None) -> None:
    """Sheets: totals, regions (a total row), reasons, unpaid. Counts and money are numbers (yuan, 0.00)."""
    import datetime as dt

    import xlsxwriter

    with files.atomic_path(path) as tmp:
        wb = xlsxwriter.Workbook(str(tmp), {"strings_to_formulas": False, "strings_to_numbers": False})
        wb.set_properties({"created": dt.datetime.combine(report.report_date, dt.time())})  # same input, same bytes
        bold = wb.add_format({"bold": True})
        money = wb.add_format({"num_format": "#,##0.00"})
        money_bold = wb.add_format({"num_format": "#,##0.00", "bold": True})
        pct = wb.add_format({"num_format": "0.0%"})
        title_fmt = wb.add_format({"bold": True, "font_size": 14})

        ws = wb.add_worksheet(messages.pick(SHEETS["totals"], lang))
        ws.write_string(0, 0, _t("title", lang, year=report.year), title_fmt)
        ws.write_string(1, 0, _t("as_of", lang, date=report.report_date, sources=", ".join(s.policy_id for s in report.sources)))
        for i, (k, v) in enumerate(totals_rows(report, lang), start=3):
            ws.write_string(i, 0, str(k))
            ws.write_string(i, 1, str(v)) if isinstance(v, str) else ws.write_number(i, 1, v)
        ws.set_column(0, 0, 40)
        ws.set_column(1, 1, 18)

        ws = wb.add_worksheet(messages.pick(SHEETS["regions"], lang))
        keys = list(REGION_COLUMNS)
        for c, k in enumerate(keys):
            ws.write_string(0, c, messages.pick(REGION_COLUMNS[k], lang), bold)
        for r_i, r in enumerate(report.regions, start=1):
            cells = region_cells(r, lang)
            for c, k in enumerate(keys):
                if k in COUNTS:
                    ws.write_number(r_i, c, r[k])
                elif k in MONEY:
                    ws.write_number(r_i, c, _yuan_number(r[MONEY[k]]), money)
                elif k == "coverage_units" and r["units_eligible"]:
                    ws.write_number(r_i, c, r["units_paid"] / r["units_eligible"], pct)
                elif k == "coverage_money" and r["granted_fen"]:
                    ws.write_number(r_i, c, r["net_fen"] / r["granted_fen"], pct)
                else:
                    ws.write_string(r_i, c, str(cells[k]))  # text cells: never a formula
        last = len(report.regions) + 1
        ws.write_string(last, 0, _t("total_row", lang), bold)
        t = report.totals
        for c, k in enumerate(keys):
            if k in COUNTS:
                ws.write_number(last, c, t[k] or 0, bold)
            elif k in MONEY:
                ws.write_number(last, c, _yuan_number(t[MONEY[k]] or 0), money_bold)
        ws.set_column(0, 1, 18)
        ws.set_column(2, len(keys) - 1, 14)
        ws.freeze_panes(1, 2)
        if report.regions:  # 应享尽享 as a chart: units eligible and units paid per region
            sheet, n = ws.get_name(), len(report.regions)
            chart = wb.add_chart({"type": "bar"})
            for k, colour in (("units_eligible", "#BDBDBD"), ("units_paid", "#2E7D32")):
                c = keys.index(k)
                chart.add_series({"name": [sheet, 0, c], "categories": [sheet, 1, 1, n, 1], "values": [sheet, 1, c, n, c],
                                  "fill": {"color": colour}})  # fmt: skip
            chart.set_title({"name": _t("coverage_chart", lang)})
            chart.set_y_axis({"reverse": True})
            chart.set_size({"width": 720, "height": 24 * n + 120})
            ws.insert_chart(last + 2, 1, chart)

        for key, header, rows in (
            ("reasons", [REGION_COLUMNS["policy_id"], REGION_COLUMNS["region"], TEXT["kind"], TEXT["reason"], TEXT["units"]],
             reason_rows(report, lang)),
            ("unpaid", [REGION_COLUMNS["policy_id"], REGION_COLUMNS["region"], TEXT["reason"], TEXT["age"], TEXT["units"],
                        TEXT["unpaid_yuan"]], unpaid_rows(report, lang)),
        ):  # fmt: skip
            ws = wb.add_worksheet(messages.pick(SHEETS[key], lang))
            for c, h in enumerate(header):
                ws.write_string(0, c, messages.pick(h, lang), bold)
            source = report.reasons if key == "reasons" else report.unpaid
            for r_i, (row, raw) in enumerate(zip(rows, source, strict=True), start=1):
                for c, v in enumerate(row):
                    if isinstance(v, int):
                        ws.write_number(r_i, c, v)
                    elif key == "unpaid" and c == len(row) - 1:
                        ws.write_number(r_i, c, _yuan_number(raw["unpaid_fen"]), money)
                    else:
                        ws.write_string(r_i, c, str(v))
            ws.set_column(0, len(header) - 1, 22)
        wb.close()
