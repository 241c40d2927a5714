"""Issue 17 items 1 and 7 on the command line: a unit above LN-2021's auto-grant cap is held APPLICATION_REQUIRED
and listed for the clerks; `autogrant apply` records its application; the next nights pay it through the notice,
the approval and the ledger. A payer missing from the register is listed in unregistered_payers.csv and the report."""

import csv
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from autogrant.data_samples.drop_files import write_drop
from autogrant.data_samples.edge_cases import DropBuilder
from tests.conftest import read_decisions

pytestmark = pytest.mark.slow  # an acceptance test through the CLI or whole nights: CI runs it (pytest -m slow)

REGION = "210300"


def autogrant(*args):
    env = {k: v for k, v in os.environ.items() if k not in ("AUTOGRANT_APPROVERS", "AUTOGRANT_LEDGER", "AUTOGRANT_APPROVER_KEY")}
    env |= {"AUTOGRANT_PROGRESS": "0", "AUTOGRANT_LANG": "en"}
    return subprocess.run([sys.executable, "-m", "autogrant.flows.cli", *args], capture_output=True, text=True, env=env)


def night(data: Path, out: Path, today: str) -> subprocess.CompletedProcess:
    done = autogrant("run", "--policy", "LN-2021", "--data", str(data), "--out", str(out), "--today", today)
    assert done.returncode == 0, done.stderr
    return done


def test_a_unit_over_the_cap_applies_and_is_paid_like_any_other(tmp_path):
    b = DropBuilder(y=2020)
    b.fund(REGION)
    big = b.unit(REGION, name="鞍山重型机械有限公司", start=201)  # 201 insured: 2400.00 yuan paid, 60% = 1440.00
    small = b.unit(REGION, name="鞍山小型机械有限公司", start=10)
    gone = b.unit(REGION, name="未登记的单位", start=3, monthly_premium=50_00)  # paid 12 x 2 x 50.00 = 1200.00
    b.units = [u for u in b.units if u["uscc"] != gone]  # the tax bureau has it, the register does not
    data, out = tmp_path / "drop", tmp_path / "out"
    write_drop(b.tables(), data)

    night(data, out, "2021-08-02")
    d = read_decisions(out)
    assert gone not in d
    assert (d[big]["decision"], d[big]["reasons"], d[big]["amount_due"], d[big]["amount"]) == (
        "HOLD", "APPLICATION_REQUIRED", "1440.00", "0.00")  # fmt: skip
    assert "可在2021年12月31日前申请" in d[big]["citations"]
    with (out / "applications" / f"{REGION}.csv").open(encoding="utf-8-sig", newline="") as fh:
        listed = list(csv.reader(fh))
    assert [r[1] for r in listed[1:]] == [big] and listed[1][4] == "1440.00" and listed[1][5] == "2021-12-31"
    with (out / "unregistered_payers.csv").open(encoding="utf-8", newline="") as fh:
        assert list(csv.DictReader(fh)) == [
            {
                "uscc": gone,
                "payment_rows": "12",
                "premium_paid": "1200.00",
                "first_fee_month": "2020-01",
                "last_fee_month": "2020-12",
            }
        ]
    report = (out / "report.html").read_text(encoding="utf-8")
    assert "Payers missing from the unit register (1 units, 1,200.00 yuan paid for 2020" in report and gone in report

    # a unit that is not awaiting an application, and a policy without the route, are refused (exit 2, one line)
    not_over = autogrant("apply", "--policy", "LN-2021", "--uscc", small, "--out", str(out), "--today", "2021-08-02")
    assert not_over.returncode == 2 and "is not awaiting an application" in not_over.stderr
    dl = autogrant("apply", "--policy", "DL-2020", "--uscc", small, "--out", str(tmp_path / "dl"))
    assert dl.returncode == 2 and "over_cap route reject" in dl.stderr

    done = autogrant(
        "apply", "--policy", "LN-2021", "--uscc", big, "--out", str(out), "--today", "2021-08-02", "--by", "demo-clerk"
    )
    assert done.returncode == 0, done.stderr
    assert f"LN-2021-{big}-A1" in done.stdout.splitlines()[0]
    again = autogrant("apply", "--policy", "LN-2021", "--uscc", big, "--out", str(out), "--today", "2021-08-03")
    assert again.returncode == 0 and "already applied" in again.stdout

    night(data, out, "2021-08-03")  # decided like any other unit: PAY, into public notice
    d = read_decisions(out)
    assert (d[big]["decision"], d[big]["reasons"], d[big]["amount"]) == ("PAY", "", "1440.00")
    assert not (out / "applications" / f"{REGION}.csv").exists()
    night(data, out, "2021-08-12")  # the notice (5 working days) has ended: a batch awaiting approval
    con = duckdb.connect(str(out / "ledger.duckdb"), read_only=True)
    batches = [r[0] for r in con.execute("SELECT batch_id FROM batches WHERE state = 'awaiting_approval'").fetchall()]
    con.close()
    assert len(batches) == 1
    approved = autogrant("approve", batches[0], "--by", "demo-approver", "--out", str(out))
    assert approved.returncode == 0, approved.stderr
    night(data, out, "2021-08-13")  # released: the ledger pays it, and its decision says so
    con = duckdb.connect(str(out / "ledger.duckdb"), read_only=True)
    paid = con.execute("SELECT uscc, amount_fen FROM payments WHERE kind = 'payment' ORDER BY uscc").fetchall()
    applications = con.execute("SELECT uscc, lodged_by, late FROM applications").fetchall()
    con.close()
    assert (big, 144000) in paid and applications == [(big, "demo-clerk", False)]
    assert read_decisions(out)[big]["reasons"] == "ALREADY_PAID"


def test_an_application_after_the_deadline_is_recorded_and_said_to_be_late(tmp_path):
    b = DropBuilder(y=2020)
    b.fund(REGION)
    big = b.unit(REGION, start=250)
    data, out = tmp_path / "drop", tmp_path / "out"
    write_drop(b.tables(), data)
    night(data, out, "2021-12-30")
    done = autogrant("apply", "--policy", "LN-2021", "--uscc", big, "--out", str(out), "--today", "2022-01-04")
    assert done.returncode == 0, done.stderr
    assert "after the application deadline 2021-12-31" in done.stdout.splitlines()[0]
