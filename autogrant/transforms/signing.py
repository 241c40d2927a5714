"""Payment files the bank can check: each batch's files come with ``<batch_id>.sig.json``, an Ed25519 signature
(PyCA ``cryptography``) over the files' SHA-256 and the ledger entry that released them (the chain's head then).

Ed25519 rather than an HMAC: the bank and an auditor verify with the public key alone and cannot sign; the key
that signs stays with the agency. The signing key is ``$AUTOGRANT_PAYMENT_KEY`` (a PKCS#8 PEM file, as
``autogrant keygen`` writes one); the bank is given its public key, and ``autogrant verify`` checks against
``$AUTOGRANT_PAYMENT_PUBLIC_KEY`` (base64) when set. Without a configured key a DEMO key is made under
``OUT/.keys/`` and every signature file says ``"demo": true``: it keeps ``autogrant demo`` working, and proves
nothing against someone who can write OUT.
"""

import base64
import json
import os
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from autogrant.transforms import files, identities

KEY_ENV = "AUTOGRANT_PAYMENT_KEY"
PUBLIC_ENV = "AUTOGRANT_PAYMENT_PUBLIC_KEY"
DEMO_KEY = Path(".keys") / "payment-signing.demo.pem"


def _public_b64(key: Ed25519PrivateKey) -> str:
    raw = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return base64.b64encode(raw).decode("ascii")


def signing_key(out: Path) -> tuple[Ed25519PrivateKey, bool]:
    """(private key, demo): the configured key, else OUT's DEMO key (made the first time)."""
    if os.environ.get(KEY_ENV):
        return identities.load_private_key(Path(os.environ[KEY_ENV])), False
    path = Path(out) / DEMO_KEY
    if not path.exists():
        try:
            identities.keygen(path)
        except Exception:  # another process made it first: use that one
            if not path.exists():
                raise
    return identities.load_private_key(path), True


def sig_path(utf8: Path) -> Path:
    return utf8.with_name(utf8.name.removesuffix(".csv") + ".sig.json")


def canonical(doc: dict) -> bytes:
    """The bytes a signature covers: the document as sorted, compact UTF-8 JSON (the batch files', the drop cache's)."""
    return json.dumps(doc, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")


def sign_batch(out: Path, batch_id: str, paths: list[Path], ledger_entry: dict) -> str:
    """Write the batch's signature file (deterministic: the same files and entry give the same bytes); its path."""
    out = Path(out)
    key, demo = signing_key(out)
    doc = {
        "batch_id": batch_id, "algorithm": "Ed25519", "public_key": _public_b64(key), "demo": demo,
        "files": {p.relative_to(out).as_posix(): files.sha256_file(p) for p in paths}, "ledger_entry": ledger_entry,
    }  # fmt: skip
    signature = base64.b64encode(key.sign(canonical(doc))).decode("ascii")
    target = sig_path(paths[0])
    files.write_text(target, json.dumps({"document": doc, "signature": signature}, ensure_ascii=False, indent=2) + "\n")
    return target.relative_to(out).as_posix()


def expected_public_key(out: Path) -> tuple[str | None, str]:
    """The public key a signature must verify with, and where it comes from."""
    if os.environ.get(PUBLIC_ENV):
        return os.environ[PUBLIC_ENV].strip(), f"${PUBLIC_ENV}"
    if os.environ.get(KEY_ENV):
        return _public_b64(identities.load_private_key(Path(os.environ[KEY_ENV]))), f"${KEY_ENV}"
    demo = Path(out) / DEMO_KEY
    if demo.exists():
        return _public_b64(identities.load_private_key(demo)), f"the DEMO key {DEMO_KEY}"
    return None, "no key configured"


def check(out: Path, sig: Path) -> list[str]:
    """Problems of one signature file: key, signature, and the files' SHA-256 against what was signed."""
    out = Path(out)
    rel = sig.relative_to(out).as_posix()
    try:
        whole = json.loads(sig.read_text(encoding="utf-8"))
        doc, signature = whole["document"], base64.b64decode(whole["signature"], validate=True)
        public = doc["public_key"]
    except (OSError, ValueError, KeyError, TypeError):
        return [f"{rel}: not a signature file autogrant can read"]
    expected, source = expected_public_key(out)
    if expected is not None and public != expected:
        return [f"{rel}: signed with a key other than {source}"]
    try:
        Ed25519PublicKey.from_public_bytes(base64.b64decode(public)).verify(signature, canonical(doc))
    except (InvalidSignature, ValueError):
        return [f"{rel}: the Ed25519 signature does not verify"]
    found = []
    for name, sha in doc.get("files", {}).items():
        path = out / name
        if not path.exists() or files.sha256_file(path) != sha:
            found.append(f"{name}: SHA-256 differs from the signed {rel} (the file changed after it was signed)")
    return found
