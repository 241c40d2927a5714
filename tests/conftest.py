"""Shared fixtures: small drops built in code (data_samples/edge_cases.DropBuilder), run through the plain functions;
the nights of the money side (notice, batch, release) and ledgers seeded at a later state (tests/ledger_seed.py)."""

import csv
import datetime as dt
import os
from pathlib import Path

import duckdb
import pytest

os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("DO_NOT_TRACK", "1")

from autogrant.data_samples.drop_files import write_drop  # noqa: E402
from autogrant.data_samples.edge_cases import DropBuilder  # noqa: E402
from autogrant.transforms.run import run_policy  # noqa: E402
from tests.ledger_seed import LedgerSeed  # noqa: E402

REGION = "210300"
NIGHT1 = dt.date(2026, 11, 20)  # a Friday: the notice runs over the 5 working days to 2026-11-27
NIGHT2 = dt.date(2026, 11, 30)  # the notice has ended: a batch awaiting approval
NIGHT3 = dt.date(2026, 12, 1)  # the approved batch released: the payment file


def read_decisions(out: Path) -> dict[str, dict]:
    with (out / "decisions.csv").open(encoding="utf-8", newline="") as fh:
        return {r["uscc"]: r for r in csv.DictReader(fh)}


def run_builder(b: DropBuilder, tmp_path: Path, policy: str = "LN-2021", **kw) -> dict[str, dict]:
    data, out = tmp_path / "drop", tmp_path / "out"
    write_drop(b.tables(), data)
    run_policy(policy, data, out, **({"validate": False} | kw))
    return read_decisions(out)


@pytest.fixture
def builder() -> DropBuilder:
    b = DropBuilder(y=2020)
    b.fund(REGION, months=24)
    return b


def write_two_regions(path: Path) -> Path:
    """A drop of two funded regions (210300, 210400) of three units each (5, 10 and 20 insured), written to path."""
    b = DropBuilder(y=2020)
    for region in ("210300", "210400"):
        b.fund(region)
        for start in (5, 10, 20):
            b.unit(region, start=start)
    write_drop(b.tables(), path)
    return path


def night(drop, out, today, **kw):
    return run_policy("LN-2021", drop, out, today=today, validate=False, **kw)


def ledger_rows(out, sql, params=()):
    con = duckdb.connect(str(out / "ledger.duckdb"), read_only=True)
    try:
        return con.execute(sql, list(params)).fetchall()
    finally:
        con.close()


def batch_of(out, region=REGION):
    rows = ledger_rows(out, "SELECT batch_id FROM batches WHERE region_code = ? AND state = 'awaiting_approval'", [region])
    assert len(rows) == 1
    return rows[0][0]


@pytest.fixture
def drop(tmp_path):
    """Two units of REGION, 1440.00 each (2400.00 premium base × 60%), the drop written to tmp_path/drop."""
    b = DropBuilder(y=2020)
    b.fund(REGION)
    b.codes = [b.unit(REGION, name="大连华兴机械有限公司"), b.unit(REGION, name="大连瑞丰商贸有限公司", start=20)]
    write_drop(b.tables(), tmp_path / "drop")
    b.path = tmp_path / "drop"
    return b


@pytest.fixture
def ledger_seed(tmp_path) -> LedgerSeed:
    """A ledger in tmp_path/out written directly (tests/ledger_seed.py): start a test at the step it tests."""
    return LedgerSeed(tmp_path / "out")
