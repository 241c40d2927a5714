"""`autogrant clear`: a clerk checked a fraud signal with the unit (reference/account_signals.yaml) and clears it for
the unit's present account; from the next night that signal no longer holds the unit on that account. Recorded in
the ledger (ledger.signal_clearances, sealed in the hash chain) with who, when and what was checked."""

from pathlib import Path
from typing import Annotated

import typer


def clear_command(
    policy: Annotated[str, typer.Option("--policy")],
    uscc: Annotated[str, typer.Option("--uscc")],
    signal: Annotated[str, typer.Option("--signal", help="ACCOUNT_SHARED, ACCOUNT_CHANGED or ACCOUNT_NAME_OTHER_UNIT")],
    note: Annotated[str, typer.Option("--note", help="what was checked with the unit (required)")],
    out: Annotated[Path, typer.Option("--out", help="the policy's output folder (its last night's decisions and ledger)")],
    by: Annotated[str, typer.Option("--by", help="the clerk who checked it (an id with the resolve role)")] = "demo-clerk",
    today: Annotated[str | None, typer.Option("--today", help="the day it was checked (default: today)")] = None,
    ledger: Annotated[Path | None, typer.Option("--ledger", help="ledger file (default OUT/ledger.duckdb)")] = None,
    approvers: Annotated[Path | None, typer.Option("--approvers", help="the identities file")] = None,
) -> None:
    """Clear a fraud signal of a held unit for its present account, after checking it with the unit."""
    from autogrant.flows.cli_common import _date, _use_approvers, business_date, out_console
    from autogrant.transforms import messages, signals

    _use_approvers(approvers)
    day = _date(today, "--today") or business_date()
    rec = signals.record_clearance(out, policy, uscc, signal, by, note, day, ledger)
    key = "signal_cleared" if rec["new"] else "signal_cleared_before"
    out_console.print(messages.t(key, cid=rec["clearance_id"], uscc=uscc, signal=signal, day=rec["cleared_on"]), markup=False)
