"""The money side: notice, approval, release, reruns, top-ups, bank returns, objections, the ledger's own refusals.
The tests whose subject is the sequence of nights replay them; the others start from a ledger seeded at the state
they need (tests/ledger_seed.py, fixture ledger_seed) and run only the nights they test."""

import csv
import datetime as dt

import duckdb
import pytest

from autogrant.data_samples.drop_files import write_drop
from autogrant.transforms import ledger
from autogrant.transforms.errors import InputError
from tests.conftest import NIGHT1, NIGHT2, NIGHT3, REGION, batch_of, ledger_rows, night, read_decisions


def paid_by_unit(out):
    return dict(ledger_rows(out, "SELECT uscc, sum(amount_fen) FROM payments GROUP BY uscc"))


def walk_to_payment(drop, out):
    """Night 1: notice; night 2: batch; approval by another person; night 3: the payment file."""
    night(drop.path, out, NIGHT1)
    night(drop.path, out, NIGHT2)
    ledger.approve(out / "ledger.duckdb", batch_of(out), "demo-approver")
    return night(drop.path, out, NIGHT3)


def paid(drop, seed):
    """The ledger both units leave when paid 1440.00 each (noticed NIGHT1, batched NIGHT2, released NIGHT3), seeded."""
    seed.paid(drop.units, NIGHT1, NIGHT2, NIGHT3)
    return seed.out


def test_nothing_is_paid_before_notice_and_approval(drop, tmp_path):
    out = tmp_path / "out"
    night(drop.path, out, NIGHT1)
    assert ledger_rows(out, "SELECT state, notice_end FROM claims") == [("in_notice", dt.date(2026, 11, 27))] * 2
    notice = (out / "notices" / REGION / f"LN-2021-{REGION}-20261120.csv").read_text(encoding="utf-8-sig")
    assert "1440.00" in notice
    night(drop.path, out, dt.date(2026, 11, 27))  # the notice's last day: not ended yet
    assert ledger_rows(out, "SELECT count(*) FROM batches") == [(0,)]
    night(drop.path, out, NIGHT2)
    assert ledger_rows(out, "SELECT state, payments, total_fen FROM batches") == [("awaiting_approval", 2, 2880_00)]
    night(drop.path, out, NIGHT3)  # not approved: still nothing paid
    assert ledger_rows(out, "SELECT count(*) FROM payments") == [(0,)]
    assert not (out / "payments" / REGION).exists()


def test_the_preparer_cannot_approve_and_the_ledger_refuses_it_too(drop, ledger_seed):
    out = ledger_seed.out
    ledger_seed.notice(NIGHT1, drop.units)
    (batch,) = ledger_seed.batch(NIGHT2)  # prepared by autogrant-nightly
    with pytest.raises(InputError, match="the preparer cannot approve it"):
        ledger.approve(out / "ledger.duckdb", batch, "autogrant-nightly")
    con = duckdb.connect(str(out / "ledger.duckdb"))
    with pytest.raises(duckdb.ConstraintException):
        con.execute("UPDATE batches SET approved_by = 'autogrant-nightly', state = 'approved'")
    con.close()


@pytest.mark.slow
def test_the_same_drop_run_three_more_times_pays_once(drop, tmp_path):
    out = tmp_path / "out"
    walk_to_payment(drop, out)
    for day in (dt.date(2026, 12, 2), dt.date(2026, 12, 3), dt.date(2026, 12, 4)):
        night(drop.path, out, day)
    assert paid_by_unit(out) == {drop.codes[0]: 1440_00, drop.codes[1]: 1440_00}
    assert ledger_rows(out, "SELECT count(*) FROM payments") == [(2,)]
    rows = read_decisions(out)
    assert (rows[drop.codes[0]]["decision"], rows[drop.codes[0]]["reasons"], rows[drop.codes[0]]["amount"]) == (
        "REJECT",
        "ALREADY_PAID",
        "0.00",
    )
    assert len(list((out / "payments" / REGION).glob("*.csv"))) == 2  # one batch: UTF-8 and GB18030


@pytest.mark.slow
def test_a_top_up_pays_exactly_the_difference(drop, ledger_seed):
    out = paid(drop, ledger_seed)
    # corrected premium records: December was 150.00 a side, not 100.00 -> base 2500.00, 60% = 1500.00
    drop.payments = [p for p in drop.payments if not (p["uscc"] == drop.codes[0] and p["fee_month"] == "2020-12")]
    drop.pay(drop.codes[0], "2020-12", 150_00, 150_00, dt.date(2020, 12, 15))
    write_drop(drop.tables(), drop.path)
    night(drop.path, out, dt.date(2026, 12, 7))
    row = read_decisions(out)[drop.codes[0]]
    assert (row["decision"], row["amount_due"], row["already_paid"], row["amount"]) == ("PAY", "1500.00", "1440.00", "60.00")
    (batch,) = ledger_seed.batch(dt.date(2026, 12, 15))  # the top-up's notice ended: batched and approved
    ledger_seed.approve(batch)
    night(drop.path, out, dt.date(2026, 12, 16))
    assert paid_by_unit(out)[drop.codes[0]] == 1500_00
    assert ledger_rows(out, "SELECT seq, amount_fen, paid_before_fen, paid_after_fen FROM payments WHERE uscc = ? ORDER BY seq", [drop.codes[0]]) == [
        (1, 1440_00, 0, 1440_00), (2, 60_00, 1440_00, 1500_00)]  # fmt: skip


def _bank_return(drop, out, status="returned", amount=None, payment_id=None):
    pid, batch, code, fen = ledger_rows(
        out, "SELECT payment_id, batch_id, uscc, amount_fen FROM payments WHERE uscc = ?", [drop.codes[0]]
    )[0]
    folder = drop.path / "bank_returns"
    folder.mkdir(exist_ok=True)
    with (folder / "result_20261202.csv").open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["batch_id", "payment_id", "uscc", "amount", "status", "reason", "value_date"])
        w.writerow(
            [batch, payment_id or pid, code, amount or f"{fen // 100}.{fen % 100:02d}", status, "账户已销户", "2026-12-02"]
        )
    return pid


@pytest.mark.slow
def test_a_returned_payment_is_repaid_only_after_the_account_changes(drop, ledger_seed):
    out = paid(drop, ledger_seed)
    _bank_return(drop, out)
    night(drop.path, out, dt.date(2026, 12, 3))
    row = read_decisions(out)[drop.codes[0]]
    assert (row["decision"], row["reasons"], row["already_paid"]) == ("HOLD", "PAYMENT_RETURNED", "0.00")
    night(drop.path, out, dt.date(2026, 12, 4))  # the same returns file again: reversed once only
    assert ledger_rows(out, "SELECT count(*) FROM payments WHERE kind = 'reversal'") == [(1,)]
    drop.units[0]["bank_account"] = "6222020200998877"
    write_drop(drop.tables(), drop.path)
    night(drop.path, out, dt.date(2026, 12, 7))
    batch = batch_of(out)  # noticed before: no second notice for the repayment
    ledger.approve(out / "ledger.duckdb", batch, "demo-approver")
    night(drop.path, out, dt.date(2026, 12, 8))
    assert paid_by_unit(out)[drop.codes[0]] == 1440_00
    assert ledger_rows(out, "SELECT bank_account FROM payments WHERE uscc = ? ORDER BY seq DESC LIMIT 1", [drop.codes[0]]) == [
        ("6222020200998877",)
    ]


def test_a_bank_row_that_does_not_match_is_reported_not_acted_on(drop, ledger_seed):
    out = paid(drop, ledger_seed)
    _bank_return(drop, out, amount="1000.00")
    night(drop.path, out, dt.date(2026, 12, 3))
    with (out / "bank_reconciliation.csv").open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert rows[0]["problem"] == "amount differs from the ledger's 1440.00"
    assert ledger_rows(out, "SELECT count(*) FROM payments WHERE kind = 'reversal'") == [(0,)]


def test_an_objection_holds_the_unit_and_an_upheld_one_removes_it(drop, ledger_seed):
    out, lg = ledger_seed.out, ledger_seed.path
    ledger_seed.notice(NIGHT1, drop.units)
    ledger.lodge_objection(lg, "LN-2021", drop.codes[0], "实名举报: 已停产", "demo-clerk", NIGHT1)
    night(drop.path, out, NIGHT2)
    assert read_decisions(out)[drop.codes[0]]["reasons"] == "UNDER_OBJECTION"
    assert ledger_rows(out, "SELECT uscc FROM claims WHERE state = 'batched'") == [(drop.codes[1],)]
    ledger.resolve_objection(lg, "LN-2021", drop.codes[0], "upheld", "demo-clerk", "核实属实", NIGHT2)
    night(drop.path, out, NIGHT3)
    row = read_decisions(out)[drop.codes[0]]
    assert (row["decision"], row["reasons"]) == ("REJECT", "OBJECTION_UPHELD")
    assert ledger_rows(out, "SELECT state FROM claims WHERE uscc = ?", [drop.codes[0]]) == [("withdrawn",)]


def test_a_cleared_objection_lets_the_unit_into_the_next_batch(drop, ledger_seed):
    out, lg = ledger_seed.out, ledger_seed.path
    ledger_seed.notice(NIGHT1, drop.units)
    ledger.lodge_objection(lg, "LN-2021", drop.codes[0], "名称存疑", "demo-clerk", NIGHT1)
    ledger_seed.batch(NIGHT2, only=[drop.codes[1]])  # night 2 as it leaves the ledger: the objection holds the unit
    assert ledger_rows(out, "SELECT state FROM claims WHERE uscc = ?", [drop.codes[0]]) == [("in_notice",)]
    ledger.resolve_objection(lg, "LN-2021", drop.codes[0], "cleared", "demo-clerk", "", NIGHT2)
    night(drop.path, out, NIGHT3)
    assert ledger_rows(out, "SELECT uscc, state FROM claims WHERE uscc = ?", [drop.codes[0]]) == [(drop.codes[0], "batched")]


def test_the_ledger_refuses_a_payment_beyond_amount_due_even_from_a_bug(drop, ledger_seed):
    out = paid(drop, ledger_seed)
    con = duckdb.connect(str(out / "ledger.duckdb"))
    with pytest.raises(duckdb.ConstraintException):  # a second payment taking the unit past 1440.00
        con.execute(
            """INSERT INTO payments SELECT 'PX', 'PX', 'payment', policy_id, region_code, uscc, batch_id, 2, 100, paid_after_fen,
               paid_after_fen + 100, amount_due_fen, unit_name, bank_account, bank_code, account_name, channel, entered_on
               FROM payments WHERE uscc = ?""",
            [drop.codes[0]],
        )
    with pytest.raises(duckdb.ConstraintException):  # the same entry twice (same unit and sequence number)
        con.execute("INSERT INTO payments SELECT * REPLACE ('PY' AS entry_id) FROM payments WHERE uscc = ?", [drop.codes[0]])
    con.close()


def test_a_quiet_night_takes_no_ledger_transaction_for_its_regions(drop, tmp_path, monkeypatch):
    """A region with nothing approved, newly payable, withdrawn or ended in notice changes no ledger row: it takes
    no transaction (nothing to seal, nothing to commit); the night that batches the ended notices does take one.
    A closed night leaves its ledger checkpointed: no write-ahead log beside the file."""
    out = tmp_path / "out"
    night(drop.path, out, NIGHT1)  # both units into notice until 2026-11-27
    steps = []
    real = ledger._transaction

    def counted(con, step):
        steps.append(step)
        real(con, step)

    monkeypatch.setattr(ledger, "_transaction", counted)
    journal = ledger_rows(out, "SELECT count(*) FROM journal")
    night(drop.path, out, dt.date(2026, 11, 23))  # the next working day: the notice still open
    assert steps == ["21_bank_returns_commit.sql"]
    assert ledger_rows(out, "SELECT count(*) FROM journal") == journal
    assert ledger_rows(out, "SELECT state FROM claims") == [("in_notice",)] * 2
    assert not (out / "ledger.duckdb.wal").exists()
    night(drop.path, out, NIGHT2)  # the notice has ended: the claims into a batch, in a transaction of their own
    assert steps[1:] == ["21_bank_returns_commit.sql", "54_notice_commit.sql"]
    assert batch_of(out) and ledger_rows(out, "SELECT state FROM claims") == [("batched",)] * 2


def test_a_ledger_a_night_left_is_walked_again_only_once_changed_or_a_week_on(drop, tmp_path, monkeypatch):
    """check_readable walks every index on a copy of the ledger (seconds at province scale). A night that ends well
    seals the file it leaves (size, SHA-256, the day its indexes were walked): the next night on that very file does
    not walk them again; a clerk's approval between nights changes the file and the walk runs; so it does once the
    walk is DEEP_CHECK_DAYS old."""
    import json

    from autogrant.transforms.files import sha256_file

    out = tmp_path / "out"
    path = out / "ledger.duckdb"
    night(drop.path, out, NIGHT1)
    sealed = json.loads((out / f"ledger.duckdb{ledger.SEAL}").read_text(encoding="utf-8"))
    assert sealed["sha256"] == sha256_file(path) and sealed["size"] == path.stat().st_size
    walks, walk = [], ledger._walk_indexes
    monkeypatch.setattr(ledger, "_walk_indexes", lambda p, tables: (walks.append(p), walk(p, tables))[1])
    night(drop.path, out, NIGHT2)  # the notice has ended: a batch awaiting approval
    assert walks == []
    ledger.approve(path, batch_of(out), "demo-approver")  # the file changed between nights
    night(drop.path, out, NIGHT3)
    assert walks == [path]
    night(drop.path, out, NIGHT3 + dt.timedelta(days=1))
    assert walks == [path]
    monkeypatch.setattr(ledger, "DEEP_CHECK_DAYS", 0)  # as if a week had passed since the walk
    night(drop.path, out, NIGHT3 + dt.timedelta(days=2))
    assert walks == [path, path]
