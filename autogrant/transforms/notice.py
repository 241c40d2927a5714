"""The public-notice list (公示名单) of a region: unit name, USCC, amount, the notice period; CSV and XLSX.

Both open cleanly in Excel with Chinese text (the CSV carries a UTF-8 BOM). In the CSV a cell starting with =, +,
-, @, a tab or a carriage return is neutralised with a leading apostrophe so that no spreadsheet runs it (CSV
injection). The XLSX is the clerk's copy to print or publish as it is (人社厅发〔2017〕129号 二(四) 公示制度): a title
(policy, region, notice period), amounts as numbers in yuan with a total row, and where and until when to object;
its text cells are string cells (never a formula, whatever they start with), so nothing shows an apostrophe.
"""

import datetime as dt
import re
from decimal import Decimal
from pathlib import Path

from autogrant.transforms import files, xlsx_rows
from autogrant.transforms.files import neutralise
from autogrant.transforms.money import yuan as _yuan

HEADER = ("单位名称", "统一社会信用代码", "返还金额(元)", "公示开始", "公示结束")


def _claims(con, notice_id: str) -> list[tuple]:
    return con.execute(
        """SELECT coalesce(unit_name, ''), uscc, amount_fen, notice_start, notice_end, policy_id FROM ledger.claims
           WHERE notice_id = ? AND notice_end >= notice_start ORDER BY uscc""",
        [notice_id],
    ).fetchall()


def notice_rows(con, notice_id: str, claims: list[tuple] | None = None) -> list[tuple[str, ...]]:
    """The CSV's rows: text, each cell neutralised."""
    day = _day_text()
    return [tuple(neutralise(v) for v in (str(name), str(uscc), _yuan(fen), day(start), day(end)))
            for name, uscc, fen, start, end, _ in (_claims(con, notice_id) if claims is None else claims)]  # fmt: skip


def _day_text():
    """str of a date, each distinct date formatted once (a notice's rows share a few)."""
    seen: dict = {}

    def day(d) -> str:
        text = seen.get(d)
        if text is None:
            text = seen[d] = str(d)
        return text

    return day


def write_notice(con, out: Path, region: str, notice_id: str) -> list[Path]:
    """OUT/notices/<region>/<notice_id>.csv and .xlsx; nothing when the notice has no unit."""
    claims = _claims(con, notice_id)
    return write_files(out, region, notice_id, claims) if claims else []


def notice_paths(out: Path, region: str, notice_id: str) -> list[Path]:
    """Where a notice's CSV and XLSX go."""
    folder = Path(out) / "notices" / region
    return [folder / f"{notice_id}.csv", folder / f"{notice_id}.xlsx"]


def write_files(out: Path, region: str, notice_id: str, claims: list[tuple]) -> list[Path]:
    """The notice's CSV and XLSX from its claims (here, or in transforms/notice_writer.py's worker process)."""
    csv_path, xlsx_path = notice_paths(out, region, notice_id)
    rows = notice_rows(None, notice_id, claims)
    lines = [",".join(r) if not _QUOTE.search("".join(r)) else ",".join(_cell(v) for v in r) for r in (HEADER, *rows)]
    files.write_bytes(csv_path, ("\ufeff" + "\r\n".join(lines) + "\r\n").encode("utf-8"))
    _write_xlsx(xlsx_path, region, claims)
    return [csv_path, xlsx_path]


_QUOTE = re.compile('[,"\r\n]')  # a cell holding one of these is quoted


def _cell(v: str) -> str:
    return '"' + v.replace('"', '""') + '"' if any(c in v for c in ',"\r\n') else v


def title_lines(policy_id: str, region: str, start: dt.date, end: dt.date) -> tuple[str, str, str]:
    """The sheet's title, its notice period, and where and until when to object (in Chinese)."""
    from autogrant.transforms import messages
    from autogrant.transforms.policy import load

    name = messages.region(region, "zh").split(" ", 1)[-1]
    title = f"{load(policy_id).policy.title}：{name}（统筹地区 {region}）失业保险稳岗返还公示名单"
    period = f"公示期：{start:%Y年%m月%d日}至{end:%Y年%m月%d日}（政策 {policy_id}）"
    objection = (f"对名单有异议的，请于{end:%Y年%m月%d日}前（含当日）以书面形式向{name}人力资源和社会保障局"
                 "失业保险经办机构提出，并提供单位名称、统一社会信用代码和异议理由。")  # fmt: skip
    return title, period, objection


def _write_xlsx(path: Path, region: str, claims: list[tuple]) -> None:
    import xlsxwriter

    start, end, policy_id = claims[0][3], max(c[4] for c in claims), claims[0][5]
    title, period, objection = title_lines(policy_id, region, start, end)
    with files.atomic_path(path) as tmp:
        wb = xlsxwriter.Workbook(str(tmp), {"strings_to_formulas": False, "strings_to_numbers": False})
        # the notice's first day as the creation time: the same notice gives the same bytes on every run
        wb.set_properties({"created": dt.datetime.combine(start, dt.time()), "title": title})
        ws = wb.add_worksheet("公示名单")
        bold = wb.add_format({"bold": True, "border": 1, "bg_color": "#F2F2F2"})
        title_fmt = wb.add_format({"bold": True, "font_size": 14})
        text = wb.add_format({"border": 1})
        money = wb.add_format({"border": 1, "num_format": "#,##0.00"})
        money_bold = wb.add_format({"border": 1, "num_format": "#,##0.00", "bold": True})
        wrap = wb.add_format({"text_wrap": True, "valign": "top"})
        ws.merge_range(0, 0, 0, len(HEADER) - 1, title, title_fmt)
        ws.merge_range(1, 0, 1, len(HEADER) - 1, period)
        first = 3
        for c, h in enumerate(HEADER):
            ws.write_string(first, c, h, bold)
        xlsx_rows.fast_rows(ws)  # the same bytes, a province's rows in seconds less (transforms/xlsx_rows.py)
        xlsx_rows.fast_strings(wb)
        day = _day_text()
        # string cells: never a formula, whatever they start with; the amount in yuan, a number the clerk can sum
        xlsx_rows.put_rows(ws, first + 1, [(name, uscc, Decimal(int(fen)) / 100, day(n_start), day(n_end))
                                           for name, uscc, fen, n_start, n_end, _ in claims], (text, text, money, text, text))  # fmt: skip
        total_row = first + 1 + len(claims)
        ws.write_string(total_row, 0, f"合计（{len(claims)}家单位）", bold)
        ws.write_string(total_row, 1, "", bold)
        ws.write_number(total_row, 2, Decimal(sum(int(c[2]) for c in claims)) / 100, money_bold)
        ws.write_string(total_row, 3, "", bold)
        ws.write_string(total_row, 4, "", bold)
        ws.merge_range(total_row + 2, 0, total_row + 2, len(HEADER) - 1, objection, wrap)
        ws.set_row(total_row + 2, 48)
        ws.set_column(0, 0, 36)
        ws.set_column(1, 1, 22)
        ws.set_column(2, 4, 14)
        ws.repeat_rows(first)
        ws.set_landscape()
        ws.fit_to_pages(1, 0)
        wb.close()
