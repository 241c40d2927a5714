"""Where a policy's outputs and ledger are, and which day a night is: one rule for every way a night runs.

    policy_out(out_root, policy_id)    OUT_ROOT/<policy_id>/: the folder of a policy under the deployments'
                                       output root (the nightly, a region rerun, the fan-out)
    ledger_file(out, ledger)           --ledger FILE, else $AUTOGRANT_LEDGER, else OUT/ledger.duckdb
    locate(out, policy_id, ledger)     both of the above checked against what OUT records (OUT/.autogrant.json):
                                       a policy has one OUT and one ledger, whichever way it runs
    business_date()                    today in the policy's time zone (Asia/Shanghai), not the host's day
    parse_date / IsoDate               a date given as text: YYYY-MM-DD exactly, else a one-line error

``autogrant run --out OUT`` names the policy's folder itself (CONTRACT.md section 2); the deployments take an
output root and call policy_out. Every run (CLI, flows, fan-out) goes through locate before it opens the ledger.
"""

import datetime as dt
import json
import os
import re
from pathlib import Path
from typing import Annotated
from zoneinfo import ZoneInfo

from pydantic import BeforeValidator

from autogrant.transforms import files
from autogrant.transforms.errors import InputError
from autogrant.transforms.ledger import LEDGER_FILE

TIME_ZONE = "Asia/Shanghai"  # every policy in autogrant/policies is a Chinese region's: China Standard Time
MARKER = ".autogrant.json"  # OUT's record of its policy and ledger
_ISO = re.compile(r"\d{4}-\d{2}-\d{2}")


def business_date(now: dt.datetime | None = None, time_zone: str = TIME_ZONE) -> dt.date:
    """The business date: the calendar day in the policy's time zone at ``now`` (default: this instant)."""
    now = now or dt.datetime.now(dt.UTC)
    if now.tzinfo is None:
        raise ValueError("business_date needs an aware datetime")
    return now.astimezone(ZoneInfo(time_zone)).date()


def parse_date(value, name: str = "date") -> dt.date | None:
    """A date from a parameter: a date, or text YYYY-MM-DD (nothing else); None stays None."""
    if value is None or (isinstance(value, dt.date) and not isinstance(value, dt.datetime)):
        return value
    if isinstance(value, str) and _ISO.fullmatch(value.strip()):
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise InputError(f"{name} {value!r} is not a date YYYY-MM-DD")


def _iso_date(value):
    try:
        return parse_date(value)
    except InputError as exc:  # pydantic reports a ValueError as the parameter's validation error
        raise ValueError(str(exc)) from None


# a flow parameter that is a date: the Prefect UI and `prefect deployment run -p today=…` send text
IsoDate = Annotated[dt.date, BeforeValidator(_iso_date)]


def policy_out(out_root: Path | str, policy_id: str) -> Path:
    """The policy's folder under an output root: OUT_ROOT/<policy_id>/."""
    return Path(out_root) / policy_id


def ledger_file(out: Path | str, ledger: Path | str | None = None) -> Path:
    """The ledger of a policy's OUT: the one named, else $AUTOGRANT_LEDGER, else OUT/ledger.duckdb."""
    if ledger is not None:
        return Path(ledger)
    if os.environ.get("AUTOGRANT_LEDGER"):
        return Path(os.environ["AUTOGRANT_LEDGER"])
    return Path(out) / LEDGER_FILE


def _recorded(folder: Path) -> dict | None:
    try:
        return json.loads((folder / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _as_recorded(out: Path, ledger: Path) -> str:
    """The ledger as OUT records it: relative when it lies inside OUT (so that OUT can be moved), else absolute."""
    try:
        return ledger.resolve().relative_to(out.resolve()).as_posix()
    except ValueError:
        return str(ledger.resolve())


def locate(out: Path | str, policy_id: str, ledger: Path | str | None = None) -> tuple[Path, Path]:
    """(OUT, ledger) of a run of ``policy_id`` into ``out``, refused (InputError) where it would give the policy a
    second OUT or a second ledger:

    - ``out`` is an output root that holds the policy's folder (``out/<policy_id>/``), or lies inside a folder
      that is already that policy's OUT;
    - OUT was run with another ledger file than the one this run would use.
    The first run into OUT records the policy and its ledger in OUT/.autogrant.json (record_home)."""
    out = Path(out)
    led = ledger_file(out, ledger)
    nested = policy_out(out, policy_id)
    if (nested / MARKER).is_file() or (nested / LEDGER_FILE).is_file():
        raise InputError(
            f"{out} is an output root: the folder of {policy_id} is {nested} (one policy, one ledger); give --out {nested}"
        )
    for parent in list(out.resolve().parents)[:3]:
        rec = _recorded(parent)
        if rec and rec.get("policy_id") == policy_id:
            raise InputError(f"{out} lies inside {parent}, the folder of {policy_id} already: give --out {parent}")
    rec = _recorded(out)
    if rec and rec.get("policy_id") == policy_id and rec.get("ledger"):
        before = Path(rec["ledger"])
        before = before if before.is_absolute() else out / before
        if before.resolve() != led.resolve() and before.is_file():
            raise InputError(
                f"{out} keeps the ledger of {policy_id} in {before}; this run would use {led}: one policy, one ledger "
                "(give --ledger with that file, or unset AUTOGRANT_LEDGER)"
            )
    return out, led


def record_home(out: Path, policy_id: str, ledger: Path) -> None:
    """OUT/.autogrant.json: the policy whose folder OUT is, and its ledger (what locate checks the next run against)."""
    out = Path(out)
    rec = _recorded(out) or {}
    if rec.get("policy_id") == policy_id and rec.get("ledger") == _as_recorded(out, Path(ledger)):
        return
    text = json.dumps({"policy_id": policy_id, "ledger": _as_recorded(out, Path(ledger))}, ensure_ascii=False, indent=2)
    files.write_text(out / MARKER, text + "\n")
