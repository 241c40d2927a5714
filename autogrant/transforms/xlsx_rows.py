"""Many rows of an XlsxWriter sheet, stored and written out faster, giving the same bytes (issue 13).

A province's notice has tens of thousands of rows; XlsxWriter spends most of its time in two generic per-cell paths:
``write_string``/``write_number`` (argument conversion) and, at close, ``_write_rows`` (one call chain per cell to
build its XML). ``put_row`` stores a row's string and number cells through XlsxWriter's own undecorated writers (the
shared-string index taken in the same order), and ``fast_rows`` makes
the sheet write its <sheetData> with the same XML, cell for cell, through a shorter path; a cell of any other kind
(formula, rich string, …) and a sheet with comments go through XlsxWriter's own code. tests/test_notice_xlsx_bytes.py
checks the bytes against XlsxWriter's plain path.
"""

import re
from types import MethodType

from xlsxwriter.utility import xl_rowcol_to_cell_fast


def put_row(ws, row: int, cells: tuple) -> None:
    """Store (col, value, format) cells of one row: a str as a string cell, any other value as a number; what
    write_string / write_number do, without their A1-notation argument conversion."""
    for col, value, fmt in cells:
        (ws._write_string if isinstance(value, str) else ws._write_number)(row, col, value, fmt)


def _spans(ws) -> dict:
    """XlsxWriter's row spans (each block of 16 rows: its first and last column with a cell), computed per row."""
    spans, lo, hi = {}, None, None
    for row_num in range(ws.dim_rowmin, ws.dim_rowmax + 1):
        cols = ws.table.get(row_num)
        if cols:
            a, b = min(cols), max(cols)
            lo, hi = (a, b) if lo is None else (min(lo, a), max(hi, b))
        if (row_num + 1) % 16 == 0 or row_num == ws.dim_rowmax:
            if lo is not None:
                spans[int(row_num / 16)] = f"{lo + 1}:{hi + 1}"
                lo = None
    return spans


def _write_rows(self) -> None:
    """Worksheet._write_rows, the same XML, without the per-cell call chain for string, number and blank cells (and,
    for a row with no settings of its own on a sheet of default row height, without the <row> call chain)."""
    if self.comments:
        return type(self)._write_rows(self)
    self.row_spans = _spans(self)
    write, row_info, col_info, xf, letters = self.fh.write, self.row_info, self.col_info, {}, {}
    # what Worksheet._write_row writes for a row without row_info: r and spans only (no height, format or level)
    plain_rows = self.default_row_height == self.original_row_height and self.excel_version != 2010
    for row_num in range(self.dim_rowmin, self.dim_rowmax + 1):
        cells = self.table.get(row_num)
        if not cells and row_num not in row_info:
            continue
        span = self.row_spans.get(int(row_num / 16))
        if not cells:
            self._write_empty_row(row_num, span, row_info.get(row_num))
            continue
        info = row_info.get(row_num)
        if info is None and plain_rows:
            parts = [f'<row r="{row_num + 1}" spans="{span}">' if span else f'<row r="{row_num + 1}">']
        else:
            self._write_row(row_num, span, info)
            parts = []
        n = row_num + 1
        for col_num in sorted(cells):
            cell = cells[col_num]
            kind = cell.__class__.__name__
            if kind not in ("Number", "Datetime", "String", "Blank"):
                write("".join(parts))
                parts.clear()
                self._write_cell(row_num, col_num, cell)
                continue
            fmt = cell.format
            if not fmt:
                if info is not None and info.row_format:
                    fmt = info.row_format
                elif col_num in col_info:
                    fmt = col_info[col_num].column_format
            letter = letters.get(col_num)
            if letter is None:
                letter = letters[col_num] = xl_rowcol_to_cell_fast(0, col_num)[:-1]  # "A1" -> "A"
            if fmt is not None and fmt is not False:
                key = id(fmt)
                style = xf.get(key)
                if style is None:
                    style = xf[key] = f' s="{fmt._get_xf_index()}"'
            else:
                style = ""
            if kind == "String":
                parts.append(f'<c r="{letter}{n}"{style} t="s"><v>{cell.string}</v></c>')
            elif kind == "Blank":
                parts.append(f'<c r="{letter}{n}"{style}/>')
            else:
                parts.append(f'<c r="{letter}{n}"{style}><v>{cell.number:.16G}</v></c>')
        parts.append("</row>")
        write("".join(parts))


def fast_rows(ws) -> None:
    """Make this sheet write its rows through ``_write_rows`` above."""
    ws._write_rows = MethodType(_write_rows, ws)


def put_rows(ws, first: int, rows, formats: tuple) -> None:
    """Store many rows from row ``first`` on, column c of each row with ``formats[c]``: a str as a string cell, any
    other value as a number; what ``put_row`` does row by row (the shared strings numbered in the same order:
    row by row, left to right), in one pass. Rows XlsxWriter would treat specially (constant_memory, past the
    sheet's last row, a string long enough to be truncated, a NaN or infinite number) go through ``put_row``."""
    rows = rows if isinstance(rows, list) else list(rows)
    if not rows:
        return
    ncol, last = len(formats), first + len(rows) - 1
    if ws.constant_memory or first < 0 or last >= ws.xls_rowmax or ncol > ws.xls_colmax:
        for r, row in enumerate(rows, start=first):
            put_row(ws, r, tuple(zip(range(ncol), row, formats, strict=True)))
        return
    from xlsxwriter.worksheet import CellNumberTuple, CellStringTuple

    sst, table, long_ = ws.str_table, ws.table, ws.xls_strmax // 2
    index, count = sst.string_table, 0
    for r, row in enumerate(rows, start=first):
        cells = {}
        for c, value in enumerate(row):
            fmt = formats[c]
            if value.__class__ is str:
                if len(value) > long_:  # XlsxWriter may truncate it: its own path
                    ws._write_string(r, c, value, fmt)
                    continue
                i = index.get(value)
                if i is None:
                    i = index[value] = sst.unique_count
                    sst.unique_count += 1
                count += 1
                cells[c] = CellStringTuple(i, fmt)
            elif value != value or value in (_INF, -_INF):  # NaN or infinite: XlsxWriter's own path
                ws._write_number(r, c, value, fmt)
            else:
                cells[c] = CellNumberTuple(value, fmt)
        if r in table:
            table[r].update(cells)
        else:
            table[r] = cells
    sst.count += count
    ws._check_dimensions(first, 0)
    ws._check_dimensions(last, ncol - 1)


_INF = float("inf")


def fast_strings(wb) -> None:
    """Make this workbook write its shared strings (xl/sharedStrings.xml) with the same XML through a shorter path:
    a string with nothing to escape or preserve is written as it is, any other through XlsxWriter's own ``_write_si``."""
    from xlsxwriter.packager import Packager
    from xlsxwriter.sharedstrings import SharedStrings

    class _Strings(SharedStrings):
        def _write_sst_strings(self) -> None:
            plain, si, parts = _PLAIN.fullmatch, self._write_si, []
            for string in self.string_table.string_array:
                if plain(string):
                    parts.append(f"<si><t>{string}</t></si>")
                else:
                    self.fh.write("".join(parts))
                    parts.clear()
                    si(string)
            self.fh.write("".join(parts))

    class _Packager(Packager):
        def _write_shared_strings_file(self) -> None:
            if not self.workbook.str_table.count:
                return
            sst = _Strings()
            sst.string_table = self.workbook.str_table
            sst._set_xml_writer(self._filename("xl/sharedStrings.xml"))
            sst._assemble_xml_file()

    wb._get_packager = _Packager


# a string XlsxWriter writes unchanged in <si><t>…</t></si>: no leading or trailing whitespace (xml:space), no control
# character and no "_x" (its _xHHHH_ escapes), no " & < > (XML escapes; a rich string starts with <r>), no U+FFFE/U+FFFF
_PLAIN = re.compile(r'(?!\s)(?:[^\x00-\x1f"&<>\ufffe\uffff_]|_(?!x))*(?<!\s)')
