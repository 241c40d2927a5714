"""Fuzz (hypothesis): random cells of every input file of a small drop replaced by random text, bytes (invalid UTF-8,
GB18030), huge and negative numbers, separators, quotes, newlines, NUL or nothing; columns dropped or duplicated,
rows duplicated, files truncated or re-encoded. `autogrant run` is driven in-process through its entry point
(autogrant.flows.cli.main) and must never end in an internal error (70) or a traceback; it exits 0, 2 (one line),
3 or 4. When it writes a manifest, every file balances: rows read = rows staged + rows quarantined, and every
quarantined row has a reason. A file no operation touched is read row for row.

The default test runs a moderate, derandomised number of cases (stable in CI); `pytest -m slow` runs many more."""

import contextlib
import csv
import io
import json
import os
import sys
import tempfile
from pathlib import Path
from unittest import mock

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from autogrant.flows import cli
from tests.fuzz_drops import BASE, REGIONS, TODAY, Drop, a_file, damaged_bytes, index, mutate, operation, text_value, write


def run_cli(*args: str) -> tuple[int, str, str]:
    """`autogrant ARGS` in this process through its entry point: (exit code, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    code = 0
    env = {"AUTOGRANT_PROGRESS": "0", "AUTOGRANT_LANG": "en"}
    with mock.patch.object(sys, "argv", ["autogrant", *args]), mock.patch.dict(os.environ, env):
        os.environ.pop("PREFECT_API_URL", None)
        os.environ.pop("AUTOGRANT_LEDGER", None)
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                cli.main()
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    return code, out.getvalue(), err.getvalue()


def check(drop: Drop, inspect=None) -> int:
    with tempfile.TemporaryDirectory(prefix="autogrant-fuzz-") as tmp, contextlib.chdir(tmp):
        data, out = Path(tmp) / "drop", Path(tmp) / "out"
        write(drop, data)
        scope = [a for r in REGIONS for a in ("--region", r)]  # two regions: the gate's validation runs per region in scope
        code, stdout, stderr = run_cli(
            "run", "--policy", "LN-2021", "--data", str(data), "--out", str(out), "--today", TODAY, *scope
        )
        said = stdout + stderr
        assert code != 70, f"internal error: {stderr}\n{(Path(tmp) / 'autogrant-error.log').read_text(errors='replace')[-3000:]}"
        assert "Traceback" not in said, said
        assert code in (0, 2, 3, 4), f"exit {code}: {said}"
        if code == 2:
            lines = [line for line in stderr.splitlines() if line.strip()]
            assert len(lines) == 1 and lines[0].startswith("autogrant:"), stderr
        if code == 0 or (out / "manifest.json").is_file():
            balanced(drop, out)
        if inspect is not None:
            inspect(out)
    return code


def balanced(drop: Drop, out: Path) -> None:
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    counts = manifest["rows"]
    with (out / "quarantine.csv").open(encoding="utf-8", newline="") as fh:
        held = list(csv.DictReader(fh))
    assert all(r["reason"].strip() for r in held), [r for r in held if not r["reason"].strip()]
    for name in drop.files:
        if name == "control.csv":
            continue
        c = counts[name]
        assert c["rows_read"] == c["rows_staged"] + c["rows_quarantined"], (name, c)
        assert c["rows_quarantined"] == len({r["line"] for r in held if r["file"] == name}), (name, c)
        if name not in drop.restructured:  # cells changed at most: read record for record, a changed row held at most
            assert c["rows_read"] == len(drop.files[name]) - 1, (name, c)  # (with the row it now duplicates)
            assert c["rows_quarantined"] <= 2 * len(drop.changed_cells.get(name, ())), (name, c, held)
    if "units.csv" not in drop.restructured and (out / "decisions.csv").is_file():
        same_names(drop, out)


def same_names(drop: Drop, out: Path) -> None:
    """Every register row left as it was keeps its unit name, byte for byte, in decisions.csv (damaged bytes in one
    row never make the whole file read in another encoding)."""
    table = drop.files["units.csv"]
    uscc, name = table[0].index("uscc"), table[0].index("unit_name")
    changed = {r for r, _ in drop.changed_cells.get("units.csv", ())}
    codes = [row[uscc] for row in table[1:]]
    with (out / "decisions.csv").open(encoding="utf-8", newline="") as fh:
        decided = {r["uscc"]: r["unit_name"] for r in csv.DictReader(fh)}
    for r, row in enumerate(table[1:], start=1):
        if r not in changed and codes.count(row[uscc]) == 1 and row[uscc] in decided:
            assert decided[row[uscc]] == row[name], (row, decided[row[uscc]])


CASES = {"run": 0, "codes": {}}

cell_operation = st.one_of(
    st.tuples(st.just("cell"), a_file, index, index, text_value),
    st.tuples(st.just("damaged cell"), a_file, index, index, damaged_bytes),
)
# half the drops change cells only (most of them get decided: the deep paths), half anything (mostly exit 2)
drops = st.one_of(
    st.tuples(st.lists(cell_operation, min_size=1, max_size=6), st.booleans()),
    st.tuples(st.lists(operation, min_size=1, max_size=5), st.booleans()),
)


def _fuzz(case) -> None:
    ops, with_control = case
    code = check(mutate(ops, with_control))
    CASES["run"] += 1
    CASES["codes"][code] = CASES["codes"].get(code, 0) + 1


@settings(max_examples=6, deadline=None, derandomize=True, database=None, suppress_health_check=list(HealthCheck))
@given(drops)
def test_fuzzed_drops_never_end_in_an_internal_error(case):
    _fuzz(case)


@pytest.mark.slow
@settings(max_examples=150, deadline=None, derandomize=True, database=None, suppress_health_check=list(HealthCheck))
@given(drops)
def test_fuzzed_drops_many(case):
    _fuzz(case)


@pytest.mark.parametrize(
    "name, damaged",
    [("units.csv", "鞍山".encode("gb18030")), ("payments.csv", b"\xff"), ("roster.csv", b"\x81")],
)
def test_a_damaged_byte_holds_its_row_only(name, damaged):
    """Found by this fuzz: one GBK character in a UTF-8 units.csv made the whole file read as GB18030, every Chinese
    name garbled and nothing held; a byte neither UTF-8 nor GB18030 in an ASCII file (payments, roster) stopped the
    run. Now that record alone is quarantined, and every other unit keeps its name."""
    drop = mutate([("damaged cell", name, 3, 1, damaged)], with_control=False)

    def one_row_held(out: Path) -> None:
        rows = json.loads((out / "manifest.json").read_text(encoding="utf-8"))["rows"][name]
        assert rows["rows_quarantined"] == 1 and rows["rows_staged"] == len(BASE[name]) - 2, rows

    assert check(drop, one_row_held) == 0  # check() also compares every other unit's name in decisions.csv


def test_a_file_the_csv_parser_cannot_walk_is_one_line_exit_2():
    """Found by this fuzz: raw bytes with a bare line break in a CRLF bank-returns file put DuckDB's CSV parser in an
    invalid state (internal error, exit 70). Now: exit 2 and one line naming the file (check() asserts both)."""
    ops = [
        ("duplicate row", "bank_returns/returns-1.csv", 464904),
        ("cell", "bank_returns/returns-1.csv", 6952, 328, b"y\x94\n\x87d\x19"),
        ("cell", "region_funds.csv", 102719, 601282, "4\xa0'\x0f"),
    ]
    assert check(mutate(ops, with_control=True)) == 2


def test_the_unfuzzed_drop_runs_and_balances():
    """The base drop itself: exit 0, every file balanced and staged whole (the fuzz starts from a good drop)."""
    assert check(mutate([], with_control=True)) == 0
