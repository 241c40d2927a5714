"""The night's commands: `autogrant run` (ingest a drop, decide, validate, move the money one step along) and
what a night prints and exits with (the tables of rows and decisions; 3 a failed gate, 4 a region not decided)."""

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from autogrant.flows.cli_common import (
    EXIT_GATE,
    EXIT_REGION,
    ApproversOpt,
    AsOfOpt,
    LedgerOpt,
    OperatorOpt,
    RegionOpt,
    TodayOpt,
    _date,
    _ledger_path,
    _use_approvers,
    err_console,
    out_console,
)
from autogrant.transforms.money import yuan


def _fail(message: str, code: int) -> None:
    err_console.print(f"autogrant: {message}", markup=False)
    raise typer.Exit(code)


def print_run(result) -> None:
    from autogrant.transforms import deadlines, messages
    from autogrant.transforms.policy import load

    warning = deadlines.run_warning(load(result.policy_id), result.as_of, result.today)
    if warning:  # a business date past the pay-by date or outside the policy's window: said on the first line
        out_console.print(warning, markup=False, highlight=False, soft_wrap=True)
    t = Table(title=messages.t("run_rows_title", policy=result.policy_id), title_justify="left")
    for col in ("file", "read", "staged", "quarantined"):
        t.add_column(messages.t(f"col.{col}"), justify="left" if col == "file" else "right")
    for c in sorted(result.ingest.counts.values(), key=lambda c: c.file):
        t.add_row(c.file, str(c.rows_read), str(c.rows_staged), str(c.rows_quarantined))
    out_console.print(t)
    if result.drop_cache == "hit":
        from autogrant.transforms.drop_cache import FOLDER

        out_console.print(messages.t("run_drop_kept", path=result.out / FOLDER), markup=False, highlight=False, soft_wrap=True)
    if result.drop_not_kept:  # the night is done; the next one on this drop reads it again
        err_console.print("autogrant: warning: " + messages.t("run_drop_not_kept", why=result.drop_not_kept), markup=False)
    d = Table(title=messages.t("run_decisions_title", as_of=result.as_of), title_justify="left")
    d.add_column(messages.t("col.region"))
    for col in ("PAY", "HOLD", "REJECT"):
        d.add_column(f"{messages.decision(col)} {col}", justify="right")
    d.add_column(messages.t("col.amount_yuan"), justify="right")

    manifest = json.loads((result.out / "manifest.json").read_text(encoding="utf-8"))
    for region, r in manifest["decisions"].items():
        units = r["units"]
        d.add_row(
            messages.region(region),
            *(str(units.get(k, 0)) for k in ("PAY", "HOLD", "REJECT")),
            yuan(sum(r["amount_fen"].values()), grouping=True),
        )
    out_console.print(d)
    reasons = ", ".join(f"{messages.reason(k)} {v}" for k, v in manifest["reasons"].items() if k not in ("PAY", "HOLD", "REJECT"))
    out_console.print(messages.t("reasons_line", reasons=reasons or messages.t("none")), markup=False)
    out_console.print(messages.t("written_to", out=result.out), markup=False)


def finish(result) -> None:
    """Exit code and one line for the regions that stopped: 3 a failed gate, 4 a region that cannot be decided."""
    print_run(result)
    for failures, code in ((result.gate_failures, EXIT_GATE), (result.region_errors, EXIT_REGION)):
        if failures:
            more = f" (and {len(failures) - 1} more regions)" if len(failures) > 1 else ""
            prefix = "validation failed: " if code == EXIT_GATE else ""
            _fail(prefix + failures[0].message + more + "; no payment file was written for it", code)


PrefectOpt = Annotated[
    bool | None,
    typer.Option("--prefect/--no-prefect", help="run as Prefect flows (default: when PREFECT_API_URL names a server)"),
]


def run(
    policy: Annotated[str, typer.Option("--policy", help="policy id, e.g. LN-2021")],
    data: Annotated[Path, typer.Option("--data", help="the data drop folder")],
    out: Annotated[Path, typer.Option("--out", help="output folder")],
    region: RegionOpt = None,
    as_of: AsOfOpt = None,
    today: TodayOpt = None,
    operator: OperatorOpt = "autogrant-nightly",
    ledger: LedgerOpt = None,
    prefect: PrefectOpt = None,
    approvers: ApproversOpt = None,
    fan_out: Annotated[
        bool, typer.Option("--fan-out", help="decide the regions on Dask workers (a Prefect flow; see README, Scale)")
    ] = False,
    dask_address: Annotated[
        str | None,
        typer.Option("--dask-address", help="an existing Dask scheduler (default $AUTOGRANT_DASK_ADDRESS, else a local cluster)"),
    ] = None,
) -> None:
    """Ingest a drop, decide every unit in scope, validate, and move the money one step along (notice, batch, file)."""
    _use_approvers(approvers)
    from autogrant.transforms import progress

    progress.enable()  # one line per stage and per region on stderr (AUTOGRANT_PROGRESS=0: silent)
    kwargs = dict(regions=region or None, as_of=_date(as_of), today=_date(today, "--today"), operator=operator,
                  ledger_path=_ledger_path(ledger, out))  # fmt: skip
    import os

    if fan_out:
        from autogrant.flows.nightly import run_fanned_out

        result = run_fanned_out(policy, data, out, dask_address, **kwargs)
    elif not (prefect if prefect is not None else bool(os.environ.get("PREFECT_API_URL"))):
        from autogrant.transforms.run import run_policy

        result = run_policy(policy, data, out, **kwargs)
    else:
        from autogrant.flows.nightly import outcome, policy_flow

        result = outcome(policy_flow(policy, data, out, return_state=True, **kwargs))
    finish(result)
