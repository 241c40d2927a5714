"""Acceptance: every command of `autogrant` in a subprocess, as an operator or a scheduler drives it, and every exit
code the README lists: 0 done, 1 findings, 2 unusable input (one line), 3 a release refused (tests/test_approvals.py
and tests/test_tamper-style attacks drive that one too), 4 a region that cannot be decided, 70 an internal error.
Each failure prints one line on stderr and never a traceback."""

import shutil
import subprocess
import sys

import pytest

from autogrant.data_samples.drop_files import write_drop
from autogrant.data_samples.edge_cases import DropBuilder
from autogrant.transforms.paths import POLICY_DIR, SAMPLES_DIR

pytestmark = pytest.mark.slow  # an acceptance test through the CLI or whole nights: CI runs it (pytest -m slow)

REGION, UNFUNDED = "210300", "210400"


def autogrant(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "autogrant.flows.cli", *map(str, args)], capture_output=True, text=True, cwd=cwd)


def failed(proc, code: int, words: str = "") -> bool:
    """Exit ``code`` with a first stderr line that says so (and contains ``words``), no traceback."""
    assert proc.returncode == code, f"exit {proc.returncode}, expected {code}: {proc.stdout}\n{proc.stderr}"
    assert "Traceback" not in proc.stdout + proc.stderr
    first = next((line for line in proc.stderr.splitlines() if line.startswith("autogrant")), "")
    assert first, proc.stderr
    assert words in proc.stderr, proc.stderr
    return True


@pytest.fixture(scope="module")
def demo_out(tmp_path_factory):
    """The README's first command: three nights on the bundled sample, payment files written."""
    out = tmp_path_factory.mktemp("demo") / "out"
    proc = autogrant("demo", "--out", out)
    assert proc.returncode == 0, proc.stderr
    assert list((out / "payments").glob("*/*.csv"))
    return out


@pytest.fixture(scope="module")
def small_drop(tmp_path_factory):
    """Two regions: 210300 with a fund position, 210400 without one."""
    b = DropBuilder(y=2020)
    b.fund(REGION)
    b.unit(REGION, name="鞍山华兴机械有限公司")
    b.unit(REGION, name="鞍山瑞丰商贸有限公司", start=20)
    b.unit(UNFUNDED, name="抚顺华兴机械有限公司")
    data = tmp_path_factory.mktemp("drop") / "drop"
    write_drop(b.tables(), data)
    return data


def test_run_exit_codes(small_drop, tmp_path):
    ok = autogrant(
        "run", "--policy", "LN-2021", "--data", small_drop, "--out", tmp_path / "ok", "--region", REGION, "--today", "2021-08-02"
    )
    assert ok.returncode == 0 and (tmp_path / "ok" / "decisions.csv").is_file(), ok.stderr
    # 4: a region without a fund position cannot be decided; the other region is decided and written
    four = autogrant("run", "--policy", "LN-2021", "--data", small_drop, "--out", tmp_path / "four",
                     "--region", REGION, "--region", UNFUNDED, "--today", "2021-08-02")  # fmt: skip
    assert failed(four, 4, UNFUNDED)
    written = (tmp_path / "four" / "decisions.csv").read_text(encoding="utf-8")
    assert REGION in written and f",{UNFUNDED}," not in written
    # 2: unusable input, one line each
    assert failed(autogrant("run", "--policy", "NOPE", "--data", small_drop, "--out", tmp_path / "x"), 2, "NOPE")
    assert failed(autogrant("run", "--policy", "LN-2021", "--data", tmp_path / "none", "--out", tmp_path / "x"), 2)
    assert failed(
        autogrant("run", "--policy", "LN-2021", "--data", small_drop, "--out", tmp_path / "x", "--region", "999999"), 2, "999999"
    )
    assert failed(
        autogrant("run", "--policy", "LN-2021", "--data", small_drop, "--out", tmp_path / "x", "--today", "2021-13-01"),
        2,
        "--today",
    )
    no_payments = tmp_path / "no_payments"
    shutil.copytree(small_drop, no_payments)
    (no_payments / "payments.csv").unlink()
    assert failed(autogrant("run", "--policy", "LN-2021", "--data", no_payments, "--out", tmp_path / "x"), 2, "payments")
    short = tmp_path / "control"
    shutil.copytree(small_drop, short)
    (short / "control.csv").write_text("file,rows,amount_total\nunits.csv,99,\n", encoding="utf-8")
    assert failed(autogrant("run", "--policy", "LN-2021", "--data", short, "--out", tmp_path / "x"), 2, "units.csv")
    # a usage error (click): exit 2
    assert autogrant("run", "--nonsense").returncode == 2


def test_verify_exit_codes(demo_out, tmp_path):
    good = autogrant("verify", demo_out)
    assert good.returncode == 0 and "verified" in good.stdout, good.stderr
    changed = tmp_path / "changed"
    shutil.copytree(demo_out, changed)
    payment_file = sorted((changed / "payments").glob("*/*[0-9].csv"))[0]
    raw = bytearray(payment_file.read_bytes())
    at = raw.index(b"\nD,") + 40  # one byte inside the first payment record
    raw[at] = ord("7") if raw[at] != ord("7") else ord("8")
    payment_file.write_bytes(bytes(raw))
    assert failed(autogrant("verify", changed), 1, payment_file.name)
    assert autogrant("verify", tmp_path / "missing").returncode == 2


def test_lint_policies_exit_codes(tmp_path):
    assert autogrant("lint-policies").returncode == 0
    bad = tmp_path / "policies"
    shutil.copytree(POLICY_DIR, bad)
    text = (bad / "LN-2021.yaml").read_text(encoding="utf-8")
    (bad / "LN-2021.yaml").write_text(text.replace("effective_to:", "effective_to_typo:", 1), encoding="utf-8")
    assert failed(autogrant("lint-policies", "--dir", bad), 1, "LN-2021")
    assert failed(autogrant("lint-policies", "--dir", tmp_path / "nowhere"), 2)


def test_clerk_commands_exit_codes(demo_out, tmp_path):
    policies = autogrant("policies")
    assert policies.returncode == 0 and "LN-2021" in policies.stdout
    queue = autogrant("queue", "--out", demo_out, "--today", "2026-11-12")
    assert queue.returncode == 0, queue.stderr
    assert failed(autogrant("queue", "--out", tmp_path / "empty"), 2, "ledger")
    uscc = (demo_out / "decisions.csv").read_text(encoding="utf-8").splitlines()[1].split(",")[2]
    explained = autogrant("explain", "--out", demo_out, "--uscc", uscc)
    assert explained.returncode == 0 and uscc in explained.stdout, explained.stderr
    assert failed(autogrant("explain", "--out", demo_out, "--uscc", "91210000000000000X"), 2)
    assert failed(autogrant("approve", "LN-2021-210300-NOPE", "--by", "demo-approver", "--out", demo_out), 2)
    assert failed(autogrant("object", "--policy", "LN-2021", "--uscc", uscc, "--reason", "x", "--out", demo_out), 2)
    assert failed(autogrant("resolve", "--policy", "LN-2021", "--uscc", uscc, "--outcome", "maybe", "--out", demo_out), 2)
    report = autogrant("annual-report", "--year", "2026", "--out", demo_out)
    assert report.returncode == 0 and (demo_out / "annual-report-2026.html").is_file(), report.stderr
    assert failed(autogrant("annual-report", "--year", "1999", "--out", demo_out), 2, "1999")
    key = tmp_path / "k.key"
    assert autogrant("keygen", "--id", "x", "--key-file", key).returncode == 0
    assert failed(autogrant("keygen", "--id", "x", "--key-file", key), 2)  # a private key is never overwritten


def test_simulate_exit_codes(tmp_path):
    sample = SAMPLES_DIR / "ln2021"
    ok = autogrant("simulate", "--policy", "LN-2021", "--data", sample, "--set", "headcount_cap=300", "--out", tmp_path / "s.csv",
                   "--region", "210300")  # fmt: skip
    assert ok.returncode == 0 and (tmp_path / "s.csv").is_file(), ok.stderr
    assert failed(autogrant("simulate", "--policy", "LN-2021", "--data", sample, "--set", "no_such_value=1"), 2, "no_such_value")


def test_an_internal_error_is_one_line_exit_70_and_a_log(tmp_path):
    code = (
        "import sys, autogrant.transforms.policy as p\n"
        "def boom(*a, **k): raise RuntimeError('disk on fire')\n"
        "p.available = boom\n"
        "sys.argv = ['autogrant', 'policies']\n"
        "from autogrant.flows.cli import main\n"
        "main()\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path)
    assert proc.returncode == 70
    assert "Traceback" not in proc.stderr and proc.stderr.count("\n") == 1 and "internal error" in proc.stderr
    assert "RuntimeError" in (tmp_path / "autogrant-error.log").read_text(encoding="utf-8")
