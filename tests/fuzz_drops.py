"""The fuzz drops (tests/test_fuzz.py): a small valid drop as rows of text, and the hypothesis strategies and
operations that damage it (cells, bytes, headers, columns, rows, truncation, re-encoding), written as files."""

import csv
import io
import re
import tempfile
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from hypothesis import strategies as st

from autogrant.data_samples.drop_files import write_drop
from autogrant.data_samples.edge_cases import DropBuilder
from autogrant.transforms.schema import BANK_RETURNS, DATA_FILES

REGIONS = ("210300", "210200")
TODAY = "2021-08-02"
AMOUNTS = {f"{s.path}.csv": s.amount_columns for s in DATA_FILES if not s.glob} | {
    "bank_returns/returns-1.csv": BANK_RETURNS.amount_columns
}


def base_drop() -> dict[str, list[list[str]]]:
    """A small drop as CSV cells per file (header first): 9 units in two regions and a row in every optional file."""
    b = DropBuilder(y=2020)
    for region in REGIONS:
        b.fund(region)
    units = [b.unit(REGIONS[k % 2], name=f"鞍山华兴机械{k}有限公司", start=4 + k, end=4 + k - k % 3) for k in range(9)]
    b.dishonest.append({"uscc": units[0], "listed_date": "2020-03-01", "removed_date": None})
    b.zombie.append({"uscc": units[1], "listed_date": "2019-05-01"})
    b.other_subsidies.append({"uscc": units[2], "subsidy_type": "社保补贴", "year": "2020", "amount": "1200.00"})
    b.difficulty.append({"uscc": units[3], "recognised_date": "2020-06-01"})
    b.prior_disbursements.append({"uscc": units[4], "policy_id": "LN-2021", "amount": "10.00", "paid_date": "2021-03-01"})
    with tempfile.TemporaryDirectory() as tmp:
        write_drop(b.tables(), Path(tmp))
        files = {}
        for p in sorted(Path(tmp).rglob("*.csv")):
            with p.open(encoding="utf-8", newline="") as fh:
                files[p.relative_to(tmp).as_posix()] = list(csv.reader(fh))
    files["bank_returns/returns-1.csv"] = [
        ["batch_id", "payment_id", "uscc", "amount", "status", "reason", "value_date"],
        ["LN-2021-210300-20210701-1", "LN-2021-210300-20210701-1-0001", units[5], "100.00", "returned", "账户已销户", "2021-07-05"],
    ]  # fmt: skip
    return files


BASE = base_drop()
FILES = sorted(BASE) + ["control.csv"]

SPECIAL = [
    "", " ", "1,234.50", "¥12", "1 234", " 12.5 ", "1e3", "12.345", "-1", "-0.01", "NaN", "inf", "0x1F", "１２３",
    "9" * 40, "-" + "9" * 40, "99999999999999.99", "0.000000001", "2020-02-30", "20201301", "0000-00-00", "2020/1/1",
    "202013", "true", "是", "企业", "注销", "正常", "None", "NULL", "\\N", '"', '""', "'", ",", ";", "\t", "\n", "\r\n",
    "\r", "\x00", "a\x00b", "=cmd|' /C calc'!A0", "\ufeff", "\u200b", "𠮷", "X" * 300, "91210300900000001X",
]  # fmt: skip


CHINESE = ["鞍山华兴机械有限公司", "统一社会信用代码", "解除劳动合同", "滞纳金", "辽宁"]

text_value = st.one_of(
    st.sampled_from(SPECIAL),
    st.text(max_size=12),
    st.text(alphabet=",;\"'\n\r\t\x00 .-0123456789", max_size=8),
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
    st.decimals(allow_nan=True, allow_infinity=True).map(str),
)
cell_value = st.one_of(
    text_value,
    st.binary(max_size=10),  # raw bytes, most of them invalid UTF-8
    st.sampled_from(CHINESE).map(lambda s: s.encode("gb18030")),  # GB18030 inside a UTF-8 file
)
# bytes that are not UTF-8 and hold no separator, quote or line break: the record stays one record
STRUCTURE = set(b',"\r\n')
damaged_bytes = st.one_of(
    st.sampled_from([b"\xff", b"\xc3", b"\xe4\xb8", b"\x80abc", b"\xed\xa0\x80", "鞍山".encode("gb18030")]),
    st.binary(max_size=5).map(lambda b: b"\xfe" + bytes(x for x in b if x not in STRUCTURE)),  # 0xFE is never UTF-8
)
a_file = st.sampled_from(FILES)
index = st.integers(min_value=0, max_value=10**6)
operation = st.one_of(
    st.tuples(st.just("cell"), a_file, index, index, cell_value),
    st.tuples(st.just("damaged cell"), a_file, index, index, damaged_bytes),
    st.tuples(st.just("cell"), a_file, index, index, cell_value),
    st.tuples(st.just("cell"), a_file, index, index, cell_value),
    st.tuples(st.just("header"), a_file, index, cell_value),
    st.tuples(st.just("drop column"), a_file, index),
    st.tuples(st.just("duplicate column"), a_file, index),
    st.tuples(st.just("duplicate row"), a_file, index),
    st.tuples(st.just("ragged row"), a_file, index, st.integers(min_value=-3, max_value=3)),
    st.tuples(st.just("truncate"), a_file, st.floats(min_value=0, max_value=1)),
    st.tuples(st.just("encoding"), a_file, st.sampled_from(["gb18030", "utf-8-sig"])),
)


@dataclass
class Drop:
    files: dict[str, list[list]]
    touched: set[str] = field(default_factory=set)
    changed_cells: dict[str, set] = field(default_factory=dict)  # (row, column) given a new value, per file
    restructured: set[str] = field(default_factory=set)  # files whose records may no longer be the rows written
    truncate: dict[str, float] = field(default_factory=dict)
    encoding: dict[str, str] = field(default_factory=dict)


def control_rows(files: dict[str, list[list]]) -> list[list[str]]:
    """control.csv as an agency would send it for the files as they are: rows, and the amounts that parse."""
    rows = [["file", "rows", "amount_total"]]
    for name, table in files.items():
        header, body = table[0], table[1:]
        total = ""
        if AMOUNTS.get(name):
            cols = [header.index(c) for c in AMOUNTS[name] if c in header]
            fen = 0
            for r in body:
                for c in cols:
                    v = r[c].strip() if c < len(r) and isinstance(r[c], str) else ""
                    fen += int(Decimal(v) * 100) if re.fullmatch(r"[0-9]{1,14}(\.[0-9]{1,2})?", v) else 0
            total = f"{fen // 100}.{fen % 100:02d}"
        rows.append([name, str(len(body)), total])
    return rows


def mutate(ops, with_control: bool) -> Drop:
    drop = Drop({k: [list(r) for r in v] for k, v in BASE.items()})
    if with_control:
        drop.files["control.csv"] = control_rows(drop.files)
    for op in ops:
        kind, name = op[0], op[1]
        table = drop.files.get(name)
        if table is None:
            continue
        drop.touched.add(name)
        body = len(table) - 1
        width = len(table[0])
        if kind in ("cell", "damaged cell") and body:
            r = 1 + op[2] % body
            if table[r]:
                c = op[3] % len(table[r])
                table[r][c] = op[4]
                drop.changed_cells.setdefault(name, set()).add((r, c))
                if isinstance(op[4], bytes) and kind == "cell":
                    drop.restructured.add(name)  # raw bytes may hold a separator, a quote or a line break
        else:
            drop.restructured.add(name)
        if kind == "header":
            table[0][op[2] % width] = op[3]
        elif kind in ("drop column", "duplicate column"):
            c = op[2] % width
            for row in table:
                if c < len(row):
                    row[c : c + 1] = [] if kind == "drop column" else [row[c], row[c]]
        elif kind == "duplicate row" and body:
            table.append(list(table[1 + op[2] % body]))
        elif kind == "ragged row" and body:
            row = table[1 + op[2] % body]
            row[:] = row[: len(row) + op[3]] if op[3] < 0 else row + ["x"] * op[3]
        elif kind == "truncate":
            drop.truncate[name] = op[2]
        elif kind == "encoding":
            drop.encoding[name] = op[2]
    return drop


def serialise(table: list[list], encoding: str) -> bytes:
    """CSV bytes; a cell given as bytes goes in raw (what a broken export writes)."""
    raw: dict[str, bytes] = {}

    def cell(v):
        if isinstance(v, bytes):
            key = f"\ue000{len(raw)}\ue001"
            raw[key] = v
            return key
        return v

    buf = io.StringIO()
    csv.writer(buf, lineterminator="\r\n").writerows([[cell(v) for v in row] for row in table])
    data = buf.getvalue().encode(encoding)
    for key, value in raw.items():
        data = data.replace(key.encode(encoding), value)
    return data


def write(drop: Drop, folder: Path) -> None:
    for name, table in drop.files.items():
        data = serialise(table, drop.encoding.get(name, "utf-8"))
        if name in drop.truncate:
            data = data[: int(len(data) * drop.truncate[name])]
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(data)
