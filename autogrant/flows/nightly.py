"""Prefect flows. They only orchestrate: the work is in transforms/run.py (the ledger process) and
transforms/worker.py (deciding), the same functions ``autogrant run`` calls without Prefect.

    nightly_flow   every policy in force on the business date (or those named) -> policy_flow each
    policy_flow    one policy: run.run_policy, its regions decided in this process, or (fan_out) one
                   autogrant-decide-region task per region on the Dask task runner; then an autogrant-region
                   sub-flow per region: the region's ledger steps, gate, files and notice (a failure stays with it)
    rerun_flow     an operator's rerun of some regions of one policy (the ``autogrant-region`` deployment)

Every flow takes plain, JSON-serialisable parameters. The region sub-flow takes the policy and the region only:
the night it settles is the one its policy flow has open in this process (the one process that writes the ledger).

Dask: ``dask_runner()`` is a local cluster (AUTOGRANT_DASK_WORKERS worker processes, default 2) or, when
AUTOGRANT_DASK_ADDRESS names a scheduler (tcp://host:8786), that existing cluster.

Where a policy's OUT is: nightly_flow and rerun_flow take an output root and write to home.policy_out(root, policy),
``autogrant run --out`` names that folder itself; open_night checks both against OUT's record (home.locate), so a
policy has one OUT and one ledger whichever way it runs.

States: a region that fails its gate or cannot be decided ends its region flow Failed, and its policy_flow, the
rerun_flow and the nightly_flow above it Failed too (after every other region and policy has run); the
RunResult stays the policy flow's result (``outcome``). Parameters are typed and validated: a date is a date or
text YYYY-MM-DD (the UI and ``prefect deployment run -p today=…`` send text), anything else fails the run at once.
"""

import datetime as dt
import os
from contextvars import ContextVar
from pathlib import Path
from typing import Annotated

from prefect import flow, get_run_logger, task
from prefect.states import Failed
from pydantic import Field

from autogrant.transforms import home, worker
from autogrant.transforms import run as runner
from autogrant.transforms.home import IsoDate
from autogrant.transforms.policy import available, load

Regions = Annotated[list[str], Field(min_length=1)]
_OPEN_NIGHT: ContextVar[runner.Night] = ContextVar("autogrant_open_night")  # set by settle_in_subflow


@flow(name="autogrant-region", flow_run_name="{policy_id}-{region}")
def region_flow(policy_id: str, region: str):
    """One region's ledger steps in the night its policy flow has open (run.settle_region)."""
    night = _OPEN_NIGHT.get()
    runner.settle_region(night, region)
    failed = [f for f in night.result.failures if f.region_code == region]
    if failed:
        get_run_logger().error("region %s stopped (%s): %s", region, failed[0].kind, failed[0].message)
        return Failed(message=f"region {region} stopped ({failed[0].kind}): {failed[0].message}")
    return "done"


def settle_in_subflow(night: runner.Night, region: str) -> None:
    token = _OPEN_NIGHT.set(night)
    try:
        state = region_flow(night.loaded.id, region, return_state=True)
    finally:
        _OPEN_NIGHT.reset(token)
    if state.is_failed() and region not in {f.region_code for f in night.result.failures}:
        state.result()  # not a stopped region but an exception inside it: raised here, the night stops


def _stopped(result: runner.RunResult) -> str:
    return f"{result.policy_id}: " + "; ".join(f"{f.region_code} {f.kind}: {f.message}" for f in result.failures)


def outcome(state) -> runner.RunResult:
    """The RunResult of a finished policy flow run (``…(return_state=True)``): Failed with stopped regions still
    carries it; a run that raised (unusable input, an internal error) raises the same exception here."""
    data = state.result(raise_on_failure=False)
    if isinstance(data, runner.RunResult):
        return data
    state.result()
    raise RuntimeError(f"flow run ended {state.type.value} without a result: {state.message}")


@task(name="autogrant-decide-region", task_run_name="{policy_id}-{region}", cache_policy=None)
def decide_region_task(
    policy_id: str, data: str, out: str, region: str, as_of: str, today: str, validate: bool
) -> worker.RegionDecision:
    return worker.decide_region(policy_id, data, out, region, as_of, today, validate)


def decide_on_workers(night: runner.Night) -> list[worker.RegionDecision]:
    """Each region of the night decided by a task on the flow's task runner (Dask workers)."""
    futures = [decide_region_task.submit(*task) for task in worker.region_tasks(night)]
    return [f.result() for f in futures]


@flow(name="autogrant-policy", flow_run_name="{policy_id}")
def policy_flow(
    policy_id: str,
    data: Path,
    out: Path,
    regions: list[str] | None = None,
    as_of: IsoDate | None = None,
    today: IsoDate | None = None,
    operator: str = runner.DEFAULT_OPERATOR,
    ledger_path: Path | None = None,
    fan_out: bool = False,
):
    """One policy into OUT (the policy's own folder). Failed, with its RunResult, when a region stopped."""
    result = runner.run_policy(
        policy_id, Path(data), Path(out), decide_with=decide_on_workers if fan_out else runner.decide_here,
        settle_with=settle_in_subflow, regions=regions, as_of=as_of, today=today, operator=operator,
        ledger_path=ledger_path,
    )  # fmt: skip
    _logged(result, " (fanned out)" if fan_out else "")
    return result if result.ok else Failed(message=_stopped(result), data=result)


def dask_runner(address: str | None = None, workers: int | None = None):
    """Prefect's Dask task runner: the cluster at ``address`` (or $AUTOGRANT_DASK_ADDRESS), else a local cluster of
    ``workers`` (or $AUTOGRANT_DASK_WORKERS, default 2) single-threaded worker processes."""
    from prefect_dask import DaskTaskRunner

    address = address or os.environ.get("AUTOGRANT_DASK_ADDRESS")
    if address:
        return DaskTaskRunner(address=address)
    n = workers or int(os.environ.get("AUTOGRANT_DASK_WORKERS", "2"))
    return DaskTaskRunner(cluster_kwargs={"n_workers": n, "threads_per_worker": 1, "processes": True, "dashboard_address": None})


def run_fanned_out(policy_id: str, data: Path, out: Path, dask_address: str | None = None, workers: int | None = None,
                   **options) -> runner.RunResult:  # fmt: skip
    """policy_flow with fan_out on the Dask task runner that dask_runner() chooses; its RunResult (see outcome).

    Without PREFECT_API_URL, the temporary Prefect server is started here and named in the environment, so that
    the local cluster's worker processes report to it instead of starting one each (8-16 s apiece)."""
    flow_ = policy_flow.with_options(task_runner=dask_runner(dask_address, workers))
    if os.environ.get("PREFECT_API_URL"):
        return outcome(flow_(policy_id, Path(data), Path(out), return_state=True, fan_out=True, **options))
    from prefect.server.api.server import SubprocessASGIServer
    from prefect.settings import PREFECT_API_URL, temporary_settings

    server = SubprocessASGIServer()
    server.start()
    os.environ["PREFECT_API_URL"] = server.api_url
    try:
        with temporary_settings(updates={PREFECT_API_URL: server.api_url}):
            return outcome(flow_(policy_id, Path(data), Path(out), return_state=True, fan_out=True, **options))
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


def _policy_night(pid: str, data: str, out_root: str, scope: list[str] | None, day: dt.date, operator: str,
                  fan_out: bool, dask_address: str | None, as_of: dt.date | None = None) -> tuple[str, str | None]:  # fmt: skip
    """One policy of a nightly or rerun flow into its folder under the output root: (status, why it failed or None)."""
    out = home.policy_out(out_root, pid)
    options = dict(regions=scope, as_of=as_of, today=day, operator=operator)
    try:
        if fan_out:
            result = run_fanned_out(pid, Path(data), out, dask_address, **options)
        else:
            result = outcome(policy_flow(pid, Path(data), out, return_state=True, **options))
    except Exception as exc:  # this policy's input is unusable: the others still run, the night ends Failed
        get_run_logger().error("%s stopped: %s", pid, exc)
        return f"error: {exc}", f"{pid}: {exc}"
    if result.ok:
        return "ok", None
    return "; ".join(f"{f.region_code} {f.kind}" for f in result.failures), _stopped(result)


@flow(name="autogrant-nightly")
def nightly_flow(
    data: str,
    out_root: str,
    policies: list[str] | None = None,
    today: IsoDate | None = None,
    operator: str = runner.DEFAULT_OPERATOR,
    fan_out: bool = False,
    dask_address: str | None = None,
    regions: list[str] | None = None,
):
    """Every policy in force (or those named) on the night's drop; each policy writes to home.policy_out(OUT_ROOT, policy).

    today: the business date (default: today in Asia/Shanghai, home.business_date).
    fan_out: each policy's regions on Dask workers (dask_address, $AUTOGRANT_DASK_ADDRESS, or a local cluster).
    regions: only these regions of each policy (a policy with none of them is left out).
    Failed (after every policy has run) when a policy's region stopped or a policy could not run."""
    day = today or home.business_date()
    chosen = policies or policies_in_force(day)
    log = get_run_logger()
    if not chosen:
        log.warning("no policy in force on %s; name them with the policies parameter", day)
    status, why = {}, []
    for pid in chosen:
        scope = None if regions is None else [r for r in regions if r in load(pid).rules.regions.value]
        if scope == []:
            continue
        status[pid], failed = _policy_night(pid, data, out_root, scope, day, operator, fan_out, dask_address)
        why += [failed] if failed else []
    return Failed(message=" | ".join(why), data=status) if why else status


@flow(name="autogrant-rerun", flow_run_name="{policy_id}-rerun")
def rerun_flow(
    policy_id: str,
    regions: Regions,
    data: str,
    out_root: str,
    today: IsoDate | None = None,
    as_of: IsoDate | None = None,
    operator: str = runner.DEFAULT_OPERATOR,
):
    """An operator's rerun of some regions of one policy, into the same folder and ledger as the nightly
    (home.policy_out(OUT_ROOT, policy)). Failed when one of them stops or the input is unusable."""
    status, failed = _policy_night(policy_id, data, out_root, regions, today or home.business_date(), operator,
                                   False, None, as_of)  # fmt: skip
    return Failed(message=failed, data={policy_id: status}) if failed else {policy_id: status}
