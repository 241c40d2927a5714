"""`autogrant verify OUT`: every payment file against payments/manifest.json and against its own header and trailer."""

import csv
import io
import json
from pathlib import Path

from autogrant.transforms.files import sha256_file


def _fen(text: str) -> int:
    whole, _, frac = text.partition(".")
    return int(whole) * 100 + int((frac + "00")[:2])


def check_batch_text(text: str) -> tuple[int, int, list[str]]:
    """(count, control sum in fen, problems) of a payment file's records: H header, D details, T trailer."""
    rows = list(csv.reader(io.StringIO(text)))
    problems = []
    if not rows or rows[0][0] != "H" or rows[-1][0] != "T":
        return 0, 0, ["no H header or T trailer record"]
    details = [r for r in rows[2:-1]]
    bad = [r for r in details if r[0] != "D" or len(r) != 8]
    if bad:
        problems.append(f"{len(bad)} malformed detail records")
    count, total = len(details), sum(_fen(r[6]) for r in details if len(r) == 8)
    header, trailer = rows[0], rows[-1]
    if int(trailer[1]) != count or _fen(trailer[2]) != total:
        problems.append(
            f"trailer says {trailer[1]} payments, {trailer[2]} yuan; the records add up to {count}, {total / 100:.2f}"
        )
    if int(header[6]) != count or _fen(header[7]) != total:
        problems.append(f"header says {header[6]} payments, {header[7]} yuan; the records add up to {count}, {total / 100:.2f}")
    return count, total, problems


def verify_out(out: Path) -> tuple[int, list[str]]:
    out = Path(out)
    manifest_path = out / "payments" / "manifest.json"
    if not manifest_path.exists():
        return 0, [f"{manifest_path} not found"]
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    problems, checked = ledger_problems(out), 0  # the ledger's chain and rows first: the first line names the entry
    listed = set()
    for b in manifest["batches"]:
        for rel, sha in b["files"].items():
            listed.add(rel)
            path = out / rel
            checked += 1
            if not path.exists():
                problems.append(f"{rel}: missing")
                continue
            if sha256_file(path) != sha:
                problems.append(f"{rel}: SHA-256 differs from the manifest")
            encoding = "gb18030" if rel.endswith(".gb18030.csv") else "utf-8"
            try:
                text = path.read_bytes().decode(encoding)
            except UnicodeDecodeError:
                problems.append(f"{rel}: not {encoding} text")
                continue
            try:
                count, total, issues = check_batch_text(text)
            except (ValueError, IndexError) as exc:
                problems.append(f"{rel}: unreadable records ({exc})")
                continue
            problems += [f"{rel}: {i}" for i in issues]
            if count != b["count"] or total != _fen(b["control_sum"]):
                problems.append(
                    f"{rel}: {count} payments, {total / 100:.2f} yuan; the manifest says {b['count']}, {b['control_sum']}"
                )
    for path in sorted((out / "payments").rglob("*.csv")):
        rel = path.relative_to(out).as_posix()
        if rel not in listed:
            problems.append(f"{rel}: a payment file the manifest does not list")
    return checked, problems


# ---- the ledger against the files, and the files against the ledger --------------------------------------------


def recorded_home(out: Path) -> tuple[str | None, Path]:
    """(policy id, ledger file) as OUT/.autogrant.json records them; else OUT/ledger.duckdb (home.ledger_file)."""
    from autogrant.transforms import home

    try:
        rec = json.loads((Path(out) / home.MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        rec = {}
    if rec.get("ledger"):
        led = Path(rec["ledger"])
        return rec.get("policy_id"), led if led.is_absolute() else Path(out) / led
    return rec.get("policy_id"), home.ledger_file(out)


def _d_rows(text: str) -> set[tuple[str, str, str, int]]:
    rows = list(csv.reader(io.StringIO(text)))
    return {(r[1], r[2], r[4], _fen(r[6])) for r in rows[2:-1] if len(r) == 8 and r[0] == "D"}


def ledger_file_problems(con, out: Path, policy_id: str | None = None, limit: int = 20) -> list[str]:
    """Every released batch's files (UTF-8 and GB18030) against the ledger, D row by D row (payment_id, unit,
    account, amount; count and control sum); every payment of the ledger in a released batch; every payment file
    under OUT/payments a batch the ledger released."""
    from autogrant.transforms import chain, signing
    from autogrant.transforms.payment_files import batch_paths

    out, problems, known = Path(out), [], set()
    batches = con.execute(
        """SELECT batch_id, region_code, state, payments, total_fen FROM ledger.batches
           WHERE state IN ('releasing', 'released') AND (?::VARCHAR IS NULL OR policy_id = ?) ORDER BY batch_id""",
        [policy_id, policy_id],
    ).fetchall()
    legacy = chain.sealed_as_found(con)  # batches released before the chain existed have no signature file
    file_seq = dict(con.execute("SELECT ref, seq FROM ledger.journal WHERE kind = 'file'").fetchall())
    for batch_id, region, state, count, total in batches:
        paths = batch_paths(out, region, batch_id)
        known.update(p.relative_to(out).as_posix() for p in paths)
        if state != "released":  # committed, its file not yet marked written: the next run writes it again
            continue
        if not signing.sig_path(paths[0]).exists() and file_seq.get(batch_id, 0) > legacy:
            problems.append(f"{signing.sig_path(paths[0]).relative_to(out).as_posix()}: missing (the bank cannot check the file)")
        paid = {
            (pid, uscc, account, int(fen))
            for pid, uscc, account, fen in con.execute(
                "SELECT payment_id, uscc, bank_account, amount_fen FROM ledger.payments WHERE batch_id = ? AND kind = 'payment'",
                [batch_id],
            ).fetchall()
        }
        for path, encoding in zip(paths, ("utf-8", "gb18030"), strict=True):
            rel = path.relative_to(out).as_posix()
            if not path.exists():
                problems.append(f"{rel}: missing; the ledger released batch {batch_id} ({count} payments)")
                continue
            try:
                rows = _d_rows(path.read_bytes().decode(encoding))
            except (UnicodeDecodeError, ValueError, IndexError):
                problems.append(f"{rel}: its records cannot be read")
                continue
            for pid, uscc, account, fen in sorted(rows - paid):
                problems.append(f"{rel}: D row {pid} ({uscc}, account {account}, {fen / 100:.2f}) is not what the ledger paid")
            for pid, uscc, _account, fen in sorted(paid - rows):
                problems.append(f"{rel}: the ledger's payment {pid} ({uscc}, {fen / 100:.2f}) is not in the file")
            if len(rows) != count or sum(r[3] for r in rows) != total:
                problems.append(
                    f"{rel}: {len(rows)} payments, {sum(r[3] for r in rows) / 100:.2f} yuan; "
                    f"the ledger released {count}, {(total or 0) / 100:.2f} in {batch_id}"
                )
    for pid, batch_id in con.execute(
        """SELECT payment_id, batch_id FROM ledger.payments WHERE kind = 'payment' AND (?::VARCHAR IS NULL OR policy_id = ?)
           AND batch_id NOT IN (SELECT batch_id FROM ledger.batches WHERE state IN ('releasing', 'released'))
           ORDER BY payment_id LIMIT 20""",
        [policy_id, policy_id],
    ).fetchall():
        problems.append(f"ledger payment {pid}: its batch {batch_id} was never released (no payment file can hold it)")
    for path in sorted((out / "payments").glob("*/*.csv")):
        rel = path.relative_to(out).as_posix()
        if rel not in known:
            problems.append(f"{rel}: a payment file of no batch the ledger released")
    return problems[:limit]


def integrity_problems(con, out: Path, policy_id: str | None = None) -> list[str]:
    """The chain and the rows (chain.py), the heads OUT recorded, the files against the ledger; first broken first."""
    from autogrant.transforms import chain

    return chain.problems(con) + chain.anchor_problems(con, out) + ledger_file_problems(con, out, policy_id)


def ledger_problems(out: Path) -> list[str]:
    """verify's part on the ledger: opened read-only (refused while a run writes it)."""
    import duckdb

    from autogrant.transforms import signing

    policy_id, path = recorded_home(out)
    sigs = [p for s in sorted((Path(out) / "payments").glob("*/*.sig.json")) for p in signing.check(out, s)]
    if not path.is_file():
        return [f"no ledger at {path}: the payment files cannot be checked against it"] + sigs
    con = duckdb.connect(":memory:")
    try:
        try:
            con.execute("ATTACH ? AS ledger (READ_ONLY)", [str(path)])
        except duckdb.Error as exc:
            return [f"ledger {path} cannot be read: {str(exc).splitlines()[0]}"] + sigs
        if not con.execute(
            "SELECT count(*) FROM duckdb_tables() WHERE database_name = 'ledger' AND table_name = 'journal'"
        ).fetchall()[0][0]:
            return [f"ledger {path} has no hash chain (made by an older autogrant): the next run seals it"] + sigs
        return integrity_problems(con, out, policy_id) + sigs
    finally:
        con.close()
