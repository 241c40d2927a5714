"""transforms/notice_writer.py: the notices written in a worker process are the bytes notice.write_notice writes,
and a notice the worker cannot write fails the night's wait, naming it."""

import datetime as dt
from pathlib import Path

import duckdb
import pytest

from autogrant.transforms import notice
from autogrant.transforms.notice_writer import NoticeWriter


@pytest.fixture
def con():
    con = duckdb.connect()
    con.execute("ATTACH ':memory:' AS ledger")
    con.execute("""CREATE TABLE ledger.claims (unit_name VARCHAR, uscc VARCHAR, amount_fen BIGINT, notice_start DATE,
                   notice_end DATE, policy_id VARCHAR, notice_id VARCHAR)""")  # fmt: skip
    start, end = dt.date(2026, 11, 20), dt.date(2026, 11, 26)
    for i in range(30):
        region = "210200" if i % 3 else "210300"
        con.execute(
            "INSERT INTO ledger.claims VALUES (?, ?, ?, ?, ?, 'LN-2021', ?)",
            [f"单位{i}" if i % 7 else f'=A{i},"x"', f"91210{i:013d}", 100 + i * 137, start, end, f"N-{region}"],
        )
    yield con
    con.close()


def _files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_the_worker_writes_what_write_notice_writes(con, tmp_path: Path):
    for region in ("210200", "210300"):
        notice.write_notice(con, tmp_path / "plain", region, f"N-{region}")
    with NoticeWriter() as writer:
        for region in ("210200", "210300"):
            paths = writer.write(con, tmp_path / "worker", region, f"N-{region}")
            assert [p.name for p in paths] == [f"N-{region}.csv", f"N-{region}.xlsx"]
        assert writer.write(con, tmp_path / "worker", "210400", "N-210400") == []  # no unit: nothing
    plain, worker = _files(tmp_path / "plain"), _files(tmp_path / "worker")
    assert len(plain) == 4 and worker == plain


def test_a_notice_the_worker_cannot_write_fails_the_wait(con, tmp_path: Path):
    out = tmp_path / "out"
    (out / "notices").mkdir(parents=True)
    (out / "notices" / "210300").write_text("a file where the region's folder goes")
    writer = NoticeWriter()
    writer.write(con, out, "210200", "N-210200")
    writer.write(con, out, "210300", "N-210300")
    with pytest.raises(RuntimeError, match="notices/210300/N-210300"):
        writer.wait()
    assert (out / "notices" / "210200" / "N-210200.xlsx").is_file()  # the other notice is still written whole
    assert not list(out.rglob(".*.tmp-*"))
