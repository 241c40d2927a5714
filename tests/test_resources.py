"""The run's DuckDB connection: its memory limit, and the block allocator that keeps the same amount for reuse
(transforms/resources.py, issue 13)."""

import pytest

from autogrant.transforms.run_state import connect


def _settings(con) -> tuple[str, str]:
    return con.execute("SELECT current_setting('memory_limit'), current_setting('block_allocator_memory')").fetchall()[0]


@pytest.mark.parametrize("memory", [None, "2GB", "512MB"])
def test_the_block_allocator_keeps_what_the_memory_limit_allows(monkeypatch, memory):
    if memory is None:
        monkeypatch.delenv("AUTOGRANT_DUCKDB_MEMORY", raising=False)
    else:
        monkeypatch.setenv("AUTOGRANT_DUCKDB_MEMORY", memory)
    con = connect()
    try:
        limit, kept = _settings(con)
        assert kept == limit and kept != "0 bytes"
        assert limit == {None: "953.6 MiB", "2GB": "1.8 GiB", "512MB": "488.2 MiB"}[memory]
        # a statement's blocks freed and taken again: the database works as before under it
        con.execute("CREATE TABLE t AS SELECT range AS a, range::VARCHAR AS b FROM range(2000000)")
        assert con.execute("SELECT count(DISTINCT b), sum(a) FROM t").fetchall() == [(2_000_000, 1_999_999_000_000)]
    finally:
        con.close()


def test_no_memory_limit_keeps_no_blocks(monkeypatch):
    monkeypatch.setenv("AUTOGRANT_DUCKDB_MEMORY", "")
    con = connect()
    try:
        limit, kept = _settings(con)
        assert kept == "0 bytes" and limit != "953.6 MiB"  # DuckDB's own default limit, nothing kept
    finally:
        con.close()
