"""One night as operators drive it (`autogrant` in a subprocess): the release night publishes what the ledger paid,
a rerun of one region keeps every region in the evidence, a policy has one OUT and one ledger, and dates are the
policy's (Asia/Shanghai) and given as YYYY-MM-DD."""

import csv
import datetime as dt
import json
import subprocess
import sys

import duckdb
import pytest

from autogrant.data_samples.drop_files import write_drop
from autogrant.data_samples.edge_cases import DropBuilder
from autogrant.transforms.policy import load

pytestmark = pytest.mark.slow  # an acceptance test through the CLI or whole nights: CI runs it (pytest -m slow)

NIGHT1, NIGHT2, NIGHT3 = "2026-11-20", "2026-11-30", "2026-12-01"  # notice; batch after 5 working days; release


def autogrant(*args):
    return subprocess.run([sys.executable, "-m", "autogrant.flows.cli", *map(str, args)], capture_output=True, text=True)


def run(data, out, today, *more):
    return autogrant("run", "--policy", "LN-2021", "--data", data, "--out", out, "--today", today, *more)


def rows(path):
    with path.open(encoding="utf-8", newline="") as fh:
        return {r["uscc"]: r for r in csv.DictReader(fh)}


def ledger(out, sql):
    con = duckdb.connect(str(out / "ledger.duckdb"), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def fen(text: str) -> int:
    whole, frac = text.split(".")
    return int(whole) * 100 + int(frac)


@pytest.fixture
def two_regions(tmp_path):
    b = DropBuilder(y=2020)
    for region in ("210300", "210400"):
        b.fund(region)
    b.codes = [b.unit("210300"), b.unit("210300", start=20), b.unit("210400")]
    b.path = tmp_path / "drop"
    write_drop(b.tables(), b.path)
    return b


def test_the_release_night_publishes_what_the_ledger_paid(two_regions, tmp_path):
    """Decisions are taken after the release: a unit paid tonight is ALREADY_PAID with what it was paid, and no
    new public notice announces it again (on main it was PAY, already_paid 0.00, and noticed a second time)."""
    drop, out = two_regions.path, tmp_path / "out"
    assert run(drop, out, NIGHT1).returncode == 0
    assert run(drop, out, NIGHT2).returncode == 0
    batches = [b for (b,) in ledger(out, "SELECT batch_id FROM batches WHERE state = 'awaiting_approval' ORDER BY 1")]
    assert len(batches) == 2
    for batch in batches:
        approved = autogrant("approve", batch, "--by", "demo-approver", "--out", out)
        assert approved.returncode == 0, approved.stderr
    third = run(drop, out, NIGHT3)
    assert third.returncode == 0, third.stderr
    paid = dict(ledger(out, "SELECT uscc, sum(amount_fen) FROM payments GROUP BY uscc"))
    assert sorted(paid) == sorted(two_regions.codes) and all(v > 0 for v in paid.values())
    published = rows(out / "decisions.csv")
    for uscc, amount in paid.items():
        d = published[uscc]
        assert (d["decision"], d["reasons"], d["amount"]) == ("REJECT", "ALREADY_PAID", "0.00"), d
        assert fen(d["already_paid"]) == amount and fen(d["amount_due"]) == amount
        assert rows(out / "regions" / d["region_code"] / "decisions.csv")[uscc] == d
    assert not list((out / "notices").rglob("*20261201*")), "a unit paid tonight was put into a new notice"
    assert ledger(out, "SELECT count(*) FROM claims WHERE state IN ('in_notice', 'batched')") == [(0,)]
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert sum(r["paid"]["amount_fen"] for r in manifest["ledger"].values()) == sum(paid.values())
    assert sum(r["amount_fen"].get("PAY", 0) for r in manifest["decisions"].values()) == 0
    assert autogrant("verify", out).returncode == 0
    again = run(drop, out, "2026-12-02")  # the next night agrees: nothing changes, nothing is paid or noticed
    assert again.returncode == 0 and rows(out / "decisions.csv") == published
    assert ledger(out, "SELECT count(*) FROM claims") == [(3,)]


def test_a_rerun_of_one_region_keeps_every_region_in_the_evidence(two_regions, tmp_path):
    drop, out = two_regions.path, tmp_path / "out"
    assert run(drop, out, NIGHT1).returncode == 0
    rerun = run(drop, out, "2026-11-23", "--region", "210300")
    assert rerun.returncode == 0, rerun.stderr
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert sorted(manifest["decisions"]) == ["210300", "210400"]  # the regions with units
    assert manifest["regions_covered"] == sorted(load("LN-2021").rules.regions.value)  # every region, each its last run
    assert manifest["regions"] == ["210300"]  # tonight's scope
    runs = manifest["region_runs"]
    last = runs["210300"]["last_run"]
    assert (last["today"], last["operator"], last["status"]) == ("2026-11-23", "autogrant-nightly", "decided")
    assert runs["210400"]["last_run"]["today"] == NIGHT1 and runs["210400"]["decided"]["today"] == NIGHT1
    assert sum(sum(r["units"].values()) for r in manifest["decisions"].values()) == 3 == len(rows(out / "decisions.csv"))
    report = (out / "report.html").read_text(encoding="utf-8")
    assert "210400" in report and "各统筹地区最近一次运行" in report  # each region's last run

    # 210400 loses its fund position: its rerun stops and keeps its last decided run in the evidence
    two_regions.region_funds = [f for f in two_regions.region_funds if f["region_code"] != "210400"]
    write_drop(two_regions.tables(), drop)
    stopped = run(drop, out, "2026-11-24", "--region", "210400")
    assert "210400" in stopped.stderr and "region_funds" in stopped.stderr  # its exit code 4: issue 11 item 1
    assert run(drop, out, "2026-11-25", "--region", "210300").returncode == 0  # a later rerun of another region
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert sorted(manifest["decisions"]) == ["210300", "210400"]
    assert [(f["region_code"], f["kind"], f["today"]) for f in manifest["region_failures"]] == [
        ("210400", "region", "2026-11-24")
    ]
    assert manifest["region_runs"]["210400"]["decided"]["today"] == NIGHT1
    assert "已停止的统筹地区" in (out / "report.html").read_text(encoding="utf-8")  # regions that stopped


def test_one_policy_has_one_out_and_one_ledger(two_regions, tmp_path):
    """The deployments write OUT_ROOT/<policy>/; `autogrant run --out OUT_ROOT`, a folder inside the policy's OUT, or
    another ledger file for the same OUT would be a second ledger: refused with one line, exit 2, nothing written."""
    root = tmp_path / "root"
    home = root / "LN-2021"
    assert run(two_regions.path, home, NIGHT1).returncode == 0
    for out, more in ((root, ()), (home / "regions", ()), (home, ("--ledger", tmp_path / "other.duckdb"))):
        proc = run(two_regions.path, out, "2026-11-23", *more)
        assert proc.returncode == 2, (out, proc.stderr)
        assert len(proc.stderr.strip().splitlines()) == 1 and ("one ledger" in proc.stderr or str(home) in proc.stderr)
        assert "Traceback" not in proc.stderr
    assert not (root / "ledger.duckdb").exists() and not (tmp_path / "other.duckdb").exists()
    assert not (home / "regions" / "ledger.duckdb").exists()
    assert json.loads((home / ".autogrant.json").read_text(encoding="utf-8")) == {
        "policy_id": "LN-2021",
        "ledger": "ledger.duckdb",
    }
    assert run(two_regions.path, home, "2026-11-23").returncode == 0  # the same OUT again: fine


def test_the_business_date_is_the_policy_time_zone_and_dates_are_yyyy_mm_dd():
    from pydantic import TypeAdapter, ValidationError

    from autogrant.transforms.errors import InputError
    from autogrant.transforms.home import IsoDate, business_date, parse_date

    evening_utc = dt.datetime(2026, 12, 3, 17, 30, tzinfo=dt.UTC)  # 01:30 on the 4th in Shanghai: the nightly's start
    assert business_date(evening_utc) == dt.date(2026, 12, 4)
    assert business_date(dt.datetime(2026, 12, 3, 15, 59, tzinfo=dt.UTC)) == dt.date(2026, 12, 3)
    assert parse_date("2026-11-20") == dt.date(2026, 11, 20) == parse_date(dt.date(2026, 11, 20))
    assert parse_date(None) is None
    for bad in ("20261120", "2026-13-01", "2026-11-20T00:00", "tomorrow", 20261120):
        with pytest.raises(InputError, match="is not a date YYYY-MM-DD"):
            parse_date(bad, "today")
    adapter = TypeAdapter(IsoDate | None)
    assert adapter.validate_python("2026-11-20") == dt.date(2026, 11, 20)
    with pytest.raises(ValidationError, match="YYYY-MM-DD"):
        adapter.validate_python("2026/11/20")
    proc = autogrant("run", "--policy", "LN-2021", "--data", ".", "--out", ".", "--today", "2026-11-31")
    assert proc.returncode == 2 and "--today '2026-11-31' is not a date YYYY-MM-DD" in proc.stderr
