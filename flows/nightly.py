"""Prefect flows. They only orchestrate: the work is in transforms/run.py.

    nightly_flow   every policy in force on the business date (or those named) -> policy_flow each
    policy_flow    one policy: start_run (ingest, facts, decisions) -> region_flow per region -> finish_run
    region_flow    one region: gate, decisions files, ledger release and notice (a failure stays with the region)

An operator's rerun of one region is ``policy_flow`` with ``regions=[code]`` (``autogrant run --region``, or the
``autogrant-region`` deployment of ``autogrant serve`` with a region parameter).
"""

import datetime as dt
from pathlib import Path

from prefect import flow, get_run_logger

from transforms import run as runner
from transforms.policy import available, load


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
    result = runner.finish_run(ctx)
    get_run_logger().info(
        "%s: %d regions decided, %d stopped, %d batches released", policy_id, len(result.decided_regions),
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
) -> dict[str, str]:
    """Every policy in force (or those named) on the night's drop; each policy writes to OUT_ROOT/<policy>/."""
    day = dt.date.fromisoformat(today) if today else dt.date.today()
    chosen = policies or policies_in_force(day)
    log = get_run_logger()
    if not chosen:
        log.warning("no policy in force on %s; name them with the policies parameter", day)
    status = {}
    for pid in chosen:
        result = policy_flow(pid, Path(data), Path(out_root) / pid, today=day, operator=operator)
        status[pid] = "ok" if result.ok else "; ".join(f"{f.region_code} {f.kind}" for f in result.failures)
    return status
