"""The drop as staged, kept for the next night on the same drop (issue 13: a quiet second night).

The agencies do not send a new drop every night: a night whose drop, policy, scope, as-of and code are those of the
night before reads the same rows into the same tables, and makes the same facts of them (sql/27-37 read the drop and
the policy alone). That night takes those tables back from OUT/.cache/drop/ (one Parquet file a table) instead of
reading the drop again and making its facts; the facts that read the ledger (38, 39), the decisions, gates and money
steps run as on any night.

What is kept: the staged files a step after 27-37 reads (STAGED: the unit register, the prior disbursements, the
bank returns; never the roster or the benefit claims, which hold persons' ID numbers, nor the 4 million premium
rows, which 27-37 alone read), the quarantine and warnings as ingest leaves them (ID numbers masked,
transforms/privacy.py), the drop's file list, and what 27-37 make that is read after them (FACTS: per unit and per
region, what sql/29_person_counts.sql counted of persons among them; the unregistered payers, for the clerks). No
table kept holds an ID number.

When it is used: the key (policy file, scope, as-of, the code, the DuckDB and python-stdnum versions) is equal,
every file the ingest reads has the same name, size and SHA-256 as on the night that wrote the cache, and the cache is
as that night wrote it (each file's SHA-256 in meta.json, meta.json signed with the payment key). The SHA-256s are
also what the manifest records of the inputs: on a night that reads the drop they are computed beside the ingest.
A cache that cannot be read is a miss (the drop is read); one is written whole or not at all (a folder renamed into
place), on a thread beside the night's settling. ``AUTOGRANT_DROP_CACHE=0`` turns it off (every night reads its drop).
"""

import base64
import concurrent.futures
import hashlib
import json
import os
import shutil
import threading
from dataclasses import asdict, dataclass, field
from functools import cache
from importlib import metadata
from pathlib import Path

import duckdb
from cryptography.exceptions import InvalidSignature

from autogrant.transforms import decide, ingest, sqlsteps
from autogrant.transforms.errors import InputError
from autogrant.transforms.files import sha256_file
from autogrant.transforms.ingest_read import find_files
from autogrant.transforms.paths import PACKAGE
from autogrant.transforms.privacy import mask_text
from autogrant.transforms.schema import CONTROL, DATA_FILES
from autogrant.transforms.signing import canonical, signing_key

FOLDER = Path(".cache") / "drop"  # under OUT: one Parquet file a table, and meta.json (written last)
KEPT = ("quarantine", "quarantine_amounts", "ingest_warnings", "drop_files", "units_quarantined")  # ingest's
# from the steps' headers: the staged tables a step after sql/27-37 reads; what later steps read of the tables
# 27-37 make (the drop and the policy alone, never the ledger: sql/29_person_counts.sql's counts of persons among
# them, which unit_facts holds), and the drop's lists for the clerks (read by clerk_lists, not by a step)
STAGED = decide.STAGED_READ_AFTER
FACTS = sqlsteps.read_after(decide.DROP_STEPS) + sqlsteps.makes(decide.DROP_LIST_STEPS)


@cache
def code_digest() -> str:
    """The package's code and static files (SQL, policies, reference tables) and the libraries that read the drop."""
    h = hashlib.sha256()
    for p in sorted(PACKAGE.rglob("*")):
        if p.is_file() and p.suffix in (".py", ".sql", ".yaml", ".yml", ".csv") and "data_samples" not in p.parts:
            h.update(p.relative_to(PACKAGE).as_posix().encode() + b"\0" + p.read_bytes() + b"\0")
    for lib in ("duckdb", "python-stdnum"):
        h.update(f"{lib}={metadata.version(lib)}\0".encode())
    return h.hexdigest()


def drop_paths(drop: Path) -> list[Path]:
    """The files the ingest reads of a drop (every region's partitions), in a fixed order."""
    return sorted({p for spec in (*DATA_FILES, CONTROL) for p in find_files(drop, spec)})


@dataclass
class DropCache:
    """One night's look at the cache: ``state`` is hit (the tables come from it), miss (the drop is read, then
    kept) or off."""

    out: Path
    drop: Path
    key: str
    state: str = "miss"
    listing: list[list] = field(default_factory=list)  # [relative path, size, mtime_ns] of each file read
    meta: dict | None = None  # the cache's meta.json as checked (a hit)
    not_kept: str | None = None  # a miss whose tables could not be kept: why (the manifest and stderr say it)
    _digests: concurrent.futures.Future | None = None

    @property
    def path(self) -> Path:
        return self.out / FOLDER

    def digests(self) -> dict[str, str]:
        """SHA-256 of each file read, by relative path."""
        return self._digests.result() if self._digests is not None else {}

    def digests_by_path(self) -> dict[str, str]:
        """The same by path as the ingest names its input files (IngestReport.digests: the manifest's inputs)."""
        return {str(self.drop / rel): h for rel, h in self.digests().items()}


def _listing(drop: Path) -> list[list]:
    return [[p.relative_to(drop).as_posix(), (s := p.stat()).st_size, s.st_mtime_ns] for p in drop_paths(drop)]


def _hash_all(drop: Path, listing: list[list]) -> dict[str, str]:
    return {rel: sha256_file(drop / rel) for rel, _, _ in listing}


def _stored(path: Path) -> dict | None:
    """The meta of a whole cache folder, or None when there is none or it cannot be read."""
    try:
        return json.loads((path / "meta.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def look(out: Path, drop: Path, policy_key: dict) -> DropCache:
    """Whether tonight may take the drop's tables from the cache. On a miss the files' SHA-256s are computed on a
    thread beside the ingest (hashlib and file reads leave the interpreter free)."""
    key = hashlib.sha256(json.dumps(policy_key | {"code": code_digest()}, sort_keys=True).encode()).hexdigest()
    c = DropCache(Path(out), Path(drop), key)
    if os.environ.get("AUTOGRANT_DROP_CACHE", "1") == "0":
        c.state = "off"
        return c
    c.listing = _listing(c.drop)
    for stale in c.path.parent.glob(f"{c.path.name}.partial-*"):  # what a killed night's keep left
        shutil.rmtree(stale, ignore_errors=True)
    meta = _stored(c.path)
    pool = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="autogrant-hash")
    c._digests = pool.submit(_hash_all, c.drop, c.listing)
    pool.shutdown(wait=False)
    if (isinstance(meta, dict) and meta.get("key") == key and meta.get("listing") == c.listing
            and meta.get("digests") == c.digests() and _intact(c.out, c.path, meta)):  # fmt: skip
        c.state, c.meta = "hit", meta
    return c


def _intact(out: Path, folder: Path, meta: dict) -> bool:
    """Each kept file has the SHA-256 meta.json gives it, and meta.json bears the signature of the payment key
    (transforms/signing.py): the cache decides who is paid, so a hand that can write OUT but does not hold the key
    cannot change it (with the DEMO key under OUT, as for the payment files, this proves nothing against that hand)."""
    doc = {k: v for k, v in meta.items() if k != "signature"}
    try:
        signing_key(out)[0].public_key().verify(base64.b64decode(meta["signature"]), canonical(doc))
        return all(sha256_file(folder / name) == h for name, h in meta["files"].items())
    except (KeyError, TypeError, ValueError, OSError, InvalidSignature, InputError):  # a key that cannot be read: a miss
        return False


def restore(con, c: DropCache) -> ingest.IngestReport | None:
    """The kept tables into the night's connection, with the types the ingest gave them; None (nothing restored,
    the drop is read) when the cache cannot be read after all."""
    ingest.prepare(con)
    meta = c.meta
    try:
        con.execute("BEGIN")
        for table, ddl in meta["tables"].items():
            con.execute(f"DROP TABLE IF EXISTS {table}; {ddl}")
            con.execute(f"INSERT INTO {table} SELECT * FROM read_parquet(?)", [str(c.path / f"{table}.parquet")])
        con.execute("COMMIT")
    except (duckdb.Error, KeyError, TypeError):
        con.execute("ROLLBACK")
        c.state = "miss"
        return None
    report = ingest.IngestReport(warnings=meta["report"]["warnings"], digests=c.digests_by_path())
    report.counts = {k: ingest.FileCount(**v) for k, v in meta["report"]["counts"].items()}
    report.input_files = [c.drop / rel for rel in meta["report"]["input_files"]]
    return report


def keep(con, c: DropCache, report: ingest.IngestReport) -> threading.Thread | None:
    """After the facts (sql/27-37) on a night that read its drop: the tables written to the cache, on a thread
    of its own (its own cursor: the night goes on), whole or not at all (a folder renamed into place once its
    meta.json is written). Not kept (an older cache removed) when a file read changed while the night read it.
    The caller joins the thread before it closes the connection."""
    if c.state != "miss":
        return None
    try:
        return _start(con, c, report)
    except (duckdb.Error, OSError, KeyError, InputError) as exc:  # never the night's failure: the next one reads its drop
        shutil.rmtree(c.path, ignore_errors=True)
        c.not_kept = _why(exc)
        return None


def _start(con, c: DropCache, report: ingest.IngestReport) -> threading.Thread | None:
    digests = c.digests()
    shutil.rmtree(c.path, ignore_errors=True)  # last night's cache is of another drop: never left beside this one
    if _listing(c.drop) != c.listing:
        c.not_kept = "a file of the drop changed while the night read it"
        return None
    report.digests = c.digests_by_path()
    names = [t for (t,) in con.execute(
        """SELECT table_name FROM duckdb_tables() WHERE database_name = 'memory' AND NOT temporary
           AND table_name IN (SELECT unnest(?))""", [list(STAGED)]
    ).fetchall()] + [*KEPT, *FACTS]  # fmt: skip
    catalog = {t: (ddl, huge) for t, ddl, huge in con.execute(
        """SELECT table_name, t.sql, coalesce(list(column_name) FILTER (WHERE data_type = 'HUGEINT'), [])
           FROM duckdb_tables() t JOIN duckdb_columns() USING (database_name, schema_name, table_name)
           WHERE database_name = 'memory' AND table_name IN (SELECT unnest(?)) GROUP BY ALL""", [names]).fetchall()}  # fmt: skip
    meta = {"key": c.key, "listing": c.listing, "digests": digests, "tables": {t: catalog[t][0] for t in names}, "report": {
        "warnings": report.warnings, "counts": {k: asdict(v) for k, v in report.counts.items()},
        "input_files": [p.relative_to(c.drop).as_posix() for p in report.input_files]}}  # fmt: skip
    huge = {t: catalog[t][1] for t in names}
    key = signing_key(c.out)[0]  # here, not on the thread: the DEMO key is made once, by the night's own thread
    cursor = con.cursor()
    thread = threading.Thread(target=_write, args=(cursor, key, c, meta, huge), name="autogrant-keep-drop", daemon=True)
    thread.start()
    return thread


def _write(cursor, key, c: DropCache, meta: dict, huge: dict[str, list[str]]) -> None:
    folder = c.path
    tmp = folder.with_name(f"{folder.name}.partial-{os.getpid()}")
    try:
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        for table in meta["tables"]:
            # HUGEINT has no Parquet type: written as DECIMAL(38,0), read back into the table's own type
            cols = ", ".join(f'CAST("{col}" AS DECIMAL(38,0)) AS "{col}"' for col in huge[table])
            select = f"SELECT * REPLACE ({cols}) FROM {table}" if cols else f"SELECT * FROM {table}"
            cursor.execute(f"COPY ({select}) TO '{tmp / f'{table}.parquet'}' (FORMAT parquet)")
        meta["files"] = {f"{table}.parquet": sha256_file(tmp / f"{table}.parquet") for table in meta["tables"]}
        meta["signature"] = base64.b64encode(key.sign(canonical(meta))).decode("ascii")
        (tmp / "meta.json").write_text(json.dumps(meta), encoding="utf-8")
        os.replace(tmp, folder)
    except Exception as exc:  # noqa: BLE001 - whatever stops it, no cache (the next night reads its drop), never the night
        shutil.rmtree(tmp, ignore_errors=True)
        c.not_kept = _why(exc)
    finally:
        cursor.close()


def _why(exc: BaseException) -> str:
    """One line: the error's kind and its first line (an ID number in it masked)."""
    first = mask_text((str(exc).splitlines() or [""])[0])
    return f"{type(exc).__name__}: {first}" if first else type(exc).__name__
