"""The clerk's queue, read back against the ledger and the decisions it summarises (not against fixed numbers)."""

import csv
import datetime as dt
from collections import Counter

from autogrant.transforms.paths import SAMPLES_DIR
from autogrant.transforms.queue import clerk_queue
from autogrant.transforms.run import run_policy
from autogrant.transforms.workdays import add_working_days

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

    night2 = add_working_days(NIGHT1, 6)
    run_policy("LN-2021", SAMPLES_DIR / "ln2021", out, today=night2, validate=False)
    sections = {s.key: s for s in clerk_queue(out / "ledger.duckdb", out, night2)}
    assert sections["notices"].rows == []
    batches = sections["batches"].rows
    assert sum(r[3] for r in batches) == len(payable) and sum(r[4] for r in batches) == paid_fen
    assert {r[5] for r in batches} == {"autogrant-nightly"} and {r[6] for r in batches} == {night2}
