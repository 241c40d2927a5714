"""内蒙古工作方案 二(二): one scheme's money per unit and year. What the alternative scheme's own ledger (its OUT
beside this policy's, as the nightly lays them out) paid a unit counts against the scheme chosen for it."""

import datetime as dt
import json

import duckdb

from autogrant.data_samples.drop_files import write_drop
from autogrant.data_samples.edge_cases import DropBuilder
from autogrant.transforms import ledger
from autogrant.transforms.run import run_policy
from tests.conftest import read_decisions

REGION = "150100"


def sibling_ledger(root, policy_id: str, uscc: str, fen: int) -> None:
    """OUT_ROOT/<policy_id>/ with a ledger that paid ``uscc`` ``fen`` under ``policy_id``."""
    folder = root / policy_id
    folder.mkdir(parents=True)
    (folder / ".autogrant.json").write_text(json.dumps({"policy_id": policy_id, "ledger": "ledger.duckdb"}), encoding="utf-8")
    con = duckdb.connect()
    ledger.attach(con, folder / "ledger.duckdb")
    con.execute(
        """INSERT INTO ledger.payments (entry_id, payment_id, kind, policy_id, region_code, uscc, batch_id, seq, amount_fen,
           paid_before_fen, paid_after_fen, amount_due_fen, entered_on) VALUES ('e1', 'p1', 'payment', ?, ?, ?, 'b1', 1, ?, 0, ?, ?, ?)""",
        [policy_id, REGION, uscc, fen, fen, fen, dt.date(2020, 9, 1)],
    )
    con.close()


def test_the_other_schemes_ledger_counts_against_the_chosen_one(tmp_path):
    b = DropBuilder(y=2019)
    b.fund(REGION)
    rich = b.unit(REGION, monthly_premium=400000)  # 96000.00 yuan of premium refund (100%) against 93000.00
    b.difficulty.append({"uscc": rich, "recognised_date": "2020-05-20"})
    write_drop(b.tables(), tmp_path / "drop")

    alone = read_decisions_of(tmp_path / "alone", tmp_path / "drop")
    assert (alone[rich]["decision"], alone[rich]["amount"]) == ("PAY", "96000.00")

    root = tmp_path / "root"
    sibling_ledger(root, "IM-2020-DIFFICULTY", rich, 1000_00)  # paid 1000.00 under the difficulty scheme
    beside = read_decisions_of(root / "IM-2020", tmp_path / "drop")
    assert (beside[rich]["decision"], beside[rich]["amount_due"], beside[rich]["already_paid"], beside[rich]["amount"]) == (
        "PAY", "96000.00", "0.00", "95000.00")  # fmt: skip


def read_decisions_of(out, drop):
    run_policy("IM-2020", drop, out, validate=False, today=dt.date(2020, 9, 10))
    return read_decisions(out)
