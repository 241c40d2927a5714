"""Progress of a long run, one line per stage and per region on stderr (rich), so that a night is never silent
until its end. Off unless a command turns it on (``enable``); ``AUTOGRANT_PROGRESS=0`` keeps it off. A stage is
reported when it ends well: a run that stops on bad input prints only its one error line."""

import os
import time

from rich.console import Console
from rich.markup import escape

from autogrant.transforms import messages

_console: Console | None = None


def enable() -> None:
    global _console
    if os.environ.get("AUTOGRANT_PROGRESS", "1") != "0":
        _console = Console(stderr=True, highlight=False, soft_wrap=True)


def disable() -> None:
    global _console
    _console = None


def _say(text: str) -> None:
    if _console is not None:
        _console.print(f"[dim]{time.strftime('%H:%M:%S')}[/dim] {escape(text)}", markup=True, highlight=False)


def stage_done(name: str, seconds: float) -> None:
    key = f"stage.{name}"
    label = messages.t(key) if key in messages.MESSAGES else name
    _say(messages.t("stage_done", stage=label, seconds=seconds))


def region_done(region: str, n: int, total: int, why: str | None = None) -> None:
    state = messages.t("region_stopped", why=why) if why else messages.t("region_ok")
    _say(messages.t("region_done", region=messages.region(region), state=state, n=n, total=total))


RUN_STAGES = ("ingest", "facts", "decisions", "reports")  # once a run; validation and files are per region
