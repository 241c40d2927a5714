"""The Prefect flows on the sample drop, in one prefect_test_harness session (a temporary server costs ~10 s)."""

import csv
import datetime as dt
import json
from pathlib import Path

import pytest

from autogrant.transforms import ledger
from autogrant.transforms.paths import SAMPLES_DIR

SAMPLE = SAMPLES_DIR / "ln2021"


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


@pytest.mark.slow
def test_nightly_flow_walks_the_sample_to_payment_files(harness, tmp_path):
    from autogrant.flows.nightly import nightly_flow

    root = tmp_path / "nightly"
    status = nightly_flow(str(SAMPLE), str(root), policies=["LN-2021"], today="2026-11-20")
    assert status == {"LN-2021": "ok"}
    out = root / "LN-2021"
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["rows_balanced"] and manifest["policy_sha256"] and len(manifest["inputs"]) >= 5
    assert sum(r["units"].get("PAY", 0) for r in manifest["decisions"].values()) == 238
    assert len(list((out / "notices").rglob("*.xlsx"))) == 13  # every region with a PAY (210100 has none)
    from autogrant.transforms.run import run_policy  # night 2 (batches) through the same functions without Prefect: ~25 s saved

    run_policy("LN-2021", SAMPLE, out, today=dt.date(2026, 11, 30), validate=False)
    for b in ledger.awaiting_approval(out / "ledger.duckdb"):
        ledger.approve(out / "ledger.duckdb", b, "demo-approver")
    nightly_flow(str(SAMPLE), str(root), policies=["LN-2021"], today="2026-12-01")
    payments = json.loads((out / "payments" / "manifest.json").read_text(encoding="utf-8"))
    # payment batch totals = the PAY amounts each region's decisions granted before release
    first = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    granted = {k: v["amount_fen"] for k, v in ((r, s["paid"]) for r, s in first["ledger"].items())}
    by_region = {b["region_code"]: int(b["control_sum"].replace(".", "")) for b in payments["batches"]}
    # 1,193,890.24 since premiums of 2020 paid by the cut-off count in the base (issue 17 item 2; 1,191,227.14 before)
    assert by_region == granted and sum(by_region.values()) == 1_193_890_24
    from autogrant.transforms.verify import verify_out

    assert verify_out(out) == (26, [])


@pytest.mark.slow  # a whole night through the CLI: CI runs it (pytest -m slow)
def test_a_region_failing_leaves_the_other_regions_files(harness, tmp_path):
    from autogrant.data_samples.drop_files import write_drop
    from autogrant.data_samples.edge_cases import DropBuilder
    from autogrant.flows.nightly import policy_flow

    b = DropBuilder(y=2020)
    b.fund("210300")
    b.fund("210400")
    b.unit("210300")
    b.unit("210400")
    write_drop(b.tables(), tmp_path / "drop")
    out = tmp_path / "out"
    from autogrant.transforms.run import run_policy

    first = run_policy("LN-2021", tmp_path / "drop", out, today=dt.date(2026, 11, 20), validate=False)  # night 1: no flow needed
    assert first.ok
    b.region_funds = [f for f in b.region_funds if f["region_code"] != "210400"]
    write_drop(b.tables(), tmp_path / "drop")
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterParentFlowRunId

    from autogrant.flows.nightly import outcome

    state = policy_flow("LN-2021", tmp_path / "drop", out, today="2026-11-23", return_state=True)  # text, as from the UI
    assert state.is_failed() and "210400 region: region 210400:" in state.message  # not Completed with an ERROR line
    second = outcome(state)
    assert [(f.region_code, f.kind) for f in second.failures] == [("210400", "region")] and second.today == dt.date(2026, 11, 23)
    with get_client(sync_client=True) as client:
        children = client.read_flow_runs(
            flow_run_filter=FlowRunFilter(parent_flow_run_id=FlowRunFilterParentFlowRunId(any_=[state.state_details.flow_run_id]))
        )
    assert sorted((r.name, r.state.type.value) for r in children if r.name in ("LN-2021-210300", "LN-2021-210400")) == [
        ("LN-2021-210300", "COMPLETED"), ("LN-2021-210400", "FAILED")]  # fmt: skip
    assert (out / "regions" / "210400" / "decisions.csv").exists()  # yesterday's files stay intact
    assert (out / "notices" / "210400").exists()
    assert {r["region_code"] for r in csv.DictReader((out / "decisions.csv").open(encoding="utf-8"))} == {"210300", "210400"}


@pytest.mark.slow
def test_the_nightly_flow_fanned_out_on_dask_equals_the_single_process_run(harness, tmp_path, monkeypatch):
    """Two Dask worker processes, each reading only its regions' partitions, and one ledger writer: the same
    decisions, quarantine, notices, ledger and payment files as one process over the flat drop."""
    from prefect.settings import PREFECT_API_URL

    from autogrant.data_samples import edge_cases
    from autogrant.data_samples.drop_files import write_drop
    from autogrant.data_samples.generate import LIAONING, generate_tables
    from autogrant.flows.nightly import nightly_flow
    from autogrant.transforms.run import run_policy

    regions = LIAONING[:3]  # reserve short, adjustment fund, the boundary units: three regions keep it quick
    tables = edge_cases.add(generate_tables(150, 2021, 2020, regions), 2020, regions)
    write_drop(tables, tmp_path / "flat")
    write_drop(tables, tmp_path / "hive", "hive")
    assert (tmp_path / "hive" / "roster" / "region_code=210300" / "part-0.parquet").is_file()
    monkeypatch.setenv("PREFECT_API_URL", PREFECT_API_URL.value())  # the workers report to the harness's server
    monkeypatch.setenv("AUTOGRANT_DASK_WORKERS", "2")

    single, fanned = tmp_path / "single", tmp_path / "fanned" / "LN-2021"
    nights = (dt.date(2026, 11, 20), dt.date(2026, 11, 30), dt.date(2026, 12, 1))
    for i, day in enumerate(nights):
        run_policy("LN-2021", tmp_path / "flat", single, regions=regions, today=day, validate=False)
        if i == 1:  # the batching night needs no fan-out to be compared: the same functions, one process
            run_policy("LN-2021", tmp_path / "hive", fanned, regions=regions, today=day, validate=False)
        else:
            status = nightly_flow(str(tmp_path / "hive"), str(fanned.parent), ["LN-2021"], day.isoformat(), fan_out=True,
                                  regions=regions)  # fmt: skip
            assert status == {"LN-2021": "ok"}
        if i == 0:
            assert (single / "decisions.csv").read_bytes() == (fanned / "decisions.csv").read_bytes()
            manifest = json.loads((fanned / "manifest.json").read_text(encoding="utf-8"))
            assert manifest["rows_balanced"] and any("region_code=210300" in f for f in manifest["rows"])
            with (single / "quarantine.csv").open(encoding="utf-8") as a, (fanned / "quarantine.csv").open(encoding="utf-8") as b:

                def rows(fh):
                    return sorted((r["column"], r["value"], r["reason"]) for r in csv.DictReader(fh))

                assert rows(a) == rows(b) and rows  # the same rows held back, under their partition's file name
            notices = sorted(p.relative_to(single) for p in (single / "notices").rglob("*.*"))
            assert notices and notices == sorted(p.relative_to(fanned) for p in (fanned / "notices").rglob("*.*"))
            assert all((single / n).read_bytes() == (fanned / n).read_bytes() for n in notices)
        for out in (single, fanned):
            for b in ledger.awaiting_approval(out / "ledger.duckdb"):
                ledger.approve(out / "ledger.duckdb", b, "demo-approver")

    def ledger_rows(out: Path):
        with ledger.opened(out / "ledger.duckdb") as con:
            return con.execute(
                "SELECT uscc, seq, kind, amount_fen, paid_after_fen, batch_id FROM ledger.payments ORDER BY ALL"
            ).fetchall()

    assert ledger_rows(single) == ledger_rows(fanned) and len(ledger_rows(single)) > 40
    paid = sorted(p.relative_to(single) for p in (single / "payments").rglob("*.csv"))
    assert len(paid) == 4 and paid == sorted(p.relative_to(fanned) for p in (fanned / "payments").rglob("*.csv"))
    assert all((single / p).read_bytes() == (fanned / p).read_bytes() for p in paid)
    assert not (fanned / ".work").exists()  # the workers' hand-over folder is removed at the end
    import duckdb

    handed = (fanned / "regions" / "210300" / "decision_details.parquet").as_posix()
    types = {name: kind for name, kind, *_ in duckdb.sql(f"DESCRIBE SELECT * FROM read_parquet('{handed}')").fetchall()}
    assert types["amount"] == types["premium_base"] == types["already_paid"] == "BIGINT"  # fen, never a float
    assert not [n for n, k in types.items() if k in ("DOUBLE", "FLOAT", "HUGEINT")]


def test_the_dask_cluster_comes_from_configuration(monkeypatch):
    from autogrant.flows.nightly import dask_runner

    monkeypatch.delenv("AUTOGRANT_DASK_ADDRESS", raising=False)
    monkeypatch.setenv("AUTOGRANT_DASK_WORKERS", "3")
    local = dask_runner()
    assert local.address is None and local.cluster_kwargs["n_workers"] == 3 and local.cluster_kwargs["processes"]
    monkeypatch.setenv("AUTOGRANT_DASK_ADDRESS", "tcp://scheduler.example:8786")
    assert dask_runner().address == "tcp://scheduler.example:8786"
    assert dask_runner("tcp://other:8786").address == "tcp://other:8786"  # --dask-address wins over the environment


def test_a_region_that_cannot_be_decided_is_reported_by_the_fanned_out_run_as_by_one_process(tmp_path):
    """The coordinator's halves called in this process (what the Dask task runs, without a cluster): a region with
    no fund position stops alone, with the same failure and manifest totals as the single-process run."""
    from autogrant.data_samples.drop_files import write_drop
    from autogrant.data_samples.edge_cases import DropBuilder
    from autogrant.transforms import worker
    from autogrant.transforms.run import run_policy

    b = DropBuilder(y=2020)
    b.fund("210300")
    for region in ("210300", "210400"):
        b.unit(region)
        b.unit(region, start=40)
    write_drop(b.tables(), tmp_path / "hive", "hive")
    day = dt.date(2026, 11, 20)

    def fan_out(regions, out):
        return run_policy("LN-2021", tmp_path / "hive", out, decide_with=worker.decide_each_apart, regions=regions,
                          today=day, validate=False)  # fmt: skip

    alone = fan_out(["210400"], tmp_path / "alone")  # the only region in scope stops: still a run that reports it
    assert [(f.region_code, f.kind) for f in alone.failures] == [("210400", "region")]
    regions = ["210300", "210400"]
    single = run_policy("LN-2021", tmp_path / "hive", tmp_path / "single", regions=regions, today=day, validate=False)
    fanned = fan_out(regions, tmp_path / "fanned")
    assert (
        [(f.region_code, f.kind, f.message) for f in fanned.failures]
        == [(f.region_code, f.kind, f.message) for f in single.failures]
        == [("210400", "region", fanned.failures[0].message)]
    )
    manifests = [json.loads((tmp_path / d / "manifest.json").read_text(encoding="utf-8")) for d in ("single", "fanned")]
    assert manifests[0]["decisions"] == manifests[1]["decisions"] and manifests[0]["decisions"]["210300"]
    assert (tmp_path / "single" / "decisions.csv").read_bytes() == (tmp_path / "fanned" / "decisions.csv").read_bytes()


@pytest.mark.slow  # a Prefect server for the flows (~20 s): CI runs it (pytest -m slow)
def test_a_date_parameter_that_is_not_yyyy_mm_dd_fails_the_flow_run_with_a_clear_message(harness, tmp_path):
    from autogrant.flows.nightly import nightly_flow, policy_flow

    state = policy_flow("LN-2021", SAMPLE, tmp_path / "out", today="2026-11-31", return_state=True)
    assert state.is_failed() and "not a date YYYY-MM-DD" in state.message, state.message
    assert not (tmp_path / "out").exists()  # refused before anything is written
    state = nightly_flow(str(SAMPLE), str(tmp_path / "root"), ["LN-2021"], today="31/11/2026", return_state=True)
    assert state.is_failed() and "not a date YYYY-MM-DD" in state.message and not (tmp_path / "root").exists()
