"""`autogrant apply`: a unit above the auto-grant cap applies for the refund (辽人社发〔2021〕7号 一(一) "可在2021年12月31日
前申请失业保险稳岗返还"; only the auto-grant stops at 200). The application is recorded in the ledger
(ledger.applications); from the next night the unit is decided like any other (PAY where nothing else holds it) and
paid through the same notice, approval and ledger. The policy says whether it has such a route (``over_cap``).
"""

import datetime as dt
from pathlib import Path
from typing import Annotated

import duckdb
import typer

from autogrant.transforms.errors import InputError


def unit_decision(out: Path, policy_id: str, uscc: str) -> tuple[str, str] | None:
    """(region_code, reasons) of the unit in OUT's last decisions, or None."""
    path = Path(out) / "decisions.parquet"
    if not path.is_file():
        return None
    rows = duckdb.sql(
        f"SELECT region_code, reasons FROM read_parquet('{path.as_posix()}') WHERE policy_id = ? AND uscc = ?",
        params=[policy_id, uscc],
    ).fetchall()
    return rows[0] if rows else None


def record_application(out: Path, policy_id: str, uscc: str, by: str, today: dt.date, ledger: Path | None = None) -> dict:
    """Record a unit's application; refused (InputError) unless OUT's last night held it with APPLICATION_REQUIRED.
    A second application of the same unit returns the first."""
    from autogrant.transforms import chain, home, identities
    from autogrant.transforms import ledger as ledger_mod
    from autogrant.transforms.policy import load

    loaded = load(policy_id)
    over_cap = loaded.rules.over_cap
    if not loaded.policy.over_cap_by_application:
        raise InputError(f"{policy_id} pays no unit above its cap on application (over_cap route reject): nothing to record")
    out, led = home.locate(out, loaded.id, ledger)
    with ledger_mod.opened(led, write=True) as con:  # refused on a ledger whose chain was tampered with
        done = con.execute(
            "SELECT application_id, lodged_on, late FROM ledger.applications WHERE policy_id = ? AND uscc = ?", [policy_id, uscc]
        ).fetchall()
        if done:
            return {"application_id": done[0][0], "lodged_on": done[0][1], "late": done[0][2], "new": False}
        decided = unit_decision(out, policy_id, uscc)
        if decided is None:
            raise InputError(f"{uscc} has no decision under {policy_id} in {out} (not in scope, or no night has run)")
        region, reasons = decided
        if "APPLICATION_REQUIRED" not in (reasons or "").split(";"):
            raise InputError(f"{uscc} is not awaiting an application under {policy_id} (its reasons: {reasons or 'none, PAY'})")
        clerks = identities.load()
        clerk = clerks.identities.get(by)
        if clerk is None or not (clerk.may("object", region) or clerk.may("resolve", region)):
            clerks.require(by, "object", region)  # the one line that says who may not, and why
        late = today > over_cap.value.apply_by
        application_id = f"{policy_id}-{uscc}-A1"
        with chain.sealed(con):  # one entry of the ledger's hash chain, like an objection
            con.execute(
                "INSERT INTO ledger.applications VALUES (?, ?, ?, ?, ?, ?, ?)",
                [application_id, policy_id, uscc, region, by, today, late],
            )
        return {"application_id": application_id, "lodged_on": today, "late": late, "new": True}


def apply_command(
    policy: Annotated[str, typer.Option("--policy")],
    uscc: Annotated[str, typer.Option("--uscc")],
    out: Annotated[Path, typer.Option("--out", help="the policy's output folder (its last night's decisions and ledger)")],
    by: Annotated[
        str, typer.Option("--by", help="the clerk who records it (an id with the object or resolve role)")
    ] = "demo-clerk",
    today: Annotated[str | None, typer.Option("--today", help="the day it was lodged (default: today)")] = None,
    ledger: Annotated[Path | None, typer.Option("--ledger", help="ledger file (default OUT/ledger.duckdb)")] = None,
    approvers: Annotated[Path | None, typer.Option("--approvers", help="the identities file")] = None,
) -> None:
    """Record the application of a unit above the auto-grant cap (APPLICATION_REQUIRED): the next night decides it."""
    from autogrant.flows.cli_common import _date, _use_approvers, business_date, out_console
    from autogrant.transforms import messages
    from autogrant.transforms.policy import load

    _use_approvers(approvers)
    day = _date(today, "--today") or business_date()
    rec = record_application(out, policy, uscc, by, day, ledger)
    if rec["late"]:  # said first: lodged after the date the policy's text gives
        over_cap = load(policy).rules.over_cap
        out_console.print(
            messages.t("application_late", lodged=rec["lodged_on"], apply_by=over_cap.value.apply_by, cite=over_cap.cite),
            markup=False,
        )
    key = "application_recorded" if rec["new"] else "application_exists"
    out_console.print(messages.t(key, aid=rec["application_id"], uscc=uscc, policy=policy, lodged=rec["lodged_on"]), markup=False)
