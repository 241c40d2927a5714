"""Ordinary mistakes end in a quarantine record or one line a clerk can act on (exit 2), never an internal error
(issue 11 item 7): money cells written as people write them, --out naming a file, a damaged ledger.duckdb.
Each case drives `autogrant` in a subprocess as an operator does; a damaged ledger is left byte for byte as it was."""

import csv
import hashlib
import random
import subprocess
import sys
from pathlib import Path

import pytest

from autogrant.data_samples.drop_files import write_drop
from autogrant.data_samples.edge_cases import DropBuilder, make_uscc

pytestmark = pytest.mark.slow  # an acceptance test through the CLI or whole nights: CI runs it (pytest -m slow)

REGION = "210300"
TODAY = "2021-08-02"
UNIT = make_uscc(REGION, DropBuilder.serial + 1)  # the drop's first unit
BAD_MONEY = ["1,234.50", "¥12", "1 234", "1e3", "12.345", "-1", "12.5元", "１２.５", "NaN"]


def autogrant(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "autogrant.flows.cli", *map(str, args)], capture_output=True, text=True, cwd=cwd)


def one_line(proc, *words: str) -> str:
    """Exit 2, exactly one line on stderr (starting 'autogrant:') that contains ``words``; no traceback anywhere."""
    assert proc.returncode == 2, f"exit {proc.returncode}: {proc.stdout}\n{proc.stderr}"
    assert "Traceback" not in proc.stdout + proc.stderr and "internal error" not in proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("autogrant:"), proc.stderr
    for w in words:
        assert w in lines[0], lines[0]
    return lines[0]


@pytest.fixture(scope="module")
def drop(tmp_path_factory) -> Path:
    b = DropBuilder(y=2020)
    b.fund(REGION)
    for k in range(4):
        b.unit(REGION, name=f"鞍山华兴机械{k}有限公司", start=10 + k)
    data = tmp_path_factory.mktemp("drop") / "drop"
    write_drop(b.tables(), data)
    return data


@pytest.fixture(scope="module")
def ran(drop, tmp_path_factory) -> Path:
    """A run's OUT with its ledger (claims in notice), to be damaged by copies."""
    out = tmp_path_factory.mktemp("ran") / "out"
    proc = autogrant("run", "--policy", "LN-2021", "--data", drop, "--out", out, "--today", TODAY)
    assert proc.returncode == 0, proc.stderr
    return out


def test_money_cells_as_people_write_them_are_quarantined_with_a_reason(drop, tmp_path):
    data = tmp_path / "drop"
    data.mkdir()
    for p in drop.iterdir():
        (data / p.name).write_bytes(p.read_bytes())
    with (drop / "payments.csv").open(encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh))
    col = rows[0].index("unit_paid")
    for line, value in enumerate([*BAD_MONEY, " 12.50 "], start=2):  # rows 2.. of the file; the last is padded only
        rows[line - 1][col] = value
    with (data / "payments.csv").open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows(rows)
    proc = autogrant("run", "--policy", "LN-2021", "--data", data, "--out", tmp_path / "out", "--today", TODAY)
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stdout + proc.stderr
    with (tmp_path / "out" / "quarantine.csv").open(encoding="utf-8", newline="") as fh:
        held = {(r["file"], int(r["line"])): r for r in csv.DictReader(fh) if r["column"] == "unit_paid"}
    for line, value in enumerate(BAD_MONEY, start=2):
        r = held[("payments.csv", line)]
        assert r["value"] == value.strip() and "1234.50" in r["reason"], r
    assert ("payments.csv", 2 + len(BAD_MONEY)) not in held  # " 12.50 " is 12.50 yuan: trimmed, accepted


COMMANDS = {
    "run": ["run", "--policy", "LN-2021", "--data", "{drop}", "--out", "{out}", "--today", TODAY],
    "demo": ["demo", "--out", "{out}"],
    "approve": ["approve", "LN-2021-210300-20210802-1", "--by", "demo-approver", "--out", "{out}"],
    "object": ["object", "--policy", "LN-2021", "--uscc", UNIT, "--reason", "x", "--out", "{out}"],
    "resolve": ["resolve", "--policy", "LN-2021", "--uscc", UNIT, "--outcome", "cleared", "--out", "{out}"],
    "queue": ["queue", "--out", "{out}", "--today", TODAY],
    "explain": ["explain", "--out", "{out}", "--uscc", UNIT],
    "annual-report": ["annual-report", "--year", "2021", "--out", "{out}"],
    "verify": ["verify", "{out}"],
}


def _args(command: str, **paths) -> list[str]:
    return [a.format(**paths) for a in COMMANDS[command]]


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_out_naming_an_existing_file_is_one_line_exit_2(command, drop, tmp_path):
    afile = tmp_path / "out.txt"
    afile.write_text("not a folder\n", encoding="utf-8")
    one_line(autogrant(*_args(command, drop=drop, out=afile)), str(afile))
    assert afile.read_text(encoding="utf-8") == "not a folder\n"
    if command == "run":  # a folder to be made below a file, and a ledger below a file
        one_line(autogrant(*_args(command, drop=drop, out=afile / "sub")), str(afile))
        one_line(autogrant(*_args(command, drop=drop, out=tmp_path / "o"), "--ledger", afile / "l.duckdb"), str(afile))


def _damage(ledger: Path, kind: str) -> None:
    data = ledger.read_bytes()
    rnd = random.Random(kind)
    if kind == "truncated":
        ledger.write_bytes(data[: len(data) // 2])
    elif kind == "random bytes":
        ledger.write_bytes(rnd.randbytes(len(data)))
    elif kind == "empty":
        ledger.write_bytes(b"")
    elif kind == "a folder":
        ledger.unlink()
        (ledger / "x").mkdir(parents=True)
    elif kind.startswith("block"):  # 4000 bytes overwritten inside the first or the last storage block
        at = 12288 + 8 if kind == "block first" else len(data) - 262144 + 8
        ledger.write_bytes(data[:at] + rnd.randbytes(4000) + data[at + 4000 :])


def _fingerprint(path: Path) -> dict:
    """Every file at or below path (and the WAL beside it) with its SHA-256."""
    files = [path] if path.is_file() else sorted(p for p in path.rglob("*"))
    files += [p for p in path.parent.glob(path.name + ".*")]
    return {str(p): hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else "dir" for p in files}


@pytest.mark.parametrize("kind", ["truncated", "random bytes", "empty", "a folder", "block first", "block last"])
def test_a_damaged_ledger_is_one_line_exit_2_and_left_untouched(kind, ran, drop, tmp_path):
    out = tmp_path / "out"
    subprocess.run(["cp", "-a", str(ran), str(out)], check=True)
    ledger = out / "ledger.duckdb"
    _damage(ledger, kind)
    before = _fingerprint(ledger)
    commands = ["run", "approve", "queue"] + (["object", "resolve", "annual-report"] if kind == "truncated" else [])
    for command in commands:
        line = one_line(autogrant(*_args(command, drop=drop, out=out)), str(ledger))
        assert "ledger" in line
        assert _fingerprint(ledger) == before, command
