"""Issue 12 item 5 on the command line: fraud signals hold a unit before its money moves, and only a clerk's recorded
check (`autogrant clear`, a ledger entry in the hash chain) lets it go, for the account that was checked.

- one account registered for two employers: both HOLD ACCOUNT_SHARED, listed in OUT/signals/<region>.csv;
- an account in another unit's name: HOLD ACCOUNT_NAME_MISMATCH;ACCOUNT_NAME_OTHER_UNIT;
- an account changed while the unit is in public notice: HOLD ACCOUNT_CHANGED, its notice withdrawn; cleared, it
  goes into a new notice with the new account; a later change raises the signal again;
- a clearance forged straight into the ledger file stops the next night (exit 3)."""

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

pytestmark = pytest.mark.slow  # whole nights through the CLI: CI runs it (pytest -m slow)

REGION = "210300"


def autogrant(*args):
    env = {k: v for k, v in os.environ.items() if k not in ("AUTOGRANT_APPROVERS", "AUTOGRANT_LEDGER", "AUTOGRANT_APPROVER_KEY")}
    env |= {"AUTOGRANT_PROGRESS": "0", "AUTOGRANT_LANG": "en"}
    return subprocess.run([sys.executable, "-m", "autogrant.flows.cli", *args], capture_output=True, text=True, env=env)


def night(data: Path, out: Path, today: str, code: int = 0) -> subprocess.CompletedProcess:
    done = autogrant("run", "--policy", "LN-2021", "--data", str(data), "--out", str(out), "--today", today)
    assert done.returncode == code, done.stdout + done.stderr
    return done


def listed(out: Path) -> list[dict]:
    path = out / "signals" / f"{REGION}.csv"
    if not path.is_file():
        return []
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


def claims(out: Path, uscc: str) -> list[tuple]:
    with duckdb.connect(str(out / "ledger.duckdb"), read_only=True) as con:
        return con.execute(
            "SELECT state, bank_account FROM claims WHERE uscc = ? ORDER BY created_on, claim_id", [uscc]
        ).fetchall()


def clear(out: Path, uscc: str, signal: str, note: str = "called the unit: the account is its own", today="2021-08-03"):
    return autogrant("clear", "--policy", "LN-2021", "--uscc", uscc, "--signal", signal, "--note", note,
                     "--out", str(out), "--today", today)  # fmt: skip


@pytest.fixture
def drop(tmp_path):
    b = DropBuilder(y=2020)
    b.fund(REGION)
    u = {
        "shared_1": b.unit(REGION, name="鞍山博远商贸有限公司", bank_account="6222029900000001"),
        "shared_2": b.unit(REGION, name="鞍山博远物流有限公司", bank_account="6222029900000001"),
        "owner": b.unit(REGION, name="鞍山博远科技有限公司"),
        "plain": b.unit(REGION, name="鞍山博远机械有限公司"),
    }
    u["other_name"] = b.unit(REGION, name="鞍山博远电子有限公司", account_name="鞍山博远科技有限公司")
    return b, u, tmp_path / "drop", tmp_path / "out"


def test_shared_account_and_account_of_another_unit_hold_until_a_clerk_clears_them(drop):
    b, u, data, out = drop
    write_drop(b.tables(), data)
    night(data, out, "2021-08-02")
    d = read_decisions(out)
    for k in ("shared_1", "shared_2"):
        assert (d[u[k]]["decision"], d[u[k]]["reasons"], d[u[k]]["amount"]) == ("HOLD", "ACCOUNT_SHARED", "0.00")
        assert "深入梳理资金风险点" in d[u[k]]["citations"]
    assert (d[u["other_name"]]["decision"], d[u["other_name"]]["reasons"]) == (
        "HOLD", "ACCOUNT_NAME_MISMATCH;ACCOUNT_NAME_OTHER_UNIT")  # fmt: skip
    assert (d[u["plain"]]["decision"], d[u["owner"]]["decision"]) == ("PAY", "PAY")
    rows = {(r["统一社会信用代码"], r["风险信号"]): r for r in listed(out)}
    assert set(rows) == {(u["shared_1"], "ACCOUNT_SHARED"), (u["shared_2"], "ACCOUNT_SHARED"),
                         (u["other_name"], "ACCOUNT_NAME_OTHER_UNIT")}  # fmt: skip
    assert u["shared_2"] in rows[(u["shared_1"], "ACCOUNT_SHARED")]["说明"]
    assert u["owner"] in rows[(u["other_name"], "ACCOUNT_NAME_OTHER_UNIT")]["说明"]
    assert claims(out, u["shared_1"]) == []  # never noticed, never batched

    # refused, one line each, nothing recorded: a unit not held by that signal, no note, not a signal
    for args, words in (((u["plain"], "ACCOUNT_SHARED"), "is not held by ACCOUNT_SHARED"),
                        ((u["shared_1"], "ACCOUNT_SHARED", " "), "--note is empty"),
                        ((u["shared_1"], "UNDER_OBJECTION"), "is not a fraud signal")):  # fmt: skip
        done = clear(out, *args)
        assert done.returncode == 2 and words in done.stderr and len(done.stderr.strip().splitlines()) == 1, done.stderr
        assert "Traceback" not in done.stderr

    done = clear(out, u["shared_1"], "ACCOUNT_SHARED")
    assert done.returncode == 0 and f"{u['shared_1']}-S1" in done.stdout, done.stdout + done.stderr
    again = clear(out, u["shared_1"], "ACCOUNT_SHARED")
    assert again.returncode == 0 and "already" in again.stdout
    night(data, out, "2021-08-03")
    d = read_decisions(out)
    assert d[u["shared_1"]]["decision"] == "PAY" and d[u["shared_2"]]["reasons"] == "ACCOUNT_SHARED"
    assert claims(out, u["shared_1"]) == [("in_notice", "6222029900000001")]
    audit = autogrant("audit", "--out", str(out), "--uscc", u["shared_1"], "--policy", "LN-2021")
    assert audit.returncode == 0 and "fraud signal cleared" in audit.stdout and "ACCOUNT_SHARED" in audit.stdout


def test_an_account_changed_during_the_notice_holds_the_unit_until_the_new_account_is_confirmed(drop):
    b, u, data, out = drop
    write_drop(b.tables(), data)
    night(data, out, "2021-08-02")
    plain = u["plain"]
    old = claims(out, plain)
    assert [s for s, _ in old] == ["in_notice"]

    for row in b.units:  # the register now gives the unit another account, in its own name
        if row["uscc"] == plain:
            row["bank_account"] = "6222021111111111"
    write_drop(b.tables(), data)
    night(data, out, "2021-08-04")
    d = read_decisions(out)
    assert (d[plain]["decision"], d[plain]["reasons"], d[plain]["amount"]) == ("HOLD", "ACCOUNT_CHANGED", "0.00")
    assert [s for s, _ in claims(out, plain)] == ["withdrawn"]  # the noticed payment does not go to the new account
    row = next(r for r in listed(out) if r["统一社会信用代码"] == plain)
    assert row["风险信号"] == "ACCOUNT_CHANGED" and old[0][1] in row["说明"] and row["银行账号"] == "6222021111111111"

    assert clear(out, plain, "ACCOUNT_CHANGED", today="2021-08-05").returncode == 0
    night(data, out, "2021-08-05")
    d = read_decisions(out)
    assert d[plain]["decision"] == "PAY"
    assert claims(out, plain) == [("withdrawn", old[0][1]), ("in_notice", "6222021111111111")]  # a new notice

    for row in b.units:  # changed once more: the clearance was for the account checked, not for any account
        if row["uscc"] == plain:
            row["bank_account"] = "6222022222222222"
    write_drop(b.tables(), data)
    night(data, out, "2021-08-06")
    assert read_decisions(out)[plain]["reasons"] == "ACCOUNT_CHANGED"


def test_a_clearance_forged_in_the_ledger_file_stops_the_next_night(drop):
    b, u, data, out = drop
    write_drop(b.tables(), data)
    night(data, out, "2021-08-02")
    with duckdb.connect(str(out / "ledger.duckdb")) as con:  # an insider writes the clearance no clerk gave
        con.execute(
            "INSERT INTO signal_clearances VALUES ('x', 'LN-2021', ?, ?, 'ACCOUNT_SHARED', '6222029900000001', "
            "'102222000011', 'demo-clerk', DATE '2021-08-02', 'ok')",
            [u["shared_2"], REGION],
        )
    done = night(data, out, "2021-08-03", code=3)
    assert "signal_clearances" in done.stderr.splitlines()[0] or "clearance" in done.stderr.splitlines()[0], done.stderr
    assert read_decisions(out)[u["shared_2"]]["decision"] == "HOLD"  # nothing was decided on the forged row
