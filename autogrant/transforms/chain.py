"""The ledger's hash chain: every entry (claim in notice, batch, withdrawal, objection and its resolution, approval,
bank result, payment, reversal, release, payment file) is sealed once in ``ledger.journal`` with SHA-256 (hashlib,
and DuckDB's sha256 to check) over the previous entry's hash and the entry's canonical content.

    entry_sha256 = SHA-256(prev_sha256 \\n seq \\n kind \\n ref \\n content)

``seal`` appends the entries a ledger step made, inside the step's own transaction (sealing is sequential by
nature: each hash needs the one before; it touches only tonight's new entries). ``problems`` checks, set-based,
that the chain follows from entry 1 and that every table row still says what its entry sealed (an edited row, a
deleted one, one put in beside the code). The chain's head goes into the payment files' signature files,
payments/manifest.json, manifest.json and report.html (``anchors`` reads them back): a chain rebuilt after an edit
no longer has the heads those files recorded. A ledger made before the chain existed gets a genesis entry over
the rows it had, sealed as they stand (said once on stderr).
"""

import contextlib
import json
import sys
from pathlib import Path

import pyarrow as pa

from autogrant.transforms import sqlsteps

ZERO = "0" * 64
FIELDS = {
    "claim": "claim_id policy_id region_code uscc unit_name amount_fen amount_due_fen bank_account bank_code account_name "
    "notice_id notice_start notice_end created_on",
    "withdrawal": "claim_id batch_id state_reason updated_on",
    "batch": "batch_id policy_id region_code prepared_by prepared_on claims",
    "objection": "objection_id policy_id uscc reason lodged_by lodged_on",
    "resolution": "objection_id outcome resolved_by resolved_on resolution_note",
    "approval": "batch_id approver_id approved_at message_sha256 signature key_sha256 demo",
    "bank_result": "payment_id status batch_id uscc amount_fen reason value_date source recorded_on",
    "payment": "entry_id payment_id kind policy_id region_code uscc batch_id seq amount_fen paid_before_fen paid_after_fen "
    "amount_due_fen unit_name bank_account bank_code account_name channel entered_on",
    "release": "batch_id approved_by approved_at released_on payments total_fen",
    "file": "batch_id payment_file file_sha256",
}
FIELDS["reversal"] = FIELDS["payment"]
TABLES = {"claim": "claims", "withdrawal": "claims", "batch": "batches", "objection": "objections", "resolution": "objections",
          "approval": "approvals", "bank_result": "bank_results", "payment": "payments", "reversal": "payments",
          "release": "batches", "file": "batches"}  # fmt: skip


def define(con) -> None:
    """The macros ledger_entries and journal_breaks on this connection (from the code, not from the ledger file)."""
    sqlsteps.run(con, "02_ledger_entries.sql")


def entry_hash(prev: str, seq: int, kind: str, ref: str, content: str) -> str:
    import hashlib

    return hashlib.sha256(f"{prev}\n{seq}\n{kind}\n{ref}\n{content}".encode()).hexdigest()


def sealed_as_found(con) -> int:
    """Entries 2..n+1 were sealed by the genesis as an older ledger held them (no signature files for their batches)."""
    g = con.execute("SELECT content FROM ledger.journal WHERE seq = 1 AND kind = 'genesis'").fetchall()
    return int(json.loads(g[0][0]).get("sealed_as_found", 0)) + 1 if g else 0


def head(con) -> tuple[int, str]:
    """(seq, entry_sha256) of the last entry; (0, zeros) for a journal not started."""
    last = con.execute("SELECT seq, entry_sha256 FROM ledger.journal ORDER BY seq DESC LIMIT 1").fetchall()
    return (int(last[0][0]), last[0][1]) if last else (0, ZERO)


def head_dict(con) -> dict:
    """The chain's head as manifests and the report record it (and verify finds it again)."""
    seq, sha = head(con)
    return {"seq": seq, "entry_sha256": sha}


def release_entry(con, batch_id: str) -> dict | None:
    """The entry that released a batch (its payments are sealed before it): seq and hash, for its files; None for a
    batch released before the chain existed and not sealed yet."""
    found = con.execute("SELECT seq, entry_sha256 FROM ledger.journal WHERE kind = 'release' AND ref = ?", [batch_id]).fetchall()
    return {"seq": int(found[0][0]), "entry_sha256": found[0][1]} if found else None


@contextlib.contextmanager
def sealed(con):
    """A clerk's write as one transaction whose entries are sealed into the chain before it commits."""
    con.execute("BEGIN TRANSACTION")
    try:
        yield
        seal(con)
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise


def seal(con) -> tuple[int, str]:
    """Append every entry not sealed yet, chained, on the caller's transaction; returns the new head."""
    define(con)
    seq, prev = head(con)
    before = prev
    new = con.execute("SELECT kind, ref, content FROM ledger_entries(true) ORDER BY k, ref").fetchall()
    if seq == 0:  # the genesis: the entries a ledger holds before its first seal (none for a new ledger)
        found = json.dumps({"journal": "autogrant-ledger-v1", "sealed_as_found": len(new)})
        if new:
            path = con.execute("SELECT path FROM duckdb_databases() WHERE database_name = 'ledger'").fetchall()[0][0]
            print(f"autogrant: ledger {path} had no hash chain: its {len(new)} entries are sealed as they stand "
                  "(after genesis entry 1)", file=sys.stderr)  # fmt: skip
        new.insert(0, ("genesis", "genesis", found))
    if not new:
        return seq, prev
    first, shas = seq + 1, []
    for kind, ref, content in new:  # sequential by nature: each hash takes the one before
        seq += 1
        prev = entry_hash(prev, seq, kind, ref, content)
        shas.append(prev)
    kinds, refs, contents = zip(*new, strict=True)
    cols = {"seq": pa.array(range(first, seq + 1), pa.int64()), "kind": kinds, "ref": refs, "content": contents,
            "prev_sha256": [before, *shas[:-1]], "entry_sha256": shas}  # fmt: skip
    con.register("journal_new", pa.table(cols))
    try:
        con.execute("INSERT INTO ledger.journal SELECT * FROM journal_new")
    finally:
        con.unregister("journal_new")
    return seq, prev


def _diff(kind: str, sealed: str, now: str) -> str:
    names = FIELDS.get(kind, "").split()
    a, b = json.loads(sealed), json.loads(now)
    changed = [f"{names[i] if i < len(names) else i}: {x} -> {y}" for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y]
    return ", ".join(changed) or "its content differs"


def problems(con, limit: int = 20) -> list[str]:
    """What is wrong with the chain and the rows, first broken entry first (empty: intact)."""
    define(con)
    if not con.execute("SELECT count(*) FROM ledger.journal").fetchall()[0][0]:
        rows = con.execute("SELECT count(*) FROM ledger_entries(false)").fetchall()[0][0]
        return [f"the ledger has no hash chain ({rows} entries unsealed): an older ledger; the next run seals it"] if rows else []
    found: list[tuple[float, str]] = []
    for seq, kind, ref, problem in con.execute(f"SELECT * FROM journal_breaks() ORDER BY seq LIMIT {limit}").fetchall():
        found.append((seq, f"ledger entry {seq} ({kind} {ref}): the chain is broken there: {problem}"))
    mismatches = con.execute(
        f"""SELECT j.seq, coalesce(j.kind, e.kind), coalesce(j.ref, e.ref), j.content, e.content
            FROM (SELECT * FROM ledger.journal WHERE kind <> 'genesis') j
            FULL OUTER JOIN ledger_entries(false) e ON e.kind = j.kind AND e.ref = j.ref
            WHERE j.content IS DISTINCT FROM e.content
            ORDER BY j.seq NULLS LAST, e.k, e.ref LIMIT {limit}"""
    ).fetchall()
    for seq, kind, ref, sealed, now in mismatches:
        table = f"ledger.{TABLES.get(kind, '?')}"
        if seq is None:
            found.append((float("inf"), f"a row of {table} ({kind} {ref}) has no sealed entry: put in beside autogrant"))
        elif now is None:
            found.append((seq, f"ledger entry {seq} ({kind} {ref}): its row is gone from {table} (deleted or changed state)"))
        else:
            found.append(
                (seq, f"ledger entry {seq} ({kind} {ref}): {table} differs from the sealed entry: {_diff(kind, sealed, now)}")
            )
    found.sort(key=lambda f: f[0])
    return [m for _, m in found][:limit]


def anchors(out: Path) -> list[tuple[str, int, str]]:
    """(where, seq, entry_sha256) of every chain position OUT's files recorded (manifests and signature files)."""
    out, found = Path(out), []
    for rel in ("manifest.json", "payments/manifest.json"):
        try:
            doc = json.loads((out / rel).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        for key in ("ledger_chain",):
            h = doc.get(key) or {}
            if h.get("seq"):
                found.append((rel, int(h["seq"]), h.get("entry_sha256", "")))
        for b in doc.get("batches", []):
            h = b.get("ledger_entry") or {}
            if h.get("seq"):
                found.append((f"{rel} ({b.get('batch_id')})", int(h["seq"]), h.get("entry_sha256", "")))
    for sig in sorted((out / "payments").glob("*/*.sig.json")):
        try:
            h = json.loads(sig.read_text(encoding="utf-8"))["document"]["ledger_entry"]
            found.append((sig.relative_to(out).as_posix(), int(h["seq"]), h["entry_sha256"]))
        except (OSError, ValueError, KeyError, TypeError):
            continue
    return found


def anchor_problems(con, out: Path) -> list[str]:
    """Each recorded head the journal no longer has at its position: the chain was rebuilt or cut short."""
    sealed = dict(con.execute("SELECT seq, entry_sha256 FROM ledger.journal").fetchall())
    found = []
    for where, seq, sha in anchors(out):
        if sealed.get(seq) != sha:
            now = "is missing" if seq not in sealed else f"is {sealed[seq][:16]}…"
            found.append(
                f"ledger entry {seq}: {where} recorded it as {sha[:16]}…, the ledger's entry {now} (chain rebuilt or cut)"
            )
    return found


def require_intact(con, ledger_path: Path, out: Path | None = None) -> None:
    """GateFailed naming the first broken entry when the chain, the rows, the heads OUT recorded or the payment
    files under OUT (verify.integrity_problems) do not agree: nothing is released or written until it is restored."""
    from autogrant.transforms.errors import GateFailed

    if out is not None:
        from autogrant.transforms import verify

        found = verify.integrity_problems(con, out, verify.recorded_home(out)[0])
    else:
        found = problems(con, limit=1)
    found = [f for f in found if "no hash chain" not in f]  # an older ledger: its first seal starts the chain
    if found:
        more = f" (and {len(found) - 1} more: autogrant verify lists them)" if len(found) > 1 else ""
        raise GateFailed(f"ledger {ledger_path} is not intact, nothing is released: {found[0]}{more}")
