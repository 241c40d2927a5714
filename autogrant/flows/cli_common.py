"""What the `autogrant` commands share: the consoles, the exit codes, the options several commands take, and the
helpers that turn an option into a date, a folder or the ledger file (one line and exit 2 when they cannot)."""

import datetime as dt
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from autogrant.transforms.errors import InputError

out_console = Console(width=None if sys.stdout.isatty() else 240)
err_console = Console(stderr=True, highlight=False, soft_wrap=True)

EXIT_INPUT = 2
EXIT_GATE = 3
EXIT_REGION = 4
EXIT_INTERNAL = 70


def _date(value: str | None, option: str = "--as-of") -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise InputError(f"{option} '{value}' is not a date YYYY-MM-DD") from None


def business_date() -> dt.date:
    from autogrant.transforms.home import business_date as in_policy_time_zone

    return in_policy_time_zone()  # today in Asia/Shanghai, not the host's day


def _folder(path: Path | None, option: str = "--out") -> Path | None:
    """A folder named on the command line: refused (one line, exit 2) when it, or a folder above it, is a file."""
    if path is None:
        return None
    for p in (Path(path), *Path(path).parents):
        if p.is_dir():
            return path
        if p.exists() or p.is_symlink():
            if p == Path(path):
                raise InputError(f"{option} {path} is a file, not a folder: give a folder (a run's output folder)")
            raise InputError(f"{option} {path} cannot be a folder: {p} is a file")
    return path


def _ledger_path(ledger: Path | None, out: Path | None) -> Path:
    import os

    from autogrant.transforms.home import ledger_file

    if ledger is not None or out is not None or os.environ.get("AUTOGRANT_LEDGER"):
        path = ledger_file(_folder(out), ledger)  # the one rule of transforms/home.py
        _folder(path.parent, "the ledger's folder")
        return path
    raise InputError("give --ledger PATH (or --out OUT for OUT/ledger.duckdb, or AUTOGRANT_LEDGER)")


LangOpt = Annotated[str | None, typer.Option("--lang", help="zh (中文, default) or en; else $AUTOGRANT_LANG")]


RegionOpt = Annotated[list[str] | None, typer.Option("--region", help="only these regions (repeatable)")]
AsOfOpt = Annotated[str | None, typer.Option("--as-of", help="data cut-off YYYY-MM-DD (default: the policy's)")]
TodayOpt = Annotated[str | None, typer.Option("--today", help="the business date of the run (default: today)")]
OperatorOpt = Annotated[str, typer.Option("--operator", help="who prepares tonight's batches")]
LedgerOpt = Annotated[Path | None, typer.Option("--ledger", help="ledger file (default OUT/ledger.duckdb or $AUTOGRANT_LEDGER)")]
ApproversOpt = Annotated[
    Path | None, typer.Option("--approvers", help="the identities file (default $AUTOGRANT_APPROVERS, else the DEMO file)")
]


def _use_approvers(path: Path | None) -> None:
    """--approvers FILE for this process (and what it starts): the identities of transforms/identities.py."""
    import os

    if path is not None:
        os.environ["AUTOGRANT_APPROVERS"] = str(path)
