"""The tax bureau's contribution account as the payee of a unit without a corporate account (issue 16, fallback_payee):
contribution_accounts.csv read from the command line, its bad rows quarantined, the account carried to the ledger."""

import csv
import datetime as dt
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from autogrant.data_samples.drop_files import write_drop
from autogrant.data_samples.edge_cases import DropBuilder, make_person_id
from autogrant.transforms import ledger
from autogrant.transforms.run import run_policy
from tests.conftest import REGION, read_decisions

FALLBACK_ACCOUNT = "6217000012345678"
HEADER = "统一社会信用代码,缴费账号,开户行行号,账户名称"  # the Chinese aliases are accepted like the English names


def autogrant(*args):
    return subprocess.run([sys.executable, "-m", "autogrant.flows.cli", *args], capture_output=True, text=True)


def _drop(tmp_path: Path, with_accounts: bool) -> tuple[Path, dict[str, str]]:
    b = DropBuilder(y=2023)
    b.fund(REGION, months=24)
    u = {
        "fallback": b.unit(REGION, name="鞍山恒泰五金商行", account=False),
        "bad_row": b.unit(REGION, name="鞍山恒泰建材有限公司", account=False),
        "two_rows": b.unit(REGION, name="鞍山恒泰物流有限公司", account=False),
        "other_name": b.unit(REGION, name="鞍山恒泰餐饮有限公司", account=False),
        "own_account": b.unit(REGION, name="鞍山恒泰机械有限公司"),
    }
    data = tmp_path / "drop"
    write_drop(b.tables(), data)
    (data / "benefit_claims.csv").write_text("person_id,uscc,claim_date\n", encoding="utf-8")  # nobody claimed
    if with_accounts:
        rows = [
            f"{u['fallback']},{FALLBACK_ACCOUNT},105222000019,鞍山恒泰五金商行",
            f"{u['bad_row']},6217000012340000,10522200001,鞍山恒泰建材有限公司",  # an 11-digit CNAPS code
            f"{u['two_rows']},6217000012341111,105222000019,鞍山恒泰物流有限公司",
            f"{u['two_rows']},6217000012342222,105222000019,鞍山恒泰物流有限公司",  # which one? neither
            f"{u['other_name']},6217000012343333,105222000019,张三",
            f"{u['own_account']},6217000012344444,105222000019,鞍山恒泰机械有限公司",
        ]
        (data / "contribution_accounts.csv").write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    return data, u


@pytest.mark.slow  # a whole night through the CLI: CI runs it (pytest -m slow)
def test_a_unit_without_a_corporate_account_is_paid_to_its_contribution_account(tmp_path):
    data, u = _drop(tmp_path, with_accounts=True)
    out = tmp_path / "out"
    proc = autogrant("run", "--policy", "CN-2024", "--data", str(data), "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    d = read_decisions(out)
    got = {k: (d[c]["decision"], d[c]["reasons"], d[c]["payee_account"]) for k, c in u.items()}
    assert got == {
        "fallback": ("PAY", "", "contribution_account"),
        "bad_row": ("HOLD", "BANK_ACCOUNT_MISSING", ""),  # its only row quarantined: no fallback, not INVALID_INPUT
        "two_rows": ("HOLD", "BANK_ACCOUNT_MISSING", ""),
        "other_name": ("HOLD", "ACCOUNT_NAME_MISMATCH", "contribution_account"),
        "own_account": ("PAY", "", "register"),
    }
    assert "无对公账户" not in d[u["fallback"]]["citations"]  # no quote of a page: the cite names the notice
    assert "人社部发〔2024〕40号" in d[u["fallback"]]["citations"]
    with (out / "quarantine.csv").open(encoding="utf-8", newline="") as fh:
        bad = sorted(int(r["line"]) for r in csv.DictReader(fh) if r["file"] == "contribution_accounts.csv")
    assert bad == [3, 4, 5]  # the header is line 1
    proc = autogrant("--lang", "en", "explain", "--out", str(out), "--uscc", u["fallback"])
    assert proc.returncode == 0, proc.stderr
    line = next(x for x in proc.stdout.splitlines() if "bank account" in x)
    assert line.startswith("  [pass]") and "contribution account" in line and line.rstrip().count("5678") == 1
    proc = autogrant("explain", "--out", str(out), "--uscc", u["fallback"])
    assert proc.returncode == 0 and "税务部门提供的社会保险费缴费账户" in proc.stdout


@pytest.mark.slow  # a whole night through the CLI: CI runs it (pytest -m slow)
def test_a_drop_without_the_file_decides_as_before(tmp_path):
    data, u = _drop(tmp_path, with_accounts=False)
    out = tmp_path / "out"
    proc = autogrant("run", "--policy", "CN-2024", "--data", str(data), "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    d = read_decisions(out)
    assert {k: d[c]["reasons"] for k, c in u.items()} == {
        "fallback": "BANK_ACCOUNT_MISSING", "bad_row": "BANK_ACCOUNT_MISSING", "two_rows": "BANK_ACCOUNT_MISSING",
        "other_name": "BANK_ACCOUNT_MISSING", "own_account": "",
    }  # fmt: skip


def test_a_policy_without_the_rule_ignores_the_file_and_keeps_its_columns(tmp_path):
    b = DropBuilder(y=2021)
    b.fund(REGION, months=24)
    bare = b.unit(REGION, name="鞍山恒泰五金商行", account=False)
    data = tmp_path / "drop"
    write_drop(b.tables(), data)
    (data / "contribution_accounts.csv").write_text(f"{HEADER}\n{bare},{FALLBACK_ACCOUNT},105222000019,鞍山恒泰五金商行\n")
    run_policy("LN-2022", data, tmp_path / "out", validate=False)
    d = read_decisions(tmp_path / "out")
    assert d[bare]["reasons"] == "BANK_ACCOUNT_MISSING" and "payee_account" not in d[bare]


def test_the_ledger_and_the_payment_file_carry_the_account_actually_paid(tmp_path):
    data, u = _drop(tmp_path, with_accounts=True)
    out = tmp_path / "out"
    for today in (dt.date(2026, 11, 20), dt.date(2026, 11, 30)):  # notice, then the batch
        run_policy("CN-2024", data, out, today=today, validate=False)
    con = duckdb.connect(str(out / "ledger.duckdb"), read_only=True)
    batch = con.execute("SELECT batch_id FROM batches WHERE state = 'awaiting_approval'").fetchall()[0][0]
    con.close()
    ledger.approve(out / "ledger.duckdb", batch, "demo-approver")
    run_policy("CN-2024", data, out, today=dt.date(2026, 12, 1), validate=False)
    con = duckdb.connect(str(out / "ledger.duckdb"), read_only=True)
    paid = dict(con.execute("SELECT uscc, bank_account FROM payments WHERE kind = 'payment'").fetchall())
    claims = dict(con.execute("SELECT uscc, bank_account FROM claims").fetchall())
    con.close()
    register = {r["uscc"]: r["bank_account"] for r in csv.DictReader((data / "units.csv").open(encoding="utf-8"))}
    assert register[u["own_account"]] and register[u["own_account"]] != FALLBACK_ACCOUNT
    assert paid == {u["fallback"]: FALLBACK_ACCOUNT, u["own_account"]: register[u["own_account"]]}
    assert claims[u["fallback"]] == FALLBACK_ACCOUNT
    text = (out / "payments" / REGION / f"{batch}.csv").read_text(encoding="utf-8")
    row = next(line for line in text.splitlines() if u["fallback"] in line)
    assert f",鞍山恒泰五金商行,{FALLBACK_ACCOUNT},105222000019," in row


def test_the_fanned_out_run_pays_the_same_accounts_as_one_process(tmp_path):
    """The coordinator's halves in this process (as in tests/test_flows.py): contribution_accounts.csv is read whole by
    each region's worker; decisions.csv (with payee_account) and quarantine.csv equal the single-process run's."""
    from autogrant.transforms import worker

    b = DropBuilder(y=2023)
    regions = ["210300", "210400"]
    rows = []
    for region in regions:
        b.fund(region, months=24)
        bare = b.unit(region, name="鞍山恒泰五金商行", account=False)
        rows.append(
            {"uscc": bare, "bank_account": FALLBACK_ACCOUNT, "bank_code": "105222000019", "account_name": "鞍山恒泰五金商行"}
        )
        b.unit(region)
    rows.append(dict(rows[0], uscc=b.units[1]["uscc"], bank_code="1052"))  # bad: quarantined once, not once per worker
    b.contribution_accounts = rows
    b.benefit_claims = [{"person_id": make_person_id(7_100_000), "uscc": b.units[0]["uscc"], "claim_date": "2023-05-02"}]
    write_drop(b.tables(), tmp_path / "hive", "hive")
    day = dt.date(2026, 11, 20)
    run_policy("CN-2024", tmp_path / "hive", tmp_path / "fanned", decide_with=worker.decide_each_apart, regions=regions,
               today=day, validate=False)  # fmt: skip
    run_policy("CN-2024", tmp_path / "hive", tmp_path / "single", regions=regions, today=day, validate=False)
    for name in ("decisions.csv", "quarantine.csv"):
        assert (tmp_path / "single" / name).read_bytes() == (tmp_path / "fanned" / name).read_bytes(), name
    d = read_decisions(tmp_path / "fanned")
    assert sorted(r["payee_account"] for r in d.values()) == ["contribution_account"] * 2 + ["register"] * 2
    with (tmp_path / "fanned" / "quarantine.csv").open(encoding="utf-8", newline="") as fh:
        assert [r["file"] for r in csv.DictReader(fh)] == ["contribution_accounts.parquet"]
