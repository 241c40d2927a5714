"""The line a CSV record is reported on (quarantine, warnings, row rules) is the line it stands on in the file, when
records DuckDB's parser rejects (too many or too few fields) stand anywhere before it: at the first data line, in
runs, at the end, across the steps of ingest_read._reject_steps. Each accepted record carries its own line number
in a text column, so the check needs no second reading of the file."""

import random

import duckdb
import pytest

from autogrant.transforms import ingest_read
from autogrant.transforms.schema import UNITS

HEADER = [c.name for c in UNITS.columns]
NAME = HEADER.index("unit_name")


def write_file(path, lines: int, broken: set[int]) -> None:
    """A units file with data lines 2..lines+1; a line in ``broken`` is a record the parser rejects."""
    with path.open("w", encoding="utf-8", newline="") as fh:
        fh.write(",".join(HEADER) + "\n")
        for line in range(2, lines + 2):
            if line in broken:
                fh.write(("a," * (len(HEADER) + 2) if line % 2 else "too,few") + "\n")
            else:
                row = ["x"] * len(HEADER)
                row[NAME] = str(line)
                fh.write(",".join(row) + "\n")


def accepted_lines(tmp_path, lines: int, broken: set[int]) -> list[tuple[int, str]]:
    path = tmp_path / "units.csv"
    write_file(path, lines, broken)
    con = duckdb.connect()
    con.execute("CREATE TABLE quarantine (file VARCHAR, line BIGINT, col VARCHAR, value VARCHAR, reason VARCHAR, u VARCHAR)")
    select, read = ingest_read._load_physical(con, UNITS, path, "units.csv", tmp_path, "part")
    assert read == lines  # every record counted once: read or rejected
    rejected = [r[0] for r in con.execute("SELECT DISTINCT line FROM quarantine ORDER BY 1").fetchall()]
    assert rejected == sorted(broken)
    return con.execute(f"SELECT line, unit_name FROM ({select}) ORDER BY line").fetchall()


@pytest.mark.parametrize("seed", range(6))
def test_each_record_is_reported_on_its_own_line(tmp_path, seed, monkeypatch):
    rng = random.Random(seed)
    monkeypatch.setattr(ingest_read, "STEP_ROWS", rng.choice([4, 64, 4096]))  # few records a step: many steps
    lines = rng.choice([50, 700, 9_000])
    broken = set(rng.sample(range(2, lines + 2), rng.randint(1, lines // 10)))
    broken |= {2, 3} if seed % 2 else {lines + 1, lines}  # a run at the start, or the last lines
    got = accepted_lines(tmp_path, lines, broken)
    assert len(got) == lines - len(broken)
    assert [(line, str(line)) for line, _ in got] == got


def test_a_file_with_no_record_accepted(tmp_path):
    assert accepted_lines(tmp_path, 3, {2, 3, 4}) == []
