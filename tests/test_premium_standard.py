"""内蒙古工作方案 二(二) "返还标准可按不超过6个月的当地月人均失业保险金和参保职工人数确定，或按不超过3个月的企业及其职工
应缴纳社会保险费确定" (issue 17 item 4): the second standard from the optional si_premiums_due.csv, through the CLI."""

import csv
import os
import subprocess
import sys
from pathlib import Path

import pytest

from autogrant.data_samples.drop_files import write_drop
from autogrant.data_samples.edge_cases import DropBuilder

CLI = Path(sys.executable).with_name("autogrant")
REGION = "150100"
PREMIUM_CITE = '"或按不超过3个月的企业及其职工应缴纳社会保险费确定"'


def cli(*args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, AUTOGRANT_PROGRESS="0", AUTOGRANT_LANG="en")
    env.pop("PREFECT_API_URL", None)
    return subprocess.run([str(CLI), *args], capture_output=True, text=True, env=env, timeout=300)


def rows(path: Path) -> list[dict]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


def build(tmp_path: Path, with_file: bool) -> tuple[Path, dict[str, str]]:
    """Four units of 10 insured on the difficulty list (6 x 1550.00 x 10 = 93000.00 yuan by the benefit standard)."""
    b = DropBuilder(y=2019)
    b.fund(REGION)
    u = {name: b.unit(REGION, monthly_premium=400000 if name == "rich" else 100_00) for name in ("rich", "poor", "none", "noisy")}
    for code in u.values():
        b.difficulty.append({"uscc": code, "recognised_date": "2020-05-20"})
    drop = tmp_path / ("drop" if with_file else "drop-without")
    write_drop(b.tables(), drop)
    if with_file:  # a Chinese header (the aliases), fee months in both spellings, another year's row
        lines = ["统一社会信用代码,费款所属期,单位应缴社会保险费,个人应缴社会保险费"]
        lines += [f"{u['rich']},2019-{m:02d},28000.00,12000.00" for m in range(1, 13)]  # 40000.00 a month: 120000.00
        lines += [f"{u['rich']},2018-12,900000.00,0"]  # 2018: not the assessed year
        lines += [f"{u['poor']},2019{m:02d},7000.00,3000.00" for m in range(1, 13)]  # 10000.00 a month: 30000.00
        lines += [f"{u['noisy']},2019-05,7000.00,3000.00", f"{u['noisy']},2019-05,7000.00,3000.00",  # the same month twice
                  f"{u['noisy']},2019-13,1.00,1.00", f"{u['noisy']},2019-06,1.005,1.00"]  # fmt: skip
        (drop / "si_premiums_due.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return drop, u


@pytest.mark.slow  # a whole night through the CLI: CI runs it (pytest -m slow)
def test_the_larger_standard_is_paid_and_bad_rows_are_quarantined(tmp_path):
    drop, u = build(tmp_path, with_file=True)
    out = tmp_path / "out"
    proc = cli("run", "--policy", "IM-2020-DIFFICULTY", "--data", str(drop), "--out", str(out), "--today", "2020-09-10")
    assert proc.returncode == 0, proc.stderr
    got = {r["uscc"]: r for r in rows(out / "decisions.csv")}
    assert (got[u["rich"]]["decision"], got[u["rich"]]["amount"]) == ("PAY", "120000.00")  # 3 x 40000.00 > 93000.00
    assert PREMIUM_CITE in got[u["rich"]]["citations"]
    assert (got[u["poor"]]["decision"], got[u["poor"]]["amount"]) == ("PAY", "93000.00")  # 3 x 10000.00 < 93000.00
    assert PREMIUM_CITE not in got[u["poor"]]["citations"]
    assert (got[u["none"]]["decision"], got[u["none"]]["amount"]) == ("PAY", "93000.00")  # no rows: the first standard
    assert (got[u["noisy"]]["decision"], got[u["noisy"]]["reasons"]) == ("REJECT", "INVALID_INPUT")
    held = [r for r in rows(out / "quarantine.csv") if r["file"] == "si_premiums_due.csv"]
    assert sorted((r["line"], r["column"]) for r in held) == [("28", "fee_month"), ("29", "fee_month"), ("30", "unit_due")]
    assert "already on line 27" in held[0]["reason"]

    explained = cli("explain", "--uscc", u["rich"], "--out", str(out))
    assert explained.returncode == 0, explained.stderr
    line = next(x for x in explained.stdout.splitlines() if "amount standard" in x)
    assert "93,000.00 (benefit_months) vs 3×480,000.00÷12 = 120,000.00 (premium_months)" in line
    assert "the larger: premium_months" in line


@pytest.mark.slow  # a whole night through the CLI: CI runs it (pytest -m slow)
def test_a_drop_without_the_file_pays_the_benefit_standard(tmp_path):
    drop, u = build(tmp_path, with_file=False)
    out = tmp_path / "out"
    proc = cli("run", "--policy", "IM-2020-DIFFICULTY", "--data", str(drop), "--out", str(out), "--today", "2020-09-10")
    assert proc.returncode == 0, proc.stderr
    got = {r["uscc"]: r for r in rows(out / "decisions.csv")}
    assert {got[u[k]]["amount"] for k in ("poor", "none", "noisy")} == {"93000.00"}
    # without its premium standard the rich unit's difficulty refund (93000.00) is below its general refund (96000.00)
    assert (got[u["rich"]]["decision"], got[u["rich"]]["reasons"]) == ("REJECT", "OTHER_SCHEME_CHOSEN")
    explained = cli("explain", "--uscc", u["poor"], "--out", str(out))
    assert "no premium due of the year in si_premiums_due.csv" in explained.stdout


@pytest.mark.slow  # a whole night through the CLI: CI runs it (pytest -m slow)
def test_the_general_refund_gives_way_to_the_larger_premium_standard(tmp_path):
    """IM-2020 pays the rich unit 96000.00 (100% of its premium); the difficulty refund by 3 months of premium due is
    120000.00 yuan, so IM-2020 rejects it (one scheme per unit, the larger)."""
    drop, u = build(tmp_path, with_file=True)
    out = tmp_path / "out"
    proc = cli("run", "--policy", "IM-2020", "--data", str(drop), "--out", str(out), "--today", "2020-09-10")
    assert proc.returncode == 0, proc.stderr
    got = {r["uscc"]: r for r in rows(out / "decisions.csv")}
    assert (got[u["rich"]]["decision"], got[u["rich"]]["reasons"]) == ("REJECT", "OTHER_SCHEME_CHOSEN")


def test_control_csv_counts_the_file(tmp_path):
    drop, _ = build(tmp_path, with_file=True)
    (drop / "control.csv").write_text("file,rows,amount_total\nsi_premiums_due.csv,30,\n", encoding="utf-8")
    proc = cli("run", "--policy", "IM-2020-DIFFICULTY", "--data", str(drop), "--out", str(tmp_path / "out"))
    assert proc.returncode == 2
    last = proc.stderr.strip().splitlines()[-1]
    assert last.endswith("control.csv: si_premiums_due.csv declares 30 rows, the drop holds 29 (staged 26 + quarantined 3)")
