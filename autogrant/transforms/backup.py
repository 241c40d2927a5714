"""Copies of the ledger, and putting one back.

A copy is the ledger file itself, taken while this process is its only writer (DuckDB locks the file for one
writing process) and just after a CHECKPOINT (every committed change in the main file, the write-ahead log
empty): the copy is the ledger exactly as committed, hash chain included, and opens like the original.

    before_first_commit   each night's first commit is preceded by a copy: LEDGER_DIR/ledger-backups/
                          <ledger>-<business date>.duckdb (the last KEEP nightly copies are kept)
    backup                `autogrant ledger backup`: a copy to a file named, never overwriting one
    restore               `autogrant ledger restore`: a copy whose chain is intact put in place of the ledger; the
                          ledger it replaces (damaged or not) is moved aside, never overwritten or deleted
"""

import datetime as dt
import os
import shutil
from pathlib import Path

import duckdb

from autogrant.transforms import files
from autogrant.transforms.errors import InputError

FOLDER = "ledger-backups"
KEEP = 14


def attached_path(con) -> Path:
    return Path(con.execute("SELECT path FROM duckdb_databases() WHERE database_name = 'ledger'").fetchall()[0][0])


def folder(ledger: Path) -> Path:
    return Path(ledger).parent / FOLDER


def _copy(con, source: Path, target: Path) -> None:
    """The attached ledger, checkpointed, copied to ``target`` (temporary name, then renamed)."""
    con.execute("CHECKPOINT ledger")
    with files.atomic_path(target) as tmp:
        shutil.copyfile(source, tmp)


def before_first_commit(con) -> Path | None:
    """The night's copy before its first commit (the business date of run_params), once per night."""
    try:
        today = con.execute("SELECT today FROM run_params").fetchall()[0][0]
    except duckdb.Error:
        return None
    source = attached_path(con)
    target = folder(source) / f"{source.stem}-{today:%Y-%m-%d}.duckdb"
    held = con.execute("SELECT (SELECT count(*) FROM ledger.journal) + (SELECT count(*) FROM ledger.claims)").fetchall()[0][0]
    if target.exists() or not held:
        return None  # taken already tonight, or nothing to keep yet
    _copy(con, source, target)
    nightly = sorted(folder(source).glob(f"{source.stem}-????-??-??.duckdb"))
    for old in nightly[:-KEEP]:
        old.unlink(missing_ok=True)
    return target


def _summary(path: Path) -> tuple[int, str, list[str]]:
    """(entries, head hash, problems) of a ledger file, opened read-only."""
    from autogrant.transforms import chain

    con = duckdb.connect(":memory:")
    try:
        con.execute("ATTACH ? AS ledger (READ_ONLY)", [str(path)])
        n = con.execute("SELECT count(*) FROM ledger.journal").fetchall()[0][0]
        return n, chain.head(con)[1], chain.problems(con, limit=1)
    except duckdb.Error as exc:
        return 0, "", [f"{path} cannot be read as a ledger: {str(exc).splitlines()[0]}"]
    finally:
        con.close()


def backup(ledger: Path, to: Path | None = None) -> tuple[Path, int, str]:
    """Copy the ledger to ``to`` (default LEDGER_DIR/ledger-backups/<ledger>-<UTC time>.duckdb); (file, entries, head)."""
    ledger = Path(ledger)
    if not ledger.is_file():
        raise InputError(f"no ledger at {ledger}")
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    to = Path(to) if to else folder(ledger) / f"{ledger.stem}-{stamp}.duckdb"
    if to.exists():
        raise InputError(f"{to} exists; a backup is never overwritten")
    from autogrant.transforms import ledger as ledger_mod

    con = duckdb.connect(":memory:")
    try:
        ledger_mod.attach(con, ledger)  # the write lock: no other writer while the copy is taken
        _copy(con, ledger, to)
    finally:
        con.close()
    n, head, broken = _summary(to)
    if broken:
        raise InputError(f"the copy {to} does not check: {broken[0]}")
    return to, n, head


def restore(ledger: Path, source: Path) -> tuple[Path | None, int, str]:
    """Put the backup ``source`` in place of ``ledger``; (where the ledger it replaced now is, entries, head)."""
    ledger, source = Path(ledger), Path(source)
    if not source.is_file():
        raise InputError(f"no backup at {source}")
    n, head, broken = _summary(source)
    if broken:
        raise InputError(f"{source} is not a ledger to restore: {broken[0]}")
    aside = None
    if ledger.exists():
        try:  # refused while a run holds it; a damaged file fails otherwise and is moved aside as it is
            duckdb.connect(str(ledger), read_only=True).close()
        except duckdb.Error as exc:
            if "lock" in str(exc).lower():
                raise InputError(f"ledger {ledger} is in use by another process: wait for it to end") from None
        stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
        aside = ledger.with_name(f"{ledger.name}.replaced-{stamp}")
        n_try = 1
        while aside.exists():
            n_try += 1
            aside = ledger.with_name(f"{ledger.name}.replaced-{stamp}-{n_try}")
        os.replace(ledger, aside)
        wal = Path(f"{ledger}.wal")
        if wal.exists():
            os.replace(wal, Path(f"{aside}.wal"))
    with files.atomic_path(ledger) as tmp:
        shutil.copyfile(source, tmp)
    return aside, n, head
