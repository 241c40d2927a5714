"""The ledger: a DuckDB file kept across runs, the only record of money released.

Workflow per unit and policy (seeds 000, 001; Dalian practice): claim in public notice (公示) for notice_days
working days -> batch awaiting approval -> approved by someone other than its preparer -> released (ledger rows,
then the payment file) -> reconciled with the bank's results. Every write is one transaction; the SQL is in
sql/50_release.sql … 54_notice_commit.sql. Files are written only from committed ledger rows (transforms/payment_files.py), so a crash between
the commit and the file is repaired by the next run (``recover``), which writes the same bytes.
"""

import contextlib
import datetime as dt
import json
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import duckdb

from autogrant.transforms import sqlsteps
from autogrant.transforms.errors import InputError
from autogrant.transforms.faults import checkpoint
from autogrant.transforms.money import yuan as _yuan
from autogrant.transforms.payment_files import write_pending_files  # release() writes the files it committed

LEDGER_FILE = "ledger.duckdb"


class LedgerRefused(Exception):
    """A write the ledger's rules refuse (paid beyond amount_due, a broken chain, self-approval)."""


@dataclass
class RunParams:
    policy_id: str
    region_code: str
    today: dt.date
    operator: str
    notice_days: int
    notice_end: dt.date


def attach(con, path: Path) -> None:
    """Attach the ledger file to a run's connection as ``ledger``, creating its tables the first time."""
    path = Path(path)
    if path.exists():
        check_readable(path)  # a damaged ledger is refused before anything is written to it
    else:  # a new ledger: nothing in it to walk
        _deep_checked[str(path.resolve())] = dt.date.today().isoformat()
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        con.execute("ATTACH ? AS ledger", [str(path)])
    except duckdb.Error as exc:
        raise InputError(_unusable(path, str(exc))) from None
    sqlsteps.run(con, "01_ledger_schema.sql")


SEAL = ".checked.json"  # beside the ledger: the file as a night left it, after the whole check
DEEP_CHECK_DAYS = 7  # the indexes are walked again at least this often, sealed or not
_deep_checked: dict[str, str] = {}  # ledger file -> the day its indexes were last walked (this process saw)


def seal(path: Path) -> None:
    """After a night's connection closed: the ledger file's size and SHA-256 as it left it, and the day its indexes
    were last walked. The next night whose ledger is byte for byte this file walks them only when that day is
    DEEP_CHECK_DAYS old (check_readable): anything that wrote the file since (a clerk's command, a crash, a copy)
    changes its SHA-256, and the whole check runs."""
    from autogrant.transforms.files import sha256_file, write_text

    path = Path(path)
    day = _deep_checked.get(str(path.resolve()))
    if day is None or not path.is_file() or Path(f"{path}.wal").exists():
        return
    write_text(
        Path(f"{path}{SEAL}"), json.dumps({"size": path.stat().st_size, "sha256": sha256_file(path), "indexes_walked": day})
    )


def _sealed(path: Path) -> str | None:
    """The day the indexes of this very file were last walked, when its seal says so and it is recent enough."""
    from autogrant.transforms.files import sha256_file

    try:
        got = json.loads(Path(f"{path}{SEAL}").read_text(encoding="utf-8"))
        day = dt.date.fromisoformat(got["indexes_walked"])
        fresh = (dt.date.today() - day).days < DEEP_CHECK_DAYS and not Path(f"{path}.wal").exists()
        same = fresh and got["size"] == path.stat().st_size and got["sha256"] == sha256_file(path)
        return day.isoformat() if same else None
    except (OSError, ValueError, KeyError, TypeError):
        return None


def check_readable(path: Path) -> None:
    """InputError unless ``path`` is a DuckDB file whose every table and index reads back (each block read has its
    checksum checked). The file is opened read-only and left exactly as it is: indexes are walked on a copy, unless
    the file is byte for byte the one a night left after walking them (``seal``: at most DEEP_CHECK_DAYS ago)."""
    path = Path(path)
    if path.is_dir():
        raise InputError(f"ledger {path} is a folder, not a ledger file: give --ledger FILE, or --out the run's folder")
    con = duckdb.connect(":memory:")
    try:
        con.execute("ATTACH ? AS l (READ_ONLY)", [str(path)])  # also refused while another process writes to it
        tables = con.execute("SELECT schema_name, table_name FROM duckdb_tables() WHERE database_name = 'l'").fetchall()
        for schema, table in tables:
            con.execute(f'SELECT count(hash(t)) FROM l."{schema}"."{table}" t').fetchall()
        if (day := _sealed(path)) is not None:
            _deep_checked[str(path.resolve())] = day
            return
        _walk_indexes(path, tables)
        _deep_checked[str(path.resolve())] = dt.date.today().isoformat()
    except duckdb.Error as exc:
        raise InputError(_unusable(path, str(exc))) from None
    finally:
        con.close()


def _walk_indexes(path: Path, tables: list[tuple[str, str]]) -> None:
    """Every index entry of the ledger read, on a copy of the file (deleting every row walks every entry: DuckDB
    loads index blocks only when used)."""
    with tempfile.TemporaryDirectory(prefix="autogrant-ledger-check-") as tmp:
        for suffix in ("", ".wal"):
            if Path(f"{path}{suffix}").is_file():
                shutil.copyfile(f"{path}{suffix}", Path(tmp) / f"copy.duckdb{suffix}")
        copy, copy_file = duckdb.connect(":memory:"), str(Path(tmp) / "copy.duckdb")
        try:
            copy.execute("ATTACH ? AS c", [copy_file])
            for schema, table in tables:
                copy.execute(f'DELETE FROM c."{schema}"."{table}"')
        except duckdb.Error as exc:
            raise InputError(_unusable(path, str(exc).replace(copy_file, str(path)))) from None
        finally:
            copy.close()


def _unusable(path: Path, error: str) -> str:
    first = (error.splitlines() or ["unreadable"])[0]
    if "conflicting lock" in first.lower() or "could not set lock" in first.lower():
        return f"ledger {path} is in use by another process (another autogrant run?): wait for it to end ({first})"
    return (
        f"ledger {path} is damaged or not an autogrant ledger ({first}); it was left as it is: restore it from its "
        "backup (never delete it: it is the record of what was paid)"
    )


@contextlib.contextmanager
def opened(path: Path, write: bool = False):
    """A connection with only the ledger attached, for the clerks' commands (approve, object, resolve)."""
    if not Path(path).exists():
        raise InputError(f"no ledger at {path} (a run creates it; give --ledger PATH)")
    con = duckdb.connect(":memory:")
    try:
        attach(con, path)
        if write:  # a clerk's write on a ledger whose chain or rows were tampered with is refused
            from autogrant.transforms import chain

            chain.require_intact(con, path)
        yield con
    finally:
        con.close()


def set_params(con, p: RunParams) -> None:
    con.execute(
        """CREATE OR REPLACE TEMP TABLE run_params AS SELECT ?::VARCHAR AS policy_id, ?::VARCHAR AS region_code,
           ?::DATE AS today, ?::VARCHAR AS operator, ?::INTEGER AS notice_days, ?::DATE AS notice_end""",
        [p.policy_id, p.region_code, p.today, p.operator, p.notice_days, p.notice_end],
    )


def _transaction(con, step: str) -> None:
    """Run one SQL file as one transaction; the chain of every unit's entries is checked before it commits, and
    its new entries are sealed into the hash chain (transforms/chain.py). The night's first commit is preceded by
    a copy of the ledger (transforms/backup.py)."""
    from autogrant.transforms import backup, chain

    backup.before_first_commit(con)
    con.execute("BEGIN TRANSACTION")
    try:
        sqlsteps.run(con, step)
        breaks = con.execute("SELECT policy_id, uscc, seq FROM ledger.chain_breaks LIMIT 1").fetchall()
        if breaks:
            raise LedgerRefused(f"ledger entry {breaks[0]} does not continue the unit's chain of payments")
        chain.seal(con)
        checkpoint(f"before commit {step}")
        con.execute("COMMIT")
    except duckdb.ConstraintException as exc:
        con.execute("ROLLBACK")
        raise LedgerRefused(f"{step}: {str(exc).splitlines()[0]}") from None
    except BaseException:
        con.execute("ROLLBACK")
        raise
    checkpoint(f"after commit {step}")


def load_state(con) -> None:
    """ledger_paid and ledger_holds for the policy in the ``policy`` table: what the decisions read."""
    sqlsteps.run(con, "22_ledger_state.sql")


def reconcile_returns(con, policy_id: str, today: dt.date, operator: str) -> None:
    """The drop's bank_returns against the ledger; matched returned payments are reversed."""
    set_params(con, RunParams(policy_id, "", today, operator, 0, today))
    sqlsteps.run(con, "20_bank_returns.sql")
    _transaction(con, "21_bank_returns_commit.sql")


def release_candidates(con, p: RunParams) -> None:
    """release_rows / release_payments: what the region's approved batches would pay tonight (for the gate)."""
    set_params(con, p)
    sqlsteps.run(con, "50_release.sql")
    from autogrant.transforms import approval

    approval.check_release(con, p.policy_id, p.region_code)  # GateFailed: an approval that does not stand


def release(con, p: RunParams, out: Path) -> list[str]:
    """Commit the region's approved batches to the ledger, then write their files; returns the batch ids."""
    set_params(con, p)
    approved = con.execute(
        "SELECT count(*) FROM ledger.batches WHERE state = 'approved' AND policy_id = ? AND region_code = ?",
        [p.policy_id, p.region_code],
    ).fetchall()[0][0]
    if approved:  # none approved: the step would change no row, so no transaction (nothing new to seal or commit)
        _transaction(con, "51_release_commit.sql")
    return write_pending_files(con, out, p.policy_id, p.region_code)


def advance(con, p: RunParams) -> None:
    """New payable units into notice; ended notices into a batch awaiting approval."""
    set_params(con, p)
    sqlsteps.run(con, "53_notice.sql")
    steps = con.execute(
        "SELECT (SELECT count(*) FROM claims_withdrawn) + (SELECT count(*) FROM new_claims) + (SELECT count(*) FROM to_batch)"
    ).fetchall()[0][0]
    if steps:  # a quiet night in the region (nothing withdrawn, noticed or batched): no transaction
        _transaction(con, "54_notice_commit.sql")


# ---- the clerks' commands -------------------------------------------------------------------------------------


def approve(path: Path, batch_id: str, by: str, now: dt.datetime | None = None, key_file: Path | None = None) -> dict:
    """``by`` (an identity id of approvers.yaml, never the preparer) signs the batch's approval (transforms/approval.py)."""
    from autogrant.transforms import approval

    with opened(path, write=True) as con:
        done = approval.approve(con, batch_id, by, key_file, now)
        return done | {"total": _yuan(done["total_fen"])}


def lodge_objection(path: Path, policy_id: str, uscc: str, reason: str, by: str, today: dt.date) -> str:
    from autogrant.transforms import chain

    with opened(path, write=True) as con:
        _require_clerk(con, by, "object", policy_id, uscc)
        claim = con.execute(
            "SELECT claim_id, state FROM ledger.claims WHERE policy_id = ? AND uscc = ? AND state IN ('in_notice', 'batched')",
            [policy_id, uscc],
        ).fetchall()
        if not claim:
            raise InputError(f"{uscc} has no claim in public notice under {policy_id}")
        if not reason.strip():
            raise InputError("an objection needs a reason")
        n = con.execute("SELECT count(*) FROM ledger.objections WHERE policy_id = ? AND uscc = ?", [policy_id, uscc]).fetchall()[
            0
        ][0]
        objection_id = f"{policy_id}-{uscc}-O{n + 1}"
        with chain.sealed(con):
            con.execute(
                "INSERT INTO ledger.objections VALUES (?, ?, ?, ?, ?, ?, NULL, NULL, NULL, NULL)",
                [objection_id, policy_id, uscc, reason, by, today],
            )
        return objection_id


def resolve_objection(path: Path, policy_id: str, uscc: str, outcome: str, by: str, note: str, today: dt.date) -> str:
    if outcome not in ("cleared", "upheld"):
        raise InputError(f"--outcome must be cleared or upheld, not {outcome}")
    from autogrant.transforms import chain

    with opened(path, write=True) as con:
        _require_clerk(con, by, "resolve", policy_id, uscc)
        open_ = con.execute(
            "SELECT objection_id, lodged_by FROM ledger.objections WHERE policy_id = ? AND uscc = ? AND outcome IS NULL",
            [policy_id, uscc],
        ).fetchall()
        if not open_:
            raise InputError(f"{uscc} has no open objection under {policy_id}")
        with chain.sealed(con):
            con.execute(
                """UPDATE ledger.objections SET outcome = ?, resolved_by = ?, resolved_on = ?, resolution_note = ?
                   WHERE policy_id = ? AND uscc = ? AND outcome IS NULL""",
                [outcome, by, today, note, policy_id, uscc],
            )
        return open_[0][0]


def _require_clerk(con, by: str, role: str, policy_id: str, uscc: str) -> None:
    """``by`` must be an identity of approvers.yaml with ``role`` for the unit's region."""
    from autogrant.transforms import identities

    region = con.execute(
        "SELECT max(region_code) FROM ledger.claims WHERE policy_id = ? AND uscc = ?", [policy_id, uscc]
    ).fetchall()[0][0]
    identities.load().require(by, role, region)


def awaiting_approval(path: Path) -> list[str]:
    """The batches waiting for an approver, oldest first."""
    with opened(path) as con:
        return [
            b
            for (b,) in con.execute("SELECT batch_id FROM ledger.batches WHERE state = 'awaiting_approval' ORDER BY 1").fetchall()
        ]
