"""Prefect flows. They only orchestrate: the work is in transforms/run.py.

    nightly_flow   every policy in force on the business date (or those named) -> policy_flow each
    policy_flow    one policy: start_run (ingest, facts, decisions) -> region_flow per region -> finish_run
    region_flow    one region: gate, decisions files, ledger release and notice (a failure stays with the region)
    fanout_policy_flow  one policy fanned out by region on Dask (transforms/fanout.py): a decide-region task per
                   region on the workers, then the ledger steps of each region here, in the flow's own process

Dask: ``dask_runner()`` is a local cluster (AUTOGRANT_DASK_WORKERS worker processes, default 2) or, when
AUTOGRANT_DASK_ADDRESS names a scheduler (tcp://host:8786), that existing cluster.

An operator's rerun of one region is ``policy_flow`` with ``regions=[code]`` (``autogrant run --region``, or the
``autogrant-region`` deployment of ``autogrant serve`` with a region parameter).
"""

import datetime as dt
import os
from pathlib import Path

from prefect import flow, get_run_logger, task

from autogrant.transforms import fanout
from autogrant.transforms import run as runner
from autogrant.transforms.policy import available, load


@flow(name="autogrant-region", flow_run_name="{policy_id}-{region}", validate_parameters=False)
def region_flow(ctx: runner.RunContext, policy_id: str, region: str) -> str:
    runner.finish_region(ctx, region)
    failed = [f for f in ctx.result.failures if f.region_code == region]
    if failed:
        get_run_logger().error("region %s stopped: %s", region, failed[0].message)
        return "failed"
    return "done"


@flow(name="autogrant-policy", flow_run_name="{policy_id}", validate_parameters=False)
def policy_flow(
    policy_id: str,
    data: Path,
    out: Path,
    regions: list[str] | None = None,
    as_of: dt.date | None = None,
    today: dt.date | None = None,
    operator: str = runner.DEFAULT_OPERATOR,
    ledger_path: Path | None = None,
) -> runner.RunResult:
    ctx = runner.start_run(policy_id, Path(data), Path(out), regions, as_of, None, today, operator, ledger_path)
    try:
        for region in ctx.result.regions:
            region_flow(ctx, policy_id, region)
    except BaseException:
        ctx.con.close()
        raise
    return _logged(runner.finish_run(ctx), "")


def dask_runner(address: str | None = None, workers: int | None = None):
    """Prefect's Dask task runner: the cluster at ``address`` (or $AUTOGRANT_DASK_ADDRESS), else a local cluster of
    ``workers`` (or $AUTOGRANT_DASK_WORKERS, default 2) single-threaded worker processes."""
    from prefect_dask import DaskTaskRunner

    address = address or os.environ.get("AUTOGRANT_DASK_ADDRESS")
    if address:
        return DaskTaskRunner(address=address)
    n = workers or int(os.environ.get("AUTOGRANT_DASK_WORKERS", "2"))
    return DaskTaskRunner(cluster_kwargs={"n_workers": n, "threads_per_worker": 1, "processes": True, "dashboard_address": None})


@task(name="autogrant-decide-region", task_run_name="{policy_id}-{region}", cache_policy=None)
def decide_region_task(policy_id: str, data: str, out: str, region: str, as_of: str, today: str) -> dict:
    return fanout.decide_region(policy_id, data, out, region, as_of, today)


@flow(name="autogrant-policy-fanout", flow_run_name="{policy_id}", validate_parameters=False)
def fanout_policy_flow(
    policy_id: str,
    data: Path,
    out: Path,
    regions: list[str] | None = None,
    as_of: dt.date | None = None,
    today: dt.date | None = None,
    operator: str = runner.DEFAULT_OPERATOR,
    ledger_path: Path | None = None,
) -> runner.RunResult:
    """One policy with its regions decided on the task runner's workers; the ledger is written here only."""
    ctx = fanout.open_run(policy_id, Path(data), Path(out), regions, as_of, today, operator, ledger_path)
    try:
        res = ctx.result
        futures = [
            decide_region_task.submit(policy_id, str(data), str(out), r, res.as_of.isoformat(), res.today.isoformat())
            for r in res.regions
        ]
        fanout.absorb(ctx, [f.result() for f in futures])
        for region in res.regions:
            fanout.settle_region(ctx, region)
    except BaseException:
        ctx.con.close()
        raise
    return _logged(fanout.close_run(ctx), " (fanned out)")


def run_fanned_out(policy_id: str, data: Path, out: Path, dask_address: str | None = None, workers: int | None = None,
                   **options) -> runner.RunResult:  # fmt: skip
    """fanout_policy_flow on the Dask task runner that dask_runner() chooses.

    Without PREFECT_API_URL, the temporary Prefect server is started here and named in the environment, so that
    the local cluster's worker processes report to it instead of starting one each (8-16 s apiece)."""
    flow_ = fanout_policy_flow.with_options(task_runner=dask_runner(dask_address, workers))
    if os.environ.get("PREFECT_API_URL"):
        return flow_(policy_id, Path(data), Path(out), **options)
    from prefect.server.api.server import SubprocessASGIServer
    from prefect.settings import PREFECT_API_URL, temporary_settings

    server = SubprocessASGIServer()
    server.start()
    os.environ["PREFECT_API_URL"] = server.api_url
    try:
        with temporary_settings(updates={PREFECT_API_URL: server.api_url}):
            return flow_(policy_id, Path(data), Path(out), **options)
    finally:
        del os.environ["PREFECT_API_URL"]


def _logged(result: runner.RunResult, how: str) -> runner.RunResult:
    get_run_logger().info(
        "%s%s: %d regions decided, %d stopped, %d batches released", result.policy_id, how, len(result.decided_regions),
        len(result.failures), len(result.released_batches),
    )  # fmt: skip
    return result


def policies_in_force(today: dt.date) -> list[str]:
    """The policies whose effective window (effective_from .. effective_to) contains the business date."""
    out = []
    for pid in available():
        r = load(pid).rules
        if r.effective_from.value <= today <= r.effective_to.value:
            out.append(pid)
    return out


@flow(name="autogrant-nightly", validate_parameters=False)
def nightly_flow(
    data: str,
    out_root: str,
    policies: list[str] | None = None,
    today: str | None = None,
    operator: str = runner.DEFAULT_OPERATOR,
    fan_out: bool = False,
    dask_address: str | None = None,
    regions: list[str] | None = None,
) -> dict[str, str]:
    """Every policy in force (or those named) on the night's drop; each policy writes to OUT_ROOT/<policy>/.

    fan_out: each policy's regions on Dask workers (dask_address, $AUTOGRANT_DASK_ADDRESS, or a local cluster).
    regions: only these regions of each policy (a policy with none of them is left out)."""
    day = dt.date.fromisoformat(today) if today else dt.date.today()
    chosen = policies or policies_in_force(day)
    log = get_run_logger()
    if not chosen:
        log.warning("no policy in force on %s; name them with the policies parameter", day)
    status = {}
    for pid in chosen:
        scope = None if regions is None else [r for r in regions if r in load(pid).rules.regions.value]
        if scope == []:
            continue
        if fan_out:
            result = run_fanned_out(
                pid, Path(data), Path(out_root) / pid, dask_address, regions=scope, today=day, operator=operator
            )
        else:
            result = policy_flow(pid, Path(data), Path(out_root) / pid, regions=scope, today=day, operator=operator)
        status[pid] = "ok" if result.ok else "; ".join(f"{f.region_code} {f.kind}" for f in result.failures)
    return status
