"""The Prefect flows on the sample drop, in one prefect_test_harness session (a temporary server costs ~10 s)."""

import csv
import datetime as dt
import json
from pathlib import Path

import pytest

from transforms import ledger

SAMPLE = Path(__file__).resolve().parents[1] / "data_samples" / "ln2021"


@pytest.fixture(scope="module")
def harness():
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield


def _pay_totals(out: Path) -> dict[str, int]:
    totals: dict[str, int] = {}
    with (out / "decisions.csv").open(encoding="utf-8") as fh:
        for r in csv.DictReader(fh):
            if r["decision"] == "PAY":
                whole, frac = r["amount"].split(".")
                totals[r["region_code"]] = totals.get(r["region_code"], 0) + int(whole) * 100 + int(frac)
    return totals


def test_nightly_flow_walks_the_sample_to_payment_files(harness, tmp_path):
    from flows.nightly import nightly_flow

    root = tmp_path / "nightly"
    status = nightly_flow(str(SAMPLE), str(root), policies=["LN-2021"], today="2026-11-20")
    assert status == {"LN-2021": "ok"}
    out = root / "LN-2021"
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["rows_balanced"] and manifest["policy_sha256"] and len(manifest["inputs"]) >= 5
    assert sum(r["units"].get("PAY", 0) for r in manifest["decisions"].values()) == 238
    assert len(list((out / "notices").rglob("*.xlsx"))) == 13  # every region with a PAY (210100 has none)
    from transforms.run import run_policy  # night 2 (batches) through the same functions without Prefect: ~25 s saved

    run_policy("LN-2021", SAMPLE, out, today=dt.date(2026, 11, 30), validate=False)
    for b in ledger.awaiting_approval(out / "ledger.duckdb"):
        ledger.approve(out / "ledger.duckdb", b, "王芳")
    nightly_flow(str(SAMPLE), str(root), policies=["LN-2021"], today="2026-12-01")
    payments = json.loads((out / "payments" / "manifest.json").read_text(encoding="utf-8"))
    # payment batch totals = the PAY amounts each region's decisions granted before release
    first = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    granted = {k: v["amount_fen"] for k, v in ((r, s["paid"]) for r, s in first["ledger"].items())}
    by_region = {b["region_code"]: int(b["control_sum"].replace(".", "")) for b in payments["batches"]}
    assert by_region == granted and sum(by_region.values()) == 1_191_227_14
    from transforms.verify import verify_out

    assert verify_out(out) == (26, [])


def test_a_region_failing_leaves_the_other_regions_files(harness, tmp_path):
    from data_samples.edge_cases import DropBuilder
    from data_samples.generate import write_drop
    from flows.nightly import policy_flow

    b = DropBuilder(y=2020)
    b.fund("210300")
    b.fund("210400")
    b.unit("210300")
    b.unit("210400")
    write_drop(b.tables(), tmp_path / "drop")
    out = tmp_path / "out"
    first = policy_flow("LN-2021", tmp_path / "drop", out, today=dt.date(2026, 11, 20))
    assert first.ok
    b.region_funds = [f for f in b.region_funds if f["region_code"] != "210400"]
    write_drop(b.tables(), tmp_path / "drop")
    second = policy_flow("LN-2021", tmp_path / "drop", out, today=dt.date(2026, 11, 23))
    assert [(f.region_code, f.kind) for f in second.failures] == [("210400", "region")]
    assert (out / "regions" / "210400" / "decisions.csv").exists()  # yesterday's files stay intact
    assert (out / "notices" / "210400").exists()
    assert {r["region_code"] for r in csv.DictReader((out / "decisions.csv").open(encoding="utf-8"))} == {"210300", "210400"}
