"""The public-notice list (公示名单) of a region: unit name, USCC, amount, the notice period; CSV and XLSX.

Both open cleanly in Excel with Chinese text (the CSV carries a UTF-8 BOM). A cell starting with =, +, -, @,
a tab or a carriage return is neutralised with a leading apostrophe so that no spreadsheet runs it (CSV injection).
"""

import datetime as dt
from pathlib import Path

from autogrant.transforms import files
from autogrant.transforms.money import yuan as _yuan

HEADER = ("单位名称", "统一社会信用代码", "返还金额(元)", "公示开始", "公示结束")
DANGEROUS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: str) -> str:
    return "'" + value if value.startswith(DANGEROUS) else value


def notice_rows(con, notice_id: str) -> list[tuple[str, ...]]:
    rows = con.execute(
        """SELECT coalesce(unit_name, ''), uscc, amount_fen, notice_start, notice_end FROM ledger.claims
           WHERE notice_id = ? AND notice_end >= notice_start ORDER BY uscc""",
        [notice_id],
    ).fetchall()
    return [tuple(neutralise(str(v)) for v in (name, uscc, _yuan(fen), start, end)) for name, uscc, fen, start, end in rows]


def write_notice(con, out: Path, region: str, notice_id: str) -> list[Path]:
    """OUT/notices/<region>/<notice_id>.csv and .xlsx; nothing when the notice has no unit."""
    rows = notice_rows(con, notice_id)
    if not rows:
        return []
    folder = Path(out) / "notices" / region
    csv_path, xlsx_path = folder / f"{notice_id}.csv", folder / f"{notice_id}.xlsx"
    lines = [",".join(_cell(v) for v in r) for r in (HEADER, *rows)]
    files.write_bytes(csv_path, ("\ufeff" + "\r\n".join(lines) + "\r\n").encode("utf-8"))
    _write_xlsx(xlsx_path, rows)
    return [csv_path, xlsx_path]


def _cell(v: str) -> str:
    return '"' + v.replace('"', '""') + '"' if any(c in v for c in ',"\r\n') else v


def _write_xlsx(path: Path, rows) -> None:
    import xlsxwriter

    with files.atomic_path(path) as tmp:
        wb = xlsxwriter.Workbook(str(tmp), {"strings_to_formulas": False, "strings_to_numbers": False})
        # the notice's first day as the creation time: the same notice gives the same bytes on every run
        wb.set_properties({"created": dt.datetime.fromisoformat(rows[0][3])})  # write_notice writes no empty list
        ws = wb.add_worksheet("公示名单")
        bold = wb.add_format({"bold": True})
        for c, h in enumerate(HEADER):
            ws.write_string(0, c, h, bold)
        for r, row in enumerate(rows, start=1):
            for c, v in enumerate(row):
                ws.write_string(r, c, v)  # text as text: never a formula, never a number that loses digits
        ws.set_column(0, 0, 36)
        ws.set_column(1, 1, 22)
        ws.set_column(2, 4, 14)
        wb.close()
