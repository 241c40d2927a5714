"""Who may do what, per region: the identities of ``approvers.yaml`` (four eyes, 双人复核).

Each identity has an ``id`` (what the ledger records and what is compared: never the display name), a ``name``,
its ``roles`` (prepare: the nightly job that puts batches together; approve; object: lodge an objection;
resolve: decide one) and its ``regions`` (6-digit codes, or ``"*"``). An approver has an Ed25519 public key
(``public_key``: base64 of the 32 raw bytes, as ``autogrant keygen`` prints it) and signs each approval with the
private key it alone holds (``cryptography``, PyCA). A ``demo: true`` identity has no key: its approvals are
unsigned and marked DEMO in the ledger, the payment file and the manifest; it is for ``autogrant demo`` only.

The file is ``$AUTOGRANT_APPROVERS`` (or ``--approvers FILE``); without one, the bundled demo file
``autogrant/approvers.demo.yaml`` applies: the nightly preparer, a DEMO approver and a DEMO clerk.
"""

import base64
import hashlib
import os
import re
from dataclasses import dataclass
from pathlib import Path

import yaml
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from autogrant.transforms.errors import InputError

ROLES = ("prepare", "approve", "object", "resolve")
DEMO_FILE = Path(__file__).resolve().parent.parent / "approvers.demo.yaml"
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")  # no spaces, no look-alike characters: ids compare exactly
_KEYS = {"id", "name", "roles", "regions", "public_key", "demo"}


@dataclass(frozen=True)
class Identity:
    id: str
    name: str
    roles: frozenset[str]
    regions: frozenset[str]
    public_key: str | None
    demo: bool

    def may(self, role: str, region: str | None = None) -> bool:
        return role in self.roles and (region is None or "*" in self.regions or region in self.regions)

    def label(self) -> str:
        return f"{self.id} ({self.name}{', DEMO identity, unsigned' if self.demo else ''})"


@dataclass(frozen=True)
class Directory:
    path: Path
    sha256: str
    identities: dict[str, Identity]

    @property
    def is_demo(self) -> bool:
        return any(i.demo for i in self.identities.values())

    def require(self, who: str, role: str, region: str | None = None) -> Identity:
        """The identity ``who`` (its id exactly) if it holds ``role`` (for ``region``); else InputError."""
        found = self.identities.get(who)
        if found is None:
            raise InputError(f"'{who}' is not an identity in {self.path} (give the id, not the name)")
        if not found.may(role, region):
            where = f" for region {region}" if region else ""
            raise InputError(f"{found.label()} may not {role}{where} ({self.path})")
        return found


def config_path(path: Path | None = None) -> Path:
    return Path(path or os.environ.get("AUTOGRANT_APPROVERS") or DEMO_FILE)


def load(path: Path | None = None) -> Directory:
    """The identities of the approvers file; InputError naming the entry for anything wrong in it."""
    path = config_path(path)
    try:
        raw = path.read_bytes()
        doc = yaml.safe_load(raw)
    except (OSError, yaml.YAMLError) as exc:
        raise InputError(f"approvers file {path} cannot be read: {str(exc).splitlines()[0]}") from None
    entries = doc.get("identities") if isinstance(doc, dict) else None
    if not isinstance(entries, list) or not entries:
        raise InputError(f"{path}: expected 'identities:' with a list of identities")
    found: dict[str, Identity] = {}
    folded: set[str] = set()
    for n, e in enumerate(entries, 1):
        where = f"{path}: identity {n}"
        if not isinstance(e, dict) or set(e) - _KEYS or not {"id", "name", "roles", "regions"} <= set(e):
            raise InputError(f"{where}: needs id, name, roles, regions (and public_key), nothing else")
        ident = str(e["id"])
        if not _ID.match(ident) or ident.casefold() in folded:
            raise InputError(f"{where}: id '{ident}' is not a plain unique id (letters, digits, . _ -)")
        roles, regions = e["roles"], e["regions"]
        if not isinstance(roles, list) or not roles or set(roles) - set(ROLES):
            raise InputError(f"{where} ({ident}): roles must be a list of {', '.join(ROLES)}")
        if not isinstance(regions, list) or not all(r == "*" or re.fullmatch(r"\d{6}", str(r)) for r in regions):
            raise InputError(f"{where} ({ident}): regions must be a list of 6-digit codes or '*'")
        demo, key = bool(e.get("demo", False)), e.get("public_key")
        if "approve" in roles and not demo:
            if not key:
                raise InputError(f"{where} ({ident}): an approver needs its public_key (autogrant keygen)")
            public_key(key, where)
        if demo and key:
            raise InputError(f"{where} ({ident}): a demo identity has no key")
        folded.add(ident.casefold())
        found[ident] = Identity(ident, str(e["name"]), frozenset(roles), frozenset(map(str, regions)), key, demo)
    return Directory(path, hashlib.sha256(raw).hexdigest(), found)


def public_key(text: str, where: str = "public_key") -> Ed25519PublicKey:
    try:
        return Ed25519PublicKey.from_public_bytes(base64.b64decode(text, validate=True))
    except ValueError:
        raise InputError(f"{where}: public_key is not the base64 of an Ed25519 public key") from None


def key_fingerprint(text: str) -> str:
    return hashlib.sha256(base64.b64decode(text)).hexdigest()[:16]


def keygen(key_file: Path) -> str:
    """A new Ed25519 key pair: the private key to ``key_file`` (PKCS#8 PEM, owner-only), the public key returned."""
    key_file = Path(key_file)
    if key_file.exists():
        raise InputError(f"{key_file} exists; a key is never overwritten")
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    key_file.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(pem)
    raw = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return base64.b64encode(raw).decode("ascii")


def load_private_key(key_file: Path) -> Ed25519PrivateKey:
    try:
        key = serialization.load_pem_private_key(Path(key_file).read_bytes(), password=None)
    except (OSError, ValueError, TypeError) as exc:
        raise InputError(f"private key {key_file} cannot be read: {str(exc).splitlines()[0]}") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise InputError(f"private key {key_file} is not an Ed25519 key")
    return key


def sign(key: Ed25519PrivateKey, who: Identity, message: bytes) -> str:
    """The base64 signature of ``message``; refused when the key is not the one configured for ``who``."""
    raw = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    if base64.b64encode(raw).decode("ascii") != who.public_key:
        raise InputError(f"the private key given is not the key configured for {who.id}")
    return base64.b64encode(key.sign(message)).decode("ascii")


def verify(who: Identity, message: bytes, signature: str | None) -> bool:
    if not who.public_key or not signature:
        return False
    try:
        public_key(who.public_key).verify(base64.b64decode(signature, validate=True), message)
        return True
    except (InvalidSignature, ValueError):
        return False
