"""`autogrant demo`: the whole path on a drop as three nights (notice, batches after the notice, a DEMO approval,
payment files), for a first look; nothing of it is for real money."""

from pathlib import Path
from typing import Annotated

import typer

from autogrant.flows.cli_common import _date, _ledger_path, out_console
from autogrant.flows.cli_night import finish
from autogrant.transforms.paths import SAMPLES_DIR


def demo(
    data: Annotated[Path, typer.Option("--data", help="the data drop folder")] = SAMPLES_DIR / "ln2021",
    out: Annotated[Path, typer.Option("--out", help="output folder")] = Path("out/ln2021"),
    policy: Annotated[str, typer.Option("--policy")] = "LN-2021",
    approver: Annotated[str, typer.Option("--approver", help="the approver's id (a DEMO identity: unsigned)")] = "demo-approver",
    start: Annotated[str, typer.Option("--start", help="the first night")] = "2026-11-02",
) -> None:
    """The whole path on a drop, as three nights: notice (公示), batches after the notice, approval, payment files."""
    from autogrant.transforms import progress

    progress.enable()
    from autogrant.transforms.ledger import approve as approve_batch
    from autogrant.transforms.ledger import awaiting_approval
    from autogrant.transforms.policy import load
    from autogrant.transforms.run import run_policy
    from autogrant.transforms.workdays import add_working_days

    first = _date(start, "--start")
    ledger = _ledger_path(None, out)
    notice_days = load(policy).rules.notice_days.value
    nights = [first, add_working_days(first, notice_days + 1)]
    nights.append(add_working_days(nights[1], 1))
    from autogrant.transforms import messages

    out_console.print(messages.t("demo_night1", day=nights[0], days=notice_days), markup=False)
    run_policy(policy, data, out, today=nights[0], ledger_path=ledger)
    out_console.print(messages.t("demo_night2", day=nights[1]), markup=False)
    run_policy(policy, data, out, today=nights[1], ledger_path=ledger)
    batches = awaiting_approval(ledger)
    for b in batches:
        approve_batch(ledger, b, approver)
    out_console.print(messages.t("demo_approved", by=f"{approver} (DEMO identity, unsigned)", n=len(batches)), markup=False)
    out_console.print(messages.t("demo_night3", day=nights[2]), markup=False)
    finish(run_policy(policy, data, out, today=nights[2], ledger_path=ledger))
    out_console.print(messages.t("demo_done", path=out / "payments", out=out), markup=False)
