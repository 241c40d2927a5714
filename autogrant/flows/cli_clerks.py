"""The clerks' commands: `autogrant approve` (a signed approval of a batch), `keygen` (an approver's key pair),
`object` and `resolve` (an objection to a unit in public notice). Each writes one entry to the ledger."""

from pathlib import Path
from typing import Annotated

import typer

from autogrant.flows.cli_common import (
    ApproversOpt,
    LedgerOpt,
    TodayOpt,
    _date,
    _ledger_path,
    _use_approvers,
    business_date,
    out_console,
)


def approve(
    batch: Annotated[str, typer.Argument(help="the batch id, e.g. LN-2021-210300-20261121-1")],
    by: Annotated[str, typer.Option("--by", help="the approver's id in approvers.yaml (not the batch's preparer)")],
    key: Annotated[
        Path | None, typer.Option("--key", help="the approver's private key (default $AUTOGRANT_APPROVER_KEY)")
    ] = None,
    ledger: LedgerOpt = None,
    out: Annotated[Path | None, typer.Option("--out", help="the run's output folder (for OUT/ledger.duckdb)")] = None,
    approvers: ApproversOpt = None,
) -> None:
    """Approve a batch whose notice has ended, signed with the approver's key; the next run releases its payment file."""
    from autogrant.transforms.ledger import approve as approve_batch

    _use_approvers(approvers)
    done = approve_batch(_ledger_path(ledger, out), batch, by, key_file=key)
    signed = "DEMO identity: unsigned, not for real money" if done["by"].demo else "signed (Ed25519)"
    from autogrant.transforms import messages

    out_console.print(
        messages.t(
            "approved",
            batch=done["batch_id"],
            payments=done["payments"],
            total=done["total"],
            preparer=done["prepared_by"],
            by=f"{done['by'].label()}; {signed}",
        ),  # fmt: skip
        markup=False,
    )


def keygen(
    key_file: Annotated[Path, typer.Option("--key-file", help="where to write the new private key (never overwritten)")],
    id_: Annotated[str, typer.Option("--id", help="the approver's id, for the approvers.yaml lines printed")],
) -> None:
    """Create an Ed25519 key pair for an approver: the private key to a file only they can read, the public key
    printed as the approvers.yaml entry to add."""
    from autogrant.transforms.identities import keygen as make_key

    public = make_key(key_file)
    out_console.print(f"private key written to {key_file} (mode 0600; keep it with {id_} alone)", markup=False)
    out_console.print(
        f"add to approvers.yaml:\n  - id: {id_}\n    name: ...\n    roles: [approve]\n    regions: [...]\n"
        f"    public_key: {public}",
        markup=False,
    )


def object_(
    policy: Annotated[str, typer.Option("--policy")],
    uscc: Annotated[str, typer.Option("--uscc")],
    reason: Annotated[str, typer.Option("--reason", help="what the objection says")],
    by: Annotated[str, typer.Option("--by", help="who records it (an id with the object role)")] = "demo-clerk",
    today: TodayOpt = None,
    ledger: LedgerOpt = None,
    out: Annotated[Path | None, typer.Option("--out")] = None,
    approvers: ApproversOpt = None,
) -> None:
    """Record an objection to a unit in public notice: it is held (UNDER_OBJECTION) until resolved."""
    from autogrant.transforms.ledger import lodge_objection

    _use_approvers(approvers)
    oid = lodge_objection(_ledger_path(ledger, out), policy, uscc, reason, by, _date(today, "--today") or business_date())
    from autogrant.transforms import messages

    out_console.print(messages.t("objection_recorded", oid=oid, uscc=uscc, policy=policy), markup=False)


def resolve(
    policy: Annotated[str, typer.Option("--policy")],
    uscc: Annotated[str, typer.Option("--uscc")],
    outcome: Annotated[str, typer.Option("--outcome", help="cleared (the unit is paid) or upheld (it is not)")],
    by: Annotated[str, typer.Option("--by", help="who resolves it (an id with the resolve role)")] = "demo-clerk",
    note: Annotated[str, typer.Option("--note")] = "",
    today: TodayOpt = None,
    ledger: LedgerOpt = None,
    out: Annotated[Path | None, typer.Option("--out")] = None,
    approvers: ApproversOpt = None,
) -> None:
    """Resolve a unit's open objection."""
    from autogrant.transforms.ledger import resolve_objection

    _use_approvers(approvers)
    oid = resolve_objection(
        _ledger_path(ledger, out), policy, uscc, outcome, by, note, _date(today, "--today") or business_date()
    )
    from autogrant.transforms import messages

    label = messages.t(f"outcome.{outcome}") if f"outcome.{outcome}" in messages.MESSAGES else outcome
    out_console.print(messages.t("objection_resolved", oid=oid, outcome=label), markup=False)
