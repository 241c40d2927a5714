"""Four eyes with signatures: a batch is approved by an identity of approvers.yaml (never its preparer, ids compared)
who signs, with its Ed25519 private key, what the batch will pay: every claim's unit, amount and account. The
release checks the signature against the configured public key over the batch as the ledger holds it that night,
and refuses the region's release otherwise (an approval edited, forged, by the preparer, by someone without the
role for the region, or a batch changed after it was approved).

The signed message is canonical JSON (sorted keys, no spaces) of ``approval_message``; ``ledger.approvals`` keeps
the approver id, the time, the message's SHA-256, the signature and the key's fingerprint.
"""

import datetime as dt
import hashlib
import json
import os
from pathlib import Path

from autogrant.transforms import identities
from autogrant.transforms.errors import GateFailed, InputError

KEY_ENV = "AUTOGRANT_APPROVER_KEY"


def approval_message(con, batch_id: str, approver_id: str, approved_at: dt.datetime) -> bytes:
    """What an approver signs: the batch, its preparer, and each claim it holds (unit, amount, account)."""
    b = con.execute(
        "SELECT policy_id, region_code, prepared_by, prepared_on FROM ledger.batches WHERE batch_id = ?", [batch_id]
    ).fetchall()[0]
    claims = con.execute(
        """SELECT claim_id, uscc, amount_fen, amount_due_fen, bank_account, bank_code, account_name
           FROM ledger.claims WHERE batch_id = ? ORDER BY claim_id""",
        [batch_id],
    ).fetchall()
    doc = {
        "kind": "autogrant-approval-v1", "batch_id": batch_id, "policy_id": b[0], "region_code": b[1],
        "prepared_by": b[2], "prepared_on": str(b[3]), "approver_id": approver_id,
        "approved_at": approved_at.isoformat(timespec="seconds"), "claims": [list(c) for c in claims],
    }  # fmt: skip
    return json.dumps(doc, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")


def same_id(a: str | None, b: str | None) -> bool:
    """Ids are compared exactly; a look-alike spelling (case, spaces) counts as the same person, never another."""
    return a is not None and b is not None and a.strip().casefold() == b.strip().casefold()


def approve(con, batch_id: str, by: str, key_file: Path | None = None, now: dt.datetime | None = None) -> dict:
    """Record ``by``'s signed approval of a batch awaiting approval, on a connection with the ledger attached."""
    directory = identities.load()
    found = con.execute(
        "SELECT prepared_by, state, payments, total_fen, region_code FROM ledger.batches WHERE batch_id = ?", [batch_id]
    ).fetchall()
    if not found:
        raise InputError(f"no batch {batch_id} in the ledger")
    prepared_by, state, count, total, region = found[0]
    if state != "awaiting_approval":
        raise InputError(f"batch {batch_id} is {state}, not awaiting approval")
    if same_id(by, prepared_by):
        raise InputError(f"batch {batch_id} was prepared by {prepared_by}: the preparer cannot approve it (four eyes)")
    who = directory.require(by, "approve", region)
    approved_at = (now or dt.datetime.now()).replace(microsecond=0)
    message = approval_message(con, batch_id, who.id, approved_at)
    signature = fingerprint = None
    if not who.demo:
        key_file = key_file or os.environ.get(KEY_ENV)
        if not key_file:
            raise InputError(f"{who.id} signs with its private key: give --key FILE (or ${KEY_ENV})")
        signature = identities.sign(identities.load_private_key(Path(key_file)), who, message)
        fingerprint = identities.key_fingerprint(who.public_key)
    con.execute("BEGIN TRANSACTION")
    con.execute("DELETE FROM ledger.approvals WHERE batch_id = ?", [batch_id])
    con.execute(
        "INSERT INTO ledger.approvals VALUES (?, ?, ?, ?, ?, ?, ?)",
        [batch_id, who.id, approved_at, hashlib.sha256(message).hexdigest(), signature, fingerprint, who.demo],
    )
    con.execute(
        "UPDATE ledger.batches SET state = 'approved', approved_by = ?, approved_at = ? WHERE batch_id = ?",
        [who.id, approved_at, batch_id],
    )
    from autogrant.transforms import chain

    chain.seal(con)  # the approval is an entry of the ledger's hash chain
    con.execute("COMMIT")
    return {"batch_id": batch_id, "payments": count, "total_fen": total or 0, "prepared_by": prepared_by, "by": who}


def problems(con, batch_id: str, directory: identities.Directory) -> str | None:
    """Why the batch's approval does not stand tonight, or None: identity, role, four eyes, signature."""
    b = con.execute(
        "SELECT approved_by, approved_at, prepared_by, region_code FROM ledger.batches WHERE batch_id = ?", [batch_id]
    ).fetchall()[0]
    approved_by, approved_at, prepared_by, region = b
    a = con.execute(
        "SELECT approver_id, approved_at, signature, demo FROM ledger.approvals WHERE batch_id = ?", [batch_id]
    ).fetchall()
    if not a:
        return f"no signed approval is recorded for it (approved_by says {approved_by})"
    approver_id, signed_at, signature, demo = a[0]
    if approver_id != approved_by or signed_at != approved_at:
        return f"the batch says approved by {approved_by}, the signed approval is {approver_id}'s"
    if same_id(approver_id, prepared_by):
        return f"{approver_id} prepared it and cannot approve it (four eyes)"
    who = directory.identities.get(approver_id)
    if who is None or not who.may("approve", region):
        return f"{approver_id} is not an approver for region {region} in {directory.path}"
    if who.demo:
        return None if demo else f"{approver_id} is a demo identity but the approval claims a signature"
    if demo or not identities.verify(who, approval_message(con, batch_id, approver_id, signed_at), signature):
        return f"the signature of {approver_id} does not verify over the batch as the ledger holds it now"
    return None


def check_release(con, policy_id: str, region: str) -> None:
    """GateFailed naming the first approved batch of the region whose approval does not stand: nothing is released."""
    directory = identities.load()
    batches = con.execute(
        "SELECT batch_id FROM ledger.batches WHERE state = 'approved' AND policy_id = ? AND region_code = ? ORDER BY 1",
        [policy_id, region],
    ).fetchall()
    for (batch_id,) in batches:
        why = problems(con, batch_id, directory)
        if why:
            raise GateFailed(f"region {region}: batch {batch_id} is not released: {why}")


def describe(con, batch_id: str) -> str:
    """The approval as the manifest states it: signed (key fingerprint), or DEMO (unsigned)."""
    a = con.execute("SELECT demo, key_sha256 FROM ledger.approvals WHERE batch_id = ?", [batch_id]).fetchall()
    if not a:
        return "none recorded"
    return "DEMO identity, unsigned" if a[0][0] else f"Ed25519 signature, key {a[0][1]}"
