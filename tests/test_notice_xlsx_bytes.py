"""The notice XLSX through transforms/xlsx_rows.py (fewer calls per cell) is byte for byte what XlsxWriter's plain
write_string / write_number path writes, on rows that cross several 16-row span blocks and text that needs escaping."""

import datetime as dt
from pathlib import Path

import pytest

from autogrant.transforms import notice, xlsx_rows


def claims(n: int) -> list[tuple]:
    start, end = dt.date(2026, 11, 20), dt.date(2026, 11, 26)
    # the first rows as they are (text XlsxWriter escapes or preserves, and text it does not), then numbered
    names = ["=1+1", 'A&B <公司> "引号"', " 前导空格", "-负号", "@at", "\t制表", "大连明宇（集团）有限公司",
             "尾随空格 ", "_x0041_转义", "x_y", "<r>富</r>", "换\n行"]  # fmt: skip
    return [(names[i % len(names)] + (str(i) if i >= len(names) else ""), f"91210{i:013d}", i * 137 if i % 5 else 0,
             start, end, "LN-2021") for i in range(n)]  # fmt: skip


def plain_put_row(ws, row, cells):
    for col, value, fmt in cells:
        (ws.write_string if isinstance(value, str) else ws.write_number)(row, col, value, fmt)


def plain_put_rows(ws, first, rows, formats):
    for r, row in enumerate(rows, start=first):
        plain_put_row(ws, r, tuple(zip(range(len(formats)), row, formats, strict=True)))


@pytest.mark.parametrize("n", [1, 15, 16, 40])
def test_fast_rows_write_the_same_bytes(tmp_path: Path, monkeypatch, n: int):
    fast = tmp_path / "fast.xlsx"
    notice._write_xlsx(fast, "210200", claims(n))
    monkeypatch.setattr(xlsx_rows, "fast_rows", lambda ws: None)
    monkeypatch.setattr(xlsx_rows, "put_row", plain_put_row)
    monkeypatch.setattr(xlsx_rows, "put_rows", plain_put_rows)
    monkeypatch.setattr(xlsx_rows, "fast_strings", lambda wb: None)
    plain = tmp_path / "plain.xlsx"
    notice._write_xlsx(plain, "210200", claims(n))
    assert fast.read_bytes() == plain.read_bytes()


def test_a_changed_cell_changes_the_bytes(tmp_path: Path):
    """The comparison above can fail: one fen more gives other bytes."""
    rows = claims(20)
    notice._write_xlsx(tmp_path / "a.xlsx", "210200", rows)
    rows[7] = rows[7][:2] + (rows[7][2] + 1,) + rows[7][3:]
    notice._write_xlsx(tmp_path / "b.xlsx", "210200", rows)
    assert (tmp_path / "a.xlsx").read_bytes() != (tmp_path / "b.xlsx").read_bytes()
