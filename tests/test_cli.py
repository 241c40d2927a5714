"""The `autogrant` command as a clerk uses it: run on the bundled sample, explain a unit, list policies."""

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

import autogrant
from autogrant.transforms.paths import SAMPLES_DIR

CONTRACT_COLUMNS = [
    "policy_id", "region_code", "uscc", "unit_name", "decision", "reasons", "headcount_ref", "headcount_start",
    "headcount_end", "layoff_rate", "size_class", "premium_base", "rate", "amount_due", "already_paid", "amount", "citations",
]  # fmt: skip
REGISTRY = yaml.safe_load((Path(autogrant.__file__).parent / "reference" / "reasons.yaml").read_text(encoding="utf-8"))
REASON_ORDER = [e["code"] for e in REGISTRY]  # the contract's list, then the codes appended to it
REJECTS = {e["code"] for e in REGISTRY if e["decision"] == "REJECT"}


def autogrant(*args):
    return subprocess.run([sys.executable, "-m", "autogrant.flows.cli", *args], capture_output=True, text=True)


@pytest.fixture(scope="module")
def sample_out(tmp_path_factory):
    out = tmp_path_factory.mktemp("sample")
    proc = autogrant("run", "--policy", "LN-2021", "--data", str(SAMPLES_DIR / "ln2021"), "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    return out


def test_sample_run_writes_decisions_as_the_contract_says(sample_out):
    with (sample_out / "decisions.csv").open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        rows = list(reader)
    assert reader.fieldnames == CONTRACT_COLUMNS
    assert [(r["region_code"], r["uscc"]) for r in rows] == sorted((r["region_code"], r["uscc"]) for r in rows)
    seen = set()
    for r in rows:
        codes = r["reasons"].split(";") if r["reasons"] else []
        assert codes == sorted(codes, key=REASON_ORDER.index)
        seen.update(codes)
        assert r["decision"] == ("REJECT" if REJECTS & set(codes) else "HOLD" if codes else "PAY")
        assert (r["amount"] != "0.00") <= (r["decision"] == "PAY")
    # every reason code that the drop alone can produce under LN-2021 (the ledger's holds and the
    # DL/IM-only codes need their own drops)
    # (above LN-2021's cap a unit is paid on application: APPLICATION_REQUIRED, never HEADCOUNT_OVER_CAP)
    ln_codes = set(REASON_ORDER) - {"SIZE_CLASS_INELIGIBLE", "DOUBLE_DIP", "NOT_IN_DIFFICULTY", "AMOUNT_ZERO", "HEADCOUNT_OVER_CAP",
                                    "PAYMENT_RETURNED", "UNDER_OBJECTION", "OBJECTION_UPHELD", "OTHER_SCHEME_CHOSEN",
                                    "PREMIUM_MONTHS_SHORT", "ACCOUNT_CHANGED"}  # fmt: skip
    assert ln_codes <= seen
    manifest = json.loads((sample_out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["rows_balanced"] and len(manifest["policy_sha256"]) == 64
    assert sum(sum(r["units"].values()) for r in manifest["decisions"].values()) == len(rows)


def test_explain_prints_each_rule_value_limit_and_clause(sample_out):
    with (sample_out / "decisions.csv").open(encoding="utf-8", newline="") as fh:
        row = next(r for r in csv.DictReader(fh) if r["reasons"] == "LAYOFF_RATE_EXCEEDED")
    proc = autogrant("explain", "--out", str(sample_out), "--uscc", row["uscc"])
    assert proc.returncode == 0, proc.stderr
    fail = [line for line in proc.stdout.splitlines() if "[FAIL]" in line]
    assert len(fail) == 1 and "裁员率" in fail[0] and "辽人社发〔2021〕7号" in fail[0]  # Chinese first
    assert f"{row['headcount_start']} -> {row['headcount_end']}" in fail[0]
    proc = autogrant("--lang", "en", "explain", "--out", str(sample_out), "--uscc", row["uscc"])
    fail = [line for line in proc.stdout.splitlines() if "[FAIL]" in line]
    assert proc.returncode == 0 and len(fail) == 1 and "layoff rate" in fail[0]


def test_explain_reads_an_out_written_before_the_columns_were_renamed(sample_out, tmp_path):
    """decision_details.parquet of an OUT written before issue 14 has layoff_limit, arrears_as_of, …: explained alike."""
    import duckdb

    from autogrant.transforms.explain import OLD_NAMES, explain_from_out

    with (sample_out / "decisions.csv").open(encoding="utf-8", newline="") as fh:
        uscc = next(r for r in csv.DictReader(fh) if r["reasons"] == "LAYOFF_RATE_EXCEEDED")["uscc"]
    old = tmp_path / "old"
    (old / "regions").mkdir(parents=True)
    (old / "manifest.json").write_bytes((sample_out / "manifest.json").read_bytes())
    renames = ", ".join(f"{new} AS {name}" for name, new in OLD_NAMES.items())
    for part in (sample_out / "regions").glob("*/decision_details.parquet"):
        (old / "regions" / part.parent.name).mkdir()
        written = old / "regions" / part.parent.name / part.name
        duckdb.sql(f"COPY (SELECT * RENAME ({renames}) FROM read_parquet('{part}')) TO '{written}' (FORMAT parquet)")
    columns = {c[0] for c in duckdb.sql(f"DESCRIBE SELECT * FROM read_parquet('{written}')").fetchall()}
    assert set(OLD_NAMES) <= columns and not set(OLD_NAMES.values()) & columns
    assert explain_from_out(old, uscc) == explain_from_out(sample_out, uscc)


def test_explain_unknown_unit_is_one_line(sample_out):
    proc = autogrant("explain", "--out", str(sample_out), "--uscc", "91210300000000000X")
    assert proc.returncode == 2 and len(proc.stderr.strip().splitlines()) == 1


def test_policies_lists_assumed_values():
    proc = autogrant("policies")
    assert proc.returncode == 0
    assert "LN-2021" in proc.stdout and "ASSUMED notice_days" in proc.stdout
