"""The clerk's queue, read back against the ledger and the decisions it summarises (not against fixed numbers).
The batches the queue shows are seeded (tests/ledger_seed.py) from the claims the first night put in notice."""

import csv
import datetime as dt
from collections import Counter

from autogrant.transforms.paths import SAMPLES_DIR
from autogrant.transforms.queue import clerk_queue
from autogrant.transforms.run import run_policy
from autogrant.transforms.workdays import add_working_days
from tests.ledger_seed import LedgerSeed

NIGHT1 = dt.date(2026, 11, 20)


def test_the_queue_shows_open_notices_then_batches_and_held_units_as_the_decisions_do(tmp_path):
    out = tmp_path / "out"
    run_policy("LN-2021", SAMPLES_DIR / "ln2021", out, today=NIGHT1, validate=False)
    with (out / "decisions.csv").open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    payable = [r for r in rows if r["decision"] == "PAY"]
    paid_fen = sum(round(float(r["amount"]) * 100) for r in payable)

    sections = {s.key: s for s in clerk_queue(out / "ledger.duckdb", out, NIGHT1)}
    assert list(sections) == ["batches", "notices", "objections", "held", "overdue", "returned"]
    assert sections["batches"].rows == []
    notices = sections["notices"].rows
    assert sum(r[3] for r in notices) == len(payable) and sum(r[4] for r in notices) == paid_fen
    assert {r[1] for r in notices} == {r["region_code"] for r in payable}
    held = Counter((r["region_code"], code) for r in rows if r["decision"] == "HOLD" for code in r["reasons"].split(";"))
    assert {(r[1], r[2]): r[3] for r in sections["held"].rows} == dict(held)
    # LN-2021's pay-by lies years before the business date: every region with an unpaid payable unit is overdue
    unpaid = Counter(
        r["region_code"] for r in rows if r["decision"] in ("PAY", "HOLD") and float(r["amount_due"]) > float(r["already_paid"])
    )
    assert {r[1]: r[2] for r in sections["overdue"].rows} == dict(unpaid)

    night2 = add_working_days(NIGHT1, 6)  # every notice ended: each region's claims into a batch awaiting approval
    assert len(LedgerSeed(out).batch(night2)) == len(notices)
    sections = {s.key: s for s in clerk_queue(out / "ledger.duckdb", out, night2)}
    assert sections["notices"].rows == []
    batches = sections["batches"].rows
    assert sum(r[3] for r in batches) == len(payable) and sum(r[4] for r in batches) == paid_fen
    assert {r[5] for r in batches} == {"autogrant-nightly"} and {r[6] for r in batches} == {night2}


def test_queue_command_speaks_chinese_flags_overdue_units_and_english_on_request(tmp_path):
    import subprocess
    import sys

    out = tmp_path / "out"
    run_policy("LN-2021", SAMPLES_DIR / "ln2021", out, today=NIGHT1, validate=False)
    cmd = [sys.executable, "-m", "autogrant.flows.cli"]
    r = subprocess.run([*cmd, "queue", "--out", str(out), "--today", str(NIGHT1)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert "待审批批次" in r.stdout and "公示中" in r.stdout and "逾期未发放单位" in r.stdout
    assert "鞍山市" in r.stdout and "缺少银行账户 (BANK_ACCOUNT_MISSING)" in r.stdout
    # LN-2021's pay-by date (deadlines.pay_by) lies before the business date: the days late are printed
    from autogrant.transforms.deadlines import pay_by
    from autogrant.transforms.policy import load

    due = pay_by(load("LN-2021"), dt.date(2021, 12, 31))
    assert str(due) in r.stdout and str((NIGHT1 - due).days) in r.stdout
    r = subprocess.run([*cmd, "--lang", "en", "queue", "--out", str(out), "--today", str(NIGHT1)], capture_output=True, text=True)
    assert r.returncode == 0 and "units unpaid past their pay-by date" in r.stdout and "Anshan" in r.stdout
    r = subprocess.run([*cmd, "queue", "--out", str(tmp_path / "none")], capture_output=True, text=True)
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1 and "ledger" in r.stderr
