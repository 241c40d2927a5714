"""The yearly 护航行动 report driven as a user does (`autogrant annual-report` in a subprocess), its figures
recomputed here from decisions.csv and the ledger's payments, independently of the report's SQL."""

import csv
import datetime as dt
import json
import subprocess
import sys
from collections import defaultdict
from decimal import Decimal

import duckdb
import openpyxl
import pytest

from autogrant.transforms.ledger import approve, awaiting_approval
from autogrant.transforms.paths import SAMPLES_DIR
from autogrant.transforms.run import run_policy
from autogrant.transforms.workdays import add_working_days

NIGHT1 = dt.date(2026, 11, 2)


def autogrant(*args, env=None):
    return subprocess.run([sys.executable, "-m", "autogrant.flows.cli", *args], capture_output=True, text=True, env=env)


@pytest.fixture(scope="module")
def year_out(tmp_path_factory):
    """OUT/ln2021: LN-2021 over three nights (notice, batches, approval, release); OUT/dl2020: DL-2020, one night
    (everything still in notice: a region that could pay and paid nothing)."""
    root = tmp_path_factory.mktemp("annual")
    ln = root / "ln2021"
    night2 = add_working_days(NIGHT1, 6)
    run_policy("LN-2021", SAMPLES_DIR / "ln2021", ln, today=NIGHT1, validate=False)
    run_policy("LN-2021", SAMPLES_DIR / "ln2021", ln, today=night2, validate=False)
    for b in awaiting_approval(ln / "ledger.duckdb"):
        approve(ln / "ledger.duckdb", b, "demo-approver")
    run_policy("LN-2021", SAMPLES_DIR / "ln2021", ln, today=add_working_days(night2, 1), validate=False)
    run_policy("DL-2020", SAMPLES_DIR / "dl2020", root / "dl2020", today=NIGHT1, validate=False)
    return root


def expected(out) -> dict[str, dict]:
    """Per region, from decisions.csv and the ledger's payments only: units eligible (PAY/HOLD, or paid),
    paid (a net payment), money granted, paid and net."""
    with (out / "decisions.csv").open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    con = duckdb.connect()
    con.execute("ATTACH ? AS l (READ_ONLY)", [str(out / "ledger.duckdb")])
    pays = con.execute("SELECT uscc, kind, amount_fen FROM l.payments").fetchall()
    net, paid = defaultdict(int), defaultdict(int)
    for uscc, kind, fen in pays:
        net[uscc] += fen
        paid[uscc] += fen if kind == "payment" else 0
    per = defaultdict(lambda: defaultdict(int))
    for r in rows:
        g, u = per[r["region_code"]], r["uscc"]
        due = int(Decimal(r["amount_due"]) * 100)
        eligible = r["decision"] in ("PAY", "HOLD") or net[u] > 0
        g["units_decided"] += 1
        g["units_eligible"] += eligible
        g["units_paid"] += net[u] > 0
        g["units_rejected"] += r["decision"] == "REJECT" and not eligible
        g["granted_fen"] += max(due, net[u]) if eligible else 0
        g["paid_fen"] += paid[u]
        g["net_fen"] += net[u]
    return per


def test_annual_report_figures_agree_with_decisions_and_ledger(year_out):
    r = autogrant("annual-report", "--year", "2026", "--out", str(year_out))
    assert r.returncode == 0, r.stderr
    assert "2026年度" in r.stdout and r.stderr == ""
    data = json.loads((year_out / "annual-report-2026.json").read_text(encoding="utf-8"))
    assert [s["policy_id"] for s in data["sources"]] == ["DL-2020", "LN-2021"]
    got = {(x["policy_id"], x["region_code"]): x for x in data["regions"]}
    for policy, folder in (("LN-2021", "ln2021"), ("DL-2020", "dl2020")):
        for region, want in expected(year_out / folder).items():
            have = got[(policy, region)]
            for k, v in want.items():
                assert have[k] == v, (policy, region, k)
    ln_paid = sum(x["units_paid"] for x in data["regions"] if x["policy_id"] == "LN-2021")
    assert ln_paid > 0  # the third night released the approved batches
    # DL-2020 after one night: in notice, nothing paid; a region with a reserve of a year and more is flagged
    dl = [x for x in data["regions"] if x["policy_id"] == "DL-2020"]
    assert all(x["units_paid"] == 0 for x in dl)
    assert [x["flagged"] for x in dl] == [x["reserve_one_year"] and x["net_fen"] == 0 for x in dl]
    assert any(x["flagged"] and x["flag_reason"] == "not_released" for x in dl)
    totals = data["totals"]
    assert totals["units_paid"] == sum(x["units_paid"] for x in data["regions"])
    assert totals["net_fen"] == sum(x["net_fen"] for x in data["regions"])

    # the CSV: Chinese headers, one row per policy and region and the total row, money in yuan as in the ledger
    with (year_out / "annual-report-2026.csv").open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert rows[-1]["政策"] == "合计" and len(rows) == len(data["regions"]) + 1
    assert Decimal(rows[-1]["实际发放净额(元)"]) * 100 == totals["net_fen"]
    assert sum(int(x["已发放单位数"]) for x in rows[:-1]) == totals["units_paid"]
    # the XLSX: numbers as numbers, a total row equal to the sum of the regions
    ws = openpyxl.load_workbook(year_out / "annual-report-2026.xlsx")["各统筹地区"]
    header = [c.value for c in ws[1]]
    col = header.index("已发放金额(元)")
    values = [row[col].value for row in ws.iter_rows(min_row=2)]
    assert all(isinstance(v, int | float) for v in values)
    assert round(sum(values[:-1]) * 100) == round(values[-1] * 100) == totals["paid_fen"]
    import zipfile

    with zipfile.ZipFile(year_out / "annual-report-2026.xlsx") as z:
        assert any(n.startswith("xl/charts/chart") for n in z.namelist())  # the coverage chart
    # the HTML: Chinese, the documents' terms, the flagged region named
    page = (year_out / "annual-report-2026.html").read_text(encoding="utf-8")
    assert "lang='zh-CN'" in page and "应享尽享" in page and "统筹地区" in page and "大连市" in page


def test_annual_report_in_english_and_on_a_year_without_nights(year_out, tmp_path):
    r = autogrant("annual-report", "--year", "2026", "--out", str(tmp_path), "--from", str(year_out), "--lang", "en")
    assert r.returncode == 0, r.stderr
    with (tmp_path / "annual-report-2026.csv").open(encoding="utf-8-sig", newline="") as fh:
        assert next(csv.reader(fh))[:3] == ["policy", "pooling region", "fund reserve (months)"]
    # no night and no ledger entry in 2019 (and no policy in force then): one line on stderr, exit 2
    r = autogrant("annual-report", "--year", "2019", "--out", str(year_out))
    assert r.returncode == 2 and r.stdout == "" and len(r.stderr.strip().splitlines()) == 1 and "2019" in r.stderr
    r = autogrant("annual-report", "--year", "2026", "--out", str(tmp_path / "nowhere"))
    assert r.returncode == 2 and "nowhere" in r.stderr and len(r.stderr.strip().splitlines()) == 1


def test_a_region_rerun_alone_leaves_every_region_in_the_report(year_out, tmp_path):
    import shutil

    out = tmp_path / "ln2021"
    shutil.copytree(year_out / "ln2021", out)
    last = dt.date.fromisoformat(json.loads((out / "manifest.json").read_text(encoding="utf-8"))["today"])
    run_policy("LN-2021", SAMPLES_DIR / "ln2021", out, regions=["210300"], today=add_working_days(last, 1), validate=False)
    r = autogrant("annual-report", "--year", "2026", "--out", str(tmp_path / "report"), "--from", str(out))
    assert r.returncode == 0, r.stderr
    regions = json.loads((tmp_path / "report" / "annual-report-2026.json").read_text(encoding="utf-8"))["regions"]
    from autogrant.transforms.policy import load

    assert sorted(x["region_code"] for x in regions) == sorted(load("LN-2021").rules.regions.value)
    for region, want in expected(out).items():
        have = next(x for x in regions if x["region_code"] == region)
        assert {k: have[k] for k in want} == dict(want), region
