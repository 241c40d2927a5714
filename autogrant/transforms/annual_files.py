"""The yearly report's files: HTML (inline CSS and SVG, reads offline), XLSX (numbers as numbers, yuan with a total
row) and CSV (UTF-8 with BOM, Chinese headers; one row per policy and region). Labels in Chinese, or English."""

import datetime as dt
import html
import json
from decimal import Decimal
from pathlib import Path

from autogrant.transforms import files, messages
from autogrant.transforms.annual import AnnualReport
from autogrant.transforms.annual_text import (
    COUNTS,
    MONEY,
    REGION_COLUMNS,
    SHEETS,
    TEXT,
    phrase,
    ratio,
    reason_rows,
    region_cells,
    totals_rows,
    unpaid_rows,
)
from autogrant.transforms.money import yuan


def write(report: AnnualReport, out_dir: Path, lang: str | None = None) -> list[Path]:
    """DIR/annual-report-Y.html, .csv, .xlsx (for people, in ``lang``) and .json (figures in fen, for machines)."""
    stem = Path(out_dir) / f"annual-report-{report.year}"
    paths = [stem.with_suffix(s) for s in (".html", ".csv", ".xlsx", ".json")]
    files.write_text(paths[0], html_page(report, lang))
    files.write_text(paths[1], csv_text(report, lang))
    write_xlsx(report, paths[2], lang)
    files.write_text(paths[3], json.dumps(as_json(report), ensure_ascii=False, indent=2, default=str) + "\n")
    return paths


def as_json(report: AnnualReport) -> dict:
    return {
        "year": report.year,
        "report_date": report.report_date,
        "sources": [
            {"policy_id": s.policy_id, "out": str(s.out), "ledger": str(s.ledger), "pay_by": s.pay_by, "last_night": s.last_night}
            for s in report.sources
        ],  # fmt: skip
        "totals": report.totals,
        "regions": report.regions,
        "reasons": report.reasons,
        "unpaid": report.unpaid,
    }


def _coverage_chart(report, lang) -> str:
    """Horizontal bars: coverage of units per region (paid ÷ eligible), with the figures as labels."""
    rows = [r for r in report.regions if r["units_eligible"]]
    if not rows:
        return ""
    h, width, left = 22, 420, 190
    parts = [f'<svg role="img" aria-label="{html.escape(phrase("coverage_chart", lang))}" width="{left + width + 160}" '
             f'height="{h * len(rows) + 10}">']  # fmt: skip
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


CSS = """body{font-family:'Noto Sans CJK SC','Noto Sans SC','Microsoft YaHei',system-ui,sans-serif;margin:2em;color:#222}
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}
th{background:#f3f3f3}td:first-child,th:first-child{text-align:left}.flag{color:#b00020;font-weight:bold}small{color:#666}"""


def html_page(report, lang: str | None = None) -> str:
    zh = messages.pick(("zh", "en"), lang) == "zh"
    title = phrase("title", lang, year=report.year)
    sources = ", ".join(f"{s.policy_id} ({s.last_night})" for s in report.sources)
    region_header = [messages.pick(v, lang) for v in REGION_COLUMNS.values()]
    region_rows = [tuple(region_cells(r, lang).values()) for r in report.regions]
    flagged = [r for r in report.regions if r["flagged"]]
    out = [
        f"<!doctype html><html lang='{'zh-CN' if zh else 'en'}'><head><meta charset='utf-8'><title>{html.escape(title)}</title>",
        f"<style>{CSS}</style></head><body><h1>{html.escape(title)}</h1>",
        f"<p><small>{html.escape(phrase('basis', lang))}</small></p>",
        f"<p>{html.escape(phrase('as_of', lang, date=report.report_date, sources=sources))}</p>",
        f"<h2>{html.escape(phrase('totals', lang))}</h2>"
        + _table((phrase("item", lang), phrase("value", lang)), totals_rows(report, lang)),
        f"<h2>{html.escape(phrase('coverage_chart', lang))}</h2>" + _coverage_chart(report, lang),
        f"<h2>{html.escape(phrase('regions', lang))}</h2>" + _table(region_header, region_rows),
        f"<h2 class='flag'>{html.escape(phrase('flagged', lang))}</h2>",
    ]
    if flagged:
        out.append(_table(region_header[:3] + region_header[-1:], [(c[0], c[1], c[2], c[-1]) for c in
                   (tuple(region_cells(r, lang).values()) for r in flagged)]))  # fmt: skip
    else:
        out.append(f"<p>{html.escape(phrase('flagged_none', lang))}</p>")
    head = (REGION_COLUMNS["policy_id"], REGION_COLUMNS["region"])
    out.append(f"<h2>{html.escape(phrase('reasons', lang))}</h2>")
    rows = reason_rows(report, lang)
    out.append(_table([messages.pick(h, lang) for h in head] + [phrase(k, lang) for k in ("kind", "reason", "units")], rows)
               if rows else f"<p>{html.escape(phrase('none', lang))}</p>")  # fmt: skip
    out.append(f"<h2>{html.escape(phrase('unpaid', lang))}</h2>")
    rows = unpaid_rows(report, lang)
    out.append(_table([messages.pick(h, lang) for h in head] + [phrase(k, lang) for k in ("reason", "age", "units", "unpaid_yuan")],
                      rows) if rows else f"<p>{html.escape(phrase('none', lang))}</p>")  # fmt: skip
    out.append("</body></html>")
    return "\n".join(out)


def csv_text(report, lang: str | None = None) -> str:
    """One row per policy and region, then the total row; UTF-8 with BOM so that Excel reads the Chinese."""
    header = [messages.pick(v, lang) for v in REGION_COLUMNS.values()]
    lines = [header] + [list(region_cells(r, lang, grouping=False).values()) for r in report.regions]
    t = report.totals
    total = {k: "" for k in REGION_COLUMNS} | {"policy_id": phrase("total_row", lang)}
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
        ws.write_string(0, 0, phrase("title", lang, year=report.year), title_fmt)
        ws.write_string(
            1, 0, phrase("as_of", lang, date=report.report_date, sources=", ".join(s.policy_id for s in report.sources))
        )
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
        ws.write_string(last, 0, phrase("total_row", lang), bold)
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
            chart.set_title({"name": phrase("coverage_chart", lang)})
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
