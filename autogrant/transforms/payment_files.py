"""Payment files: the canonical file of a released batch (UTF-8 and GB18030 copies, signed), written only from its
committed ledger rows, and OUT/payments/manifest.json listing every released batch's files with their SHA-256,
count and control sum (what ``autogrant verify`` checks)."""

import hashlib
import json
from pathlib import Path

from autogrant.transforms import files
from autogrant.transforms.faults import checkpoint
from autogrant.transforms.money import yuan as _yuan

PAYMENT_COLUMNS = ("payment_id", "payee_uscc", "account_name", "account", "bank_code", "amount", "channel")


def batch_file_text(con, batch_id: str) -> tuple[str, int, int]:
    """The canonical payment file of a batch, from its ledger rows only: (text, count, control sum in fen)."""
    b = con.execute(
        "SELECT policy_id, region_code, prepared_by, approved_by FROM ledger.batches WHERE batch_id = ?", [batch_id]
    ).fetchall()[0]
    rows = con.execute(
        """SELECT payment_id, uscc, account_name, bank_account, bank_code, amount_fen, channel
           FROM ledger.payments WHERE batch_id = ? AND kind = 'payment' ORDER BY payment_id""",
        [batch_id],
    ).fetchall()
    total = sum(r[5] for r in rows)

    def line(values) -> str:
        return ",".join(_csv_cell(v) for v in values)

    out = [line(("H", batch_id, b[0], b[1], f"prepared_by={b[2]}", f"approved_by={b[3]}", len(rows), _yuan(total)))]
    out.append(line(("record",) + PAYMENT_COLUMNS))
    out += [line(("D", r[0], r[1], r[2], r[3], r[4], _yuan(r[5]), r[6])) for r in rows]
    out.append(line(("T", len(rows), _yuan(total))))
    return "\r\n".join(out) + "\r\n", len(rows), total


def _csv_cell(v) -> str:
    s = "" if v is None else str(v)
    return '"' + s.replace('"', '""') + '"' if any(c in s for c in ',"\r\n') else s


def batch_paths(out: Path, region: str, batch_id: str) -> tuple[Path, Path]:
    folder = Path(out) / "payments" / region
    return folder / f"{batch_id}.csv", folder / f"{batch_id}.gb18030.csv"


def write_pending_files(con, out: Path, policy_id: str | None = None, region: str | None = None) -> list[str]:
    """Write the file of every batch committed as 'releasing' (of this region, or all), then mark it released."""
    pending = con.execute(
        """SELECT batch_id, region_code FROM ledger.batches WHERE state = 'releasing'
           AND (?::VARCHAR IS NULL OR policy_id = ?) AND (?::VARCHAR IS NULL OR region_code = ?) ORDER BY batch_id""",
        [policy_id, policy_id, region, region],
    ).fetchall()
    from autogrant.transforms import chain, signing

    done = []
    for batch_id, region_code in pending:
        text, count, total = batch_file_text(con, batch_id)
        utf8, gb = batch_paths(out, region_code, batch_id)
        files.write_bytes(utf8, text.encode("utf-8"))
        checkpoint(f"payment file written {batch_id}")
        files.write_bytes(gb, text.encode("gb18030"))
        signing.sign_batch(out, batch_id, [utf8, gb], chain.release_entry(con, batch_id))  # the bank's check
        checkpoint(f"payment file copy written {batch_id}")
        sha = hashlib.sha256(text.encode("utf-8")).hexdigest()
        con.execute("BEGIN TRANSACTION")
        con.execute(
            "UPDATE ledger.batches SET state = 'released', payment_file = ?, file_sha256 = ? WHERE batch_id = ?",
            [utf8.relative_to(out).as_posix(), sha, batch_id],
        )
        chain.seal(con)
        con.execute("COMMIT")
        checkpoint(f"batch marked released {batch_id}")
        done.append(batch_id)
    write_payments_manifest(con, out)
    return done


def write_payments_manifest(con, out: Path) -> None:
    """OUT/payments/manifest.json: every released batch's files with SHA-256, count and control sum, the ledger
    entry that released it and its signature file; the chain's head."""
    from autogrant.transforms import approval, chain, signing

    rows = con.execute(
        """SELECT batch_id, policy_id, region_code, payments, total_fen, approved_by, prepared_by, released_on
           FROM ledger.batches WHERE state = 'released' ORDER BY batch_id"""
    ).fetchall()
    batches = []
    for batch_id, policy_id, region, count, total, approved_by, prepared_by, released_on in rows:
        utf8, gb = batch_paths(out, region, batch_id)
        if not utf8.exists():  # released into another output folder
            continue
        batches.append({
            "batch_id": batch_id, "policy_id": policy_id, "region_code": region, "count": count,
            "control_sum": _yuan(total), "prepared_by": prepared_by, "approved_by": approved_by,
            "released_on": str(released_on), "approval": approval.describe(con, batch_id),
            "files": {p.relative_to(out).as_posix(): files.sha256_file(p) for p in (utf8, gb)},
            "ledger_entry": chain.release_entry(con, batch_id),
            "signature": signing.sig_path(utf8).relative_to(out).as_posix(),
        })  # fmt: skip
    manifest = {"ledger_chain": chain.head_dict(con), "batches": batches}
    files.write_text(Path(out) / "payments" / "manifest.json", json.dumps(manifest, ensure_ascii=False, indent=2) + "\n")
