"""The ledger's commands: `autogrant ledger backup|restore` and `autogrant audit` (registered on cli.app)."""

from pathlib import Path
from typing import Annotated

import typer

from autogrant.transforms.errors import InputError

ledger_app = typer.Typer(no_args_is_help=True, help="Copies of the ledger: backup, restore.")

OutOpt = Annotated[Path, typer.Option("--out", help="the run's output folder (its ledger: OUT/.autogrant.json)")]
LedgerOpt = Annotated[Path | None, typer.Option("--ledger", help="the ledger file, if not the one OUT records")]


def _ledger_of(out: Path, ledger: Path | None) -> Path:
    from autogrant.transforms.verify import recorded_home

    return Path(ledger) if ledger is not None else recorded_home(out)[1]


def _say(text: str) -> None:
    from autogrant.flows.cli_common import out_console

    out_console.print(text, markup=False, highlight=False, soft_wrap=True)


@ledger_app.command("backup")
def backup_cmd(
    out: OutOpt,
    to: Annotated[
        Path | None, typer.Option("--to", help="the copy (default LEDGER_DIR/ledger-backups/…; never overwritten)")
    ] = None,
    ledger: LedgerOpt = None,
) -> None:
    """Copy the ledger (checkpointed, while no other process writes it) and check the copy's hash chain."""
    from autogrant.transforms import backup, messages

    path, n, head = backup.backup(_ledger_of(out, ledger), to)
    _say(
        messages.pick(
            (f"账本已备份至 {path}（共 {n} 条，链头 {head[:16]}）", f"ledger backed up to {path} ({n} entries, head {head[:16]})")
        )
    )


@ledger_app.command("restore")
def restore_cmd(
    out: OutOpt,
    from_: Annotated[Path, typer.Option("--from", help="a backup (autogrant ledger backup, or LEDGER_DIR/ledger-backups/)")],
    ledger: LedgerOpt = None,
) -> None:
    """Put a backup whose hash chain checks in place of the ledger; the ledger it replaces is kept beside it."""
    from autogrant.transforms import backup, messages

    target = _ledger_of(out, ledger)
    aside, n, head = backup.restore(target, from_)
    kept = messages.pick((f"原账本保留为 {aside}", f"the ledger replaced is kept as {aside}")) if aside else ""
    _say(
        messages.pick(
            (
                f"已从 {from_} 恢复账本 {target}（共 {n} 条，链头 {head[:16]}）",
                f"ledger {target} restored from {from_} ({n} entries, head {head[:16]})",
            )
        )  # fmt: skip
        + (f"; {kept}" if kept else "")
    )
    _say(messages.pick(("下次运行前请执行 autogrant verify OUT：备份之后拨付的支付文件不在恢复的账本中",
                        "run autogrant verify OUT next: payment files released after the backup are not in the restored ledger")))  # fmt: skip


def audit(
    out: OutOpt,
    uscc: Annotated[str | None, typer.Option("--uscc", help="the unit's USCC")] = None,
    policy: Annotated[str | None, typer.Option("--policy", help="only this policy")] = None,
    batch: Annotated[str | None, typer.Option("--batch", help="every event of one batch instead of a unit")] = None,
    ledger: LedgerOpt = None,
    lang: Annotated[str | None, typer.Option("--lang", help="zh (中文, default) or en")] = None,
) -> None:
    """Every event of a unit (or a batch) in time order: decisions by night, notice, objection, batch, approval
    (who, signature valid), release, bank result, reversal; each with its entry in the ledger's hash chain."""
    from autogrant.transforms import audit as audit_mod
    from autogrant.transforms import messages

    lang = messages.set_lang(lang) if lang else messages.current()
    if not uscc and not batch:
        raise InputError("audit needs --uscc CODE or --batch ID")
    path = _ledger_of(out, ledger)
    for line in audit_mod.trail(path, out, lang, uscc=uscc, policy=policy, batch=batch):
        _say(line)


def register(app: typer.Typer) -> None:
    app.add_typer(ledger_app, name="ledger")
    app.command("audit")(audit)
