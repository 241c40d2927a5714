"""The seeded ledger (tests/ledger_seed.py) is what the nights write: after each step, every ledger table and the
hash chain (each entry's content and hash) agree row for row with a ledger the same steps left by replaying the
nights, and the released batch's payment file has the same bytes. The tests that start from a seed rest on this."""

import datetime as dt

import duckdb
import pytest

from autogrant.data_samples.drop_files import write_drop
from autogrant.transforms import ledger
from tests.conftest import NIGHT1, NIGHT2, NIGHT3, REGION, batch_of, night
from tests.ledger_seed import LedgerSeed

TABLES = ("claims", "batches", "approvals", "payments", "objections", "bank_results", "journal")


def tables(out):
    con = duckdb.connect(str(out / "ledger.duckdb"), read_only=True)
    try:
        return {t: con.execute(f"SELECT * FROM {t} ORDER BY ALL").fetchall() for t in TABLES}
    finally:
        con.close()


@pytest.mark.slow  # checks the tests' own seeding against three nights (~10 s): CI runs it (pytest -m slow)
def test_a_seeded_ledger_is_what_the_nights_write(drop, tmp_path):
    big = drop.unit(REGION, name="大连港湾建设有限公司", start=150, monthly_premium=3_500_000)  # 504000.00: HVPS
    write_drop(drop.tables(), drop.path)
    replayed, seed = tmp_path / "replayed", LedgerSeed(tmp_path / "seeded")
    at = dt.datetime(2026, 11, 30, 9, 30)
    night(drop.path, replayed, NIGHT1)
    seed.notice(NIGHT1, drop.units, {drop.codes[0]: 1440_00, drop.codes[1]: 1440_00, big: 504000_00})
    after_notice = tables(replayed)
    assert after_notice == tables(seed.out) and len(after_notice["claims"]) == 3

    night(drop.path, replayed, NIGHT2)
    (batch,) = seed.batch(NIGHT2)
    assert batch == batch_of(replayed) == f"LN-2021-{REGION}-20261130-1"
    assert tables(replayed) == tables(seed.out)

    ledger.approve(replayed / "ledger.duckdb", batch, "demo-approver", now=at)
    seed.approve(batch, now=at)
    assert tables(replayed) == tables(seed.out)

    night(drop.path, replayed, NIGHT3)
    assert seed.release(NIGHT3) == [batch]
    released = tables(replayed)
    assert released == tables(seed.out) and {p[-2] for p in released["payments"]} == {"BEPS", "HVPS"}
    assert [row[-2:] for row in released["journal"]] == [row[-2:] for row in tables(seed.out)["journal"]]  # same hashes
    for name in (f"{batch}.csv", f"{batch}.gb18030.csv"):
        assert (seed.out / "payments" / REGION / name).read_bytes() == (replayed / "payments" / REGION / name).read_bytes()
