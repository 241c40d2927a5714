"""Issue 11 item 2: a unit paid earlier beyond what is due now is decided by the rules, never stops its region at
the gate, and is listed for recovery (overpayments.csv, manifest, report). Driven through the CLI as operators do."""

import csv
import json
import subprocess
import sys

from autogrant.data_samples.drop_files import write_drop
from autogrant.data_samples.edge_cases import DropBuilder

REGION = "210300"


def autogrant(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "autogrant.flows.cli", *args], capture_output=True, text=True, cwd=cwd)


def _rows(path):
    with path.open(encoding="utf-8", newline="") as fh:
        return {r["uscc"]: r for r in csv.DictReader(fh)}


def test_prior_payments_beyond_what_is_due_are_decided_and_listed_not_gated(tmp_path):
    b = DropBuilder(y=2020)
    b.fund(REGION, months=24)
    ok = b.unit(REGION, name="鞍山甲有限公司")  # 2400.00 × 60% = 1440.00 due, nothing paid earlier: PAY
    over = b.unit(REGION, name="鞍山乙有限公司")  # due 1440.00, paid 2000.00 earlier: REJECT ALREADY_PAID, excess 560.00
    rejected = b.unit(REGION, name="鞍山丙有限公司", status="revoked")  # rejected now, paid 300.00 earlier: excess 300.00
    held = b.unit(REGION, name="鞍山丁有限公司", account=False)  # HOLD, due 1440.00, paid 1500.00: excess 60.00
    other = b.unit(REGION, name="鞍山戊有限公司")  # paid under another policy: not this policy's money
    for code, amount, policy in ((over, "2000.00", "LN-2021"), (rejected, "300", "LN-2021"), (held, "1500.0", "LN-2021"),
                                 (other, "9999.99", "DL-2020")):  # fmt: skip
        b.prior_disbursements.append({"uscc": code, "policy_id": policy, "amount": amount, "paid_date": "2021-05-01"})
    data, out = tmp_path / "drop", tmp_path / "out"
    write_drop(b.tables(), data)

    proc = autogrant("run", "--policy", "LN-2021", "--data", str(data), "--out", str(out), "--region", REGION,
                     "--today", "2021-08-02")  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr  # the gate passes: nothing here is autogrant's own error
    decisions = _rows(out / "decisions.csv")
    assert decisions[ok]["decision"] == "PAY" and decisions[ok]["amount"] == "1440.00"
    assert (decisions[over]["decision"], decisions[over]["reasons"], decisions[over]["amount"]) == (
        "REJECT",
        "ALREADY_PAID",
        "0.00",
    )
    assert decisions[rejected]["decision"] == "REJECT" and "UNIT_INACTIVE" in decisions[rejected]["reasons"]
    assert decisions[held]["decision"] == "REJECT" and decisions[held]["reasons"].startswith("ALREADY_PAID")
    assert decisions[other]["decision"] == "PAY" and decisions[other]["already_paid"] == "0.00"

    listed = _rows(out / "overpayments.csv")
    assert {u: (r["paid_earlier"], r["due_now"], r["excess"]) for u, r in listed.items()} == {
        over: ("2000.00", "1440.00", "560.00"),
        rejected: ("300.00", "0.00", "300.00"),
        held: ("1500.00", "1440.00", "60.00"),
    }
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["overpayments"] == {REGION: {"units": 3, "excess_fen": 92000}}
    report = (out / "report.html").read_text(encoding="utf-8")
    assert "多发待追回" in report and over in report and "920.00" in report
    assert list((out / "notices" / REGION).glob("*.csv")), "the region went on to its public notice"


def test_a_failing_gate_names_its_units(tmp_path):
    """The evidence of a failed expectation names the units (USCC and the values compared), not glued numbers."""
    import pandas as pd

    from autogrant.transforms.gate import Gate, GateResult

    gate = Gate(tmp_path / "out", "t")
    frame = pd.DataFrame({
        "uscc": ["91210300A", "91210300B"], "decision": ["PAY", "PAY"], "reasons": ["", ""],
        "bank_account": ["1", "2"], "bank_code": ["102222000011"] * 2, "amount_fen": [100, 500],
        "amount_due_fen": [100, 400], "paid_after_fen": [100, 500], "headcount_ref": [5, 5],
        "headcount_cap": [200, 200], "formula_max_fen": [100, 500],
    })  # fmt: skip
    result = GateResult("210300")
    gate._run("decisions", frame, "210300", {"units_in_scope": 2}, result)
    (failure,) = result.failures
    assert "uscc 91210300B" in failure and "amount_due_fen=400" in failure and "paid_after_fen=500" in failure
    assert "91210300A" not in failure
