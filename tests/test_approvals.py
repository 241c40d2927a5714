"""Four eyes with signatures, driven as clerks and an insider would: identities from approvers.yaml, Ed25519 keys
made with `autogrant keygen`, `autogrant approve --key`, and a release that refuses disguised, unsigned, forged or
edited approvals (exit 3, no payment file, the batch named)."""

import json
import os
import shutil
import subprocess
import sys

import duckdb
import pytest

from autogrant.data_samples.drop_files import write_drop
from autogrant.data_samples.edge_cases import DropBuilder
from tests.conftest import REGION

pytestmark = pytest.mark.slow  # an acceptance test through the CLI or whole nights: CI runs it (pytest -m slow)

NIGHTS = ("2026-11-20", "2026-11-30", "2026-12-01")


def autogrant(*args, approvers=None):
    env = os.environ | ({"AUTOGRANT_APPROVERS": str(approvers)} if approvers else {})
    env.pop("AUTOGRANT_APPROVER_KEY", None)
    return subprocess.run([sys.executable, "-m", "autogrant.flows.cli", *args], capture_output=True, text=True, env=env)


def refused(done):
    """A run whose release was refused: exit 3, and the refusal said on stderr (by the approval check, or by the
    ledger's hash chain when the ledger was edited beside autogrant)."""
    return done.returncode == 3 and ("is not released" in done.stderr or "nothing is released" in done.stderr)


def ledger_sql(out, sql, params=()):
    con = duckdb.connect(str(out / "ledger.duckdb"))
    try:
        return con.execute(sql, list(params)).fetchall()
    finally:
        con.close()


def public_key_of(done) -> str:
    return done.stdout.split("public_key:")[1].split()[0]


@pytest.fixture(scope="module")
def awaiting(tmp_path_factory):
    """Two payable units after night 2: one batch awaiting approval; keys for wang.fang and zhao.min."""
    root = tmp_path_factory.mktemp("approvals")
    b = DropBuilder(y=2020)
    b.fund(REGION)
    b.unit(REGION, name="大连华兴机械有限公司")
    b.unit(REGION, name="大连瑞丰商贸有限公司", start=20)
    write_drop(b.tables(), root / "drop")
    keys = {}
    for who in ("wang.fang", "zhao.min"):
        made = autogrant("keygen", "--id", who, "--key-file", str(root / f"{who}.key"))
        assert made.returncode == 0, made.stderr
        assert (root / f"{who}.key").stat().st_mode & 0o077 == 0  # only its owner reads a private key
        keys[who] = public_key_of(made)
    again = autogrant("keygen", "--id", "wang.fang", "--key-file", str(root / "wang.fang.key"))
    assert again.returncode == 2 and "never overwritten" in again.stderr
    (root / "approvers.yaml").write_text(
        f"""identities:
  - {{id: nightly, name: 夜间批处理, roles: [prepare], regions: ["*"]}}
  - {{id: wang.fang, name: 王芳, roles: [approve], regions: ["{REGION}"], public_key: {keys["wang.fang"]}}}
  - {{id: zhao.min, name: 赵敏, roles: [approve], regions: ["{REGION}"], public_key: {keys["zhao.min"]}}}
  - {{id: li.na, name: 李娜, roles: [approve, object, resolve], regions: ["210200"], public_key: {keys["zhao.min"]}}}
""",
        encoding="utf-8",
    )
    out = root / "out"
    cfg = root / "approvers.yaml"
    for day in NIGHTS[:2]:
        done = autogrant("run", "--policy", "LN-2021", "--data", str(root / "drop"), "--out", str(out),
                         "--today", day, "--operator", "nightly", approvers=cfg)  # fmt: skip
        assert done.returncode == 0, done.stderr
    (batch,) = ledger_sql(out, "SELECT batch_id FROM batches WHERE state = 'awaiting_approval'")
    return root, out, batch[0], cfg


def copy_out(awaiting, name):
    root, out, batch, cfg = awaiting
    dest = root / name
    shutil.copytree(out, dest)
    return dest, batch, cfg, root


def night3(out, cfg, root):
    return autogrant("run", "--policy", "LN-2021", "--data", str(root / "drop"), "--out", str(out),
                     "--today", NIGHTS[2], "--operator", "nightly", approvers=cfg)  # fmt: skip


def test_disguised_and_unauthorised_approvals_are_refused(awaiting):
    out, batch, cfg, root = copy_out(awaiting, "disguised")
    key = str(root / "wang.fang.key")
    for by in ("nightly", "nightly ", "NIGHTLY", " Nightly"):  # the preparer, however spelt
        done = autogrant("approve", batch, "--by", by, "--out", str(out), "--key", key, approvers=cfg)
        assert done.returncode == 2 and "the preparer cannot approve it" in done.stderr, (by, done.stderr)
    cases = {
        "li.na": "may not approve for region",  # an approver, of another region
        "王芳": "is not an identity",  # a display name is not an id
        "demo-approver": "is not an identity",  # the demo identity is not in a real approvers file
    }
    for by, why in cases.items():
        done = autogrant("approve", batch, "--by", by, "--out", str(out), "--key", key, approvers=cfg)
        assert done.returncode == 2 and why in done.stderr, (by, done.stderr)
    unsigned = autogrant("approve", batch, "--by", "wang.fang", "--out", str(out), approvers=cfg)
    assert unsigned.returncode == 2 and "--key" in unsigned.stderr
    wrong_key = autogrant("approve", batch, "--by", "wang.fang", "--out", str(out), "--key", str(root / "zhao.min.key"),
                          approvers=cfg)  # fmt: skip
    assert wrong_key.returncode == 2 and "not the key configured for wang.fang" in wrong_key.stderr
    assert ledger_sql(out, "SELECT state, approved_by FROM batches") == [("awaiting_approval", None)]
    assert ledger_sql(out, "SELECT count(*) FROM approvals") == [(0,)]
    not_a_preparer = autogrant("run", "--policy", "LN-2021", "--data", str(root / "drop"), "--out", str(out),
                               "--today", NIGHTS[2], "--operator", "wang.fang", approvers=cfg)  # fmt: skip
    assert not_a_preparer.returncode == 2 and "may not prepare" in not_a_preparer.stderr


def test_a_signed_approval_releases_and_an_edited_one_is_refused(awaiting):
    out, batch, cfg, root = copy_out(awaiting, "signed")
    done = autogrant("approve", batch, "--by", "wang.fang", "--out", str(out), "--key", str(root / "wang.fang.key"),
                     approvers=cfg)  # fmt: skip
    assert done.returncode == 0 and "signed (Ed25519)" in done.stdout, done.stderr
    edited = root / "edited"
    shutil.copytree(out, edited)
    # the insider moves the approval to another approver, in both tables, consistently
    ledger_sql(edited, "UPDATE batches SET approved_by = 'zhao.min'")
    ledger_sql(edited, "UPDATE approvals SET approver_id = 'zhao.min'")
    moved = night3(edited, cfg, root)
    # the ledger's hash chain names the approval entry edited (transforms/chain.py), before any signature is checked
    assert "ledger.approvals differs from the sealed entry: approver_id: wang.fang -> zhao.min" in moved.stderr, moved.stderr
    assert not list((edited / "payments").glob("*/*.csv")) and ledger_sql(edited, "SELECT count(*) FROM payments") == [(0,)]
    # the batch's account changed after it was signed
    changed = root / "changed"
    shutil.copytree(out, changed)
    ledger_sql(changed, "UPDATE claims SET bank_account = '6222020000000000999' WHERE batch_id = ?", [batch])
    stopped = night3(changed, cfg, root)
    assert "ledger.claims differs from the sealed entry: bank_account" in stopped.stderr
    assert not list((changed / "payments").glob("*/*.csv"))
    released = night3(out, cfg, root)
    assert released.returncode == 0, released.stderr
    manifest = json.loads((out / "payments" / "manifest.json").read_text(encoding="utf-8"))
    (entry,) = manifest["batches"]
    assert entry["approved_by"] == "wang.fang" and entry["approval"].startswith("Ed25519 signature")
    assert ledger_sql(out, "SELECT count(*) FROM payments") == [(2,)]
    assert refused(moved) and refused(stopped)


def test_a_forged_approval_is_refused(awaiting):
    out, batch, cfg, root = copy_out(awaiting, "forged")
    ledger_sql(out, "UPDATE batches SET state = 'approved', approved_by = 'wang.fang', approved_at = now()::TIMESTAMP")
    no_signature = night3(out, cfg, root)
    assert "no signed approval" in no_signature.stderr, no_signature.stderr
    ledger_sql(
        out,
        "INSERT INTO approvals SELECT batch_id, approved_by, approved_at, 'x', NULL, NULL, true FROM batches",
    )
    claimed_demo = night3(out, cfg, root)
    assert f"ledger.approvals (approval {batch}) has no sealed entry" in claimed_demo.stderr, claimed_demo.stderr
    assert not list((out / "payments").glob("*/*.csv"))
    assert refused(no_signature) and refused(claimed_demo)
