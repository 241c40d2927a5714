"""An insider's edits of the ledger and of the payment files, driven through the CLI in a subprocess: each is caught
by `autogrant verify` (exit 1, the first line naming the broken entry) and the next run releases nothing (exit 3,
one line). One demo (three nights of the bundled sample) is shared; each attack works on its own copy."""

import csv
import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from autogrant.transforms.paths import SAMPLES_DIR

pytestmark = pytest.mark.slow  # an acceptance test through the CLI or whole nights: CI runs it (pytest -m slow)

NEXT_NIGHT = "2026-11-12"  # the demo's nights: 2026-11-02, 11-10, 11-11


def autogrant(*args):
    env = {k: v for k, v in os.environ.items() if not k.startswith("AUTOGRANT_")} | {"AUTOGRANT_PROGRESS": "0"}
    return subprocess.run([sys.executable, "-m", "autogrant.flows.cli", *map(str, args)], capture_output=True, text=True, env=env)


def sql(out: Path, query: str, params=()):
    con = duckdb.connect(str(out / "ledger.duckdb"))
    try:
        return con.execute(query, list(params)).fetchall()
    finally:
        con.close()


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    out = tmp_path_factory.mktemp("tamper") / "demo"
    done = autogrant("demo", "--out", out)
    assert done.returncode == 0, done.stderr
    assert autogrant("verify", out).returncode == 0
    return out


@pytest.fixture
def copy(demo, tmp_path):
    target = tmp_path / "out"
    shutil.copytree(demo, target)
    return target


def first_line(done) -> str:
    return done.stderr.strip().splitlines()[0] if done.stderr.strip() else ""


def refused_next_night(out: Path, entry: str):
    """The next run stops before anything moves: exit 3 and one line naming ``entry``; no payment row added."""
    before = sql(out, "SELECT count(*) FROM payments")
    done = autogrant("run", "--policy", "LN-2021", "--data", SAMPLES_DIR / "ln2021", "--out", out, "--today", NEXT_NIGHT)
    assert done.returncode == 3, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and entry in lines[0] and "nothing is released" in lines[0], done.stderr
    assert sql(out, "SELECT count(*) FROM payments") == before


def entry_of(out: Path, kind: str, ref: str) -> int:
    return sql(out, "SELECT seq FROM journal WHERE kind = ? AND ref = ?", [kind, ref])[0][0]


def test_a_released_payment_edited_consistently_is_named_and_stops_the_next_release(copy):
    pid, uscc = sql(copy, "SELECT payment_id, uscc FROM payments WHERE kind = 'payment' ORDER BY payment_id LIMIT 1")[0]
    seq = entry_of(copy, "payment", pid)
    sql(copy, """UPDATE payments SET amount_fen = amount_fen + 100000, paid_after_fen = paid_after_fen + 100000,
                 amount_due_fen = amount_due_fen + 100000 WHERE payment_id = ?""", [pid])  # fmt: skip
    done = autogrant("verify", copy)
    assert done.returncode == 1
    assert first_line(done).startswith(f"autogrant: verify: ledger entry {seq} (payment {pid})"), done.stderr
    assert "amount_fen" in first_line(done) and f"D row {pid}" in done.stderr  # and the file no longer agrees
    refused_next_night(copy, f"ledger entry {seq} (payment")


def test_a_deleted_ledger_row_is_named(copy):
    pid = sql(copy, "SELECT payment_id FROM payments WHERE kind = 'payment' ORDER BY payment_id DESC LIMIT 1")[0][0]
    seq = entry_of(copy, "payment", pid)
    sql(copy, "DELETE FROM payments WHERE payment_id = ?", [pid])
    done = autogrant("verify", copy)
    assert done.returncode == 1 and f"ledger entry {seq} (payment {pid}): its row is gone" in first_line(done), done.stderr
    refused_next_night(copy, f"ledger entry {seq} (payment")


def test_a_deleted_journal_entry_breaks_the_chain(copy):
    seq = entry_of(copy, "claim", sql(copy, "SELECT min(claim_id) FROM claims")[0][0])
    sql(copy, "DELETE FROM journal WHERE seq = ?", [seq])
    done = autogrant("verify", copy)
    assert done.returncode == 1 and f"ledger entry {seq + 1} " in first_line(done) and "is missing" in first_line(done)
    refused_next_night(copy, f"ledger entry {seq + 1} ")


def test_a_row_put_in_beside_autogrant_is_refused(copy):
    sql(copy, """INSERT INTO objections VALUES ('X-1', 'LN-2021', '91210200100001407E', 'forged', 'demo-clerk',
                 DATE '2026-11-03', 'upheld', 'demo-clerk', DATE '2026-11-04', NULL)""")  # fmt: skip
    done = autogrant("verify", copy)
    assert done.returncode == 1 and "ledger.objections (objection X-1) has no sealed entry" in first_line(done), done.stderr
    refused_next_night(copy, "objection X-1")


def test_a_chain_rebuilt_after_an_edit_no_longer_has_the_recorded_heads(copy):
    """The insider edits a payment and recomputes every hash after it: the heads recorded in the manifests and the
    signature files, and the payment file itself, disagree."""
    from autogrant.transforms.chain import ZERO, entry_hash

    pid = sql(copy, "SELECT payment_id FROM payments WHERE kind = 'payment' ORDER BY payment_id LIMIT 1")[0][0]
    sql(copy, "UPDATE payments SET amount_fen = amount_fen + 1, paid_after_fen = paid_after_fen + 1, amount_due_fen = amount_due_fen + 1 WHERE payment_id = ?", [pid])  # fmt: skip
    con = duckdb.connect(str(copy / "ledger.duckdb"))
    try:
        rows = con.execute("SELECT seq, kind, ref, content FROM journal ORDER BY seq").fetchall()
        new = con.execute(
            """SELECT json_array(entry_id, payment_id, kind, policy_id, region_code, uscc, batch_id, seq, amount_fen,
                      paid_before_fen, paid_after_fen, amount_due_fen, unit_name, bank_account, bank_code, account_name,
                      channel, entered_on)::VARCHAR FROM payments WHERE payment_id = ?""",
            [pid],
        ).fetchall()[0][0]
        prev = ZERO
        for seq, kind, ref, content in rows:
            content = new if (kind, ref) == ("payment", pid) else content
            sha = entry_hash(prev, seq, kind, ref, content)
            con.execute(
                "UPDATE journal SET content = ?, prev_sha256 = ?, entry_sha256 = ? WHERE seq = ?", [content, prev, sha, seq]
            )
            prev = sha
    finally:
        con.close()
    done = autogrant("verify", copy)
    assert done.returncode == 1 and "chain rebuilt or cut" in done.stderr and f"D row {pid}" in done.stderr, done.stderr
    refused_next_night(copy, "ledger entry")


def test_an_edited_payment_file_with_its_sums_and_manifest_fixed_is_caught(copy):
    """One D row 500 yuan higher in both copies (UTF-8 and GB18030), header and trailer sums fixed, the manifest's
    SHA-256 and control sum fixed: what the old verify checked all agrees."""
    manifest_path = copy / "payments" / "manifest.json"
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    entry = manifest["batches"][0]
    rel = next(r for r in entry["files"] if not r.endswith(".gb18030.csv"))
    rows = list(csv.reader(io.StringIO((copy / rel).read_text(encoding="utf-8"))))
    d = rows[2]
    old = int(d[6].replace(".", ""))
    d[6] = f"{(old + 50000) // 100}.{(old + 50000) % 100:02d}"  # 500 yuan more to one payee
    total = sum(int(r[6].replace(".", "")) for r in rows[2:-1])
    rows[0][7] = rows[-1][2] = f"{total // 100}.{total % 100:02d}"
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\r\n").writerows(rows)
    for name, encoding in ((rel, "utf-8"), (rel.removesuffix(".csv") + ".gb18030.csv", "gb18030")):
        (copy / name).write_bytes(buf.getvalue().encode(encoding))
        entry["files"][name] = hashlib.sha256((copy / name).read_bytes()).hexdigest()
    entry["control_sum"] = rows[-1][2]
    manifest_path.write_text(json.dumps(manifest, ensure_ascii=False, indent=2), encoding="utf-8")
    done = autogrant("verify", copy)
    assert done.returncode == 1, done.stderr
    assert f"{rel}: D row {d[1]}" in done.stderr and "is not what the ledger paid" in done.stderr  # the ledger cross-check
    assert f"{rel}: SHA-256 differs from the signed" in done.stderr  # and the bank's check: the signature file
    assert "SHA-256 differs from the manifest" not in done.stderr and "trailer says" not in done.stderr  # the sums agree
    refused_next_night(copy, f"{rel}: D row")


def test_backup_and_restore_of_a_damaged_ledger(copy):
    made = autogrant("ledger", "backup", "--out", copy, "--to", copy.parent / "kept.duckdb")
    assert made.returncode == 0 and "kept.duckdb" in made.stdout, made.stderr
    again = autogrant("ledger", "backup", "--out", copy, "--to", copy.parent / "kept.duckdb")
    assert again.returncode == 2 and "never overwritten" in again.stderr
    assert sorted(p.name for p in (copy / "ledger-backups").glob("ledger-2026-*.duckdb")) == [
        "ledger-2026-11-02.duckdb", "ledger-2026-11-10.duckdb", "ledger-2026-11-11.duckdb"]  # fmt: skip
    damaged = (copy / "ledger.duckdb").read_bytes()[:8192]
    (copy / "ledger.duckdb").write_bytes(damaged)  # truncated
    done = autogrant("ledger", "restore", "--out", copy, "--from", copy.parent / "kept.duckdb")
    assert done.returncode == 0, done.stderr
    (aside,) = copy.glob("ledger.duckdb.replaced-*")
    assert aside.read_bytes() == damaged  # the damaged one kept aside as it was
    assert autogrant("verify", copy).returncode == 0
    forged = copy.parent / "forged.duckdb"
    shutil.copy(copy.parent / "kept.duckdb", forged)
    con = duckdb.connect(str(forged))
    con.execute(
        "UPDATE payments SET amount_fen = amount_fen + 1, paid_after_fen = paid_after_fen + 1, amount_due_fen = amount_due_fen + 1"
    )
    con.close()
    refused = autogrant("ledger", "restore", "--out", copy, "--from", forged)
    assert refused.returncode == 2 and "is not a ledger to restore" in refused.stderr, refused.stderr


def test_a_ledger_made_before_the_chain_is_sealed_by_its_next_run(copy):
    """An older OUT: no journal, no heads in the manifests, no signature files. The next run seals what the ledger
    holds after a genesis entry (said on stderr), and verify then passes."""
    sql(copy, "DROP TABLE journal")
    for sig in (copy / "payments").glob("*/*.sig.json"):
        sig.unlink()
    for rel in ("manifest.json", "payments/manifest.json"):
        doc = json.loads((copy / rel).read_text(encoding="utf-8"))
        doc.pop("ledger_chain", None)
        for b in doc.get("batches", []):
            b.pop("ledger_entry", None)
        (copy / rel).write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    assert autogrant("verify", copy).returncode == 1  # no chain yet: said, not passed
    done = autogrant("run", "--policy", "LN-2021", "--data", SAMPLES_DIR / "ln2021", "--out", copy, "--today", NEXT_NIGHT)
    assert done.returncode == 0 and "had no hash chain" in done.stderr, done.stderr
    assert sql(copy, "SELECT kind FROM journal WHERE seq = 1") == [("genesis",)]
    assert (copy / "ledger-backups" / "ledger-2026-11-12.duckdb").is_file()  # the copy before the sealing night
    checked = autogrant("verify", copy)
    assert checked.returncode == 0, checked.stderr


def test_audit_trail_of_a_paid_unit(demo):
    uscc, batch, pid = sql(demo, "SELECT uscc, batch_id, payment_id FROM payments WHERE kind = 'payment' ORDER BY 3 LIMIT 1")[0]
    zh = autogrant("audit", "--out", demo, "--uscc", uscc, "--policy", "LN-2021")
    assert zh.returncode == 0, zh.stderr
    lines = zh.stdout.splitlines()
    assert uscc in lines[0] and "账本哈希链完整" in lines[1]
    kinds = [line.split("  ")[1] for line in lines[2:]]
    assert kinds[:3] == ["决定", "公示", "决定"] and "制单" in kinds and "拨付" in kinds and "支付文件" in kinds, lines
    assert any("审批" in line and "demo-approver" in line and "演示身份" in line for line in lines)
    assert any(pid in line and f"账本第{entry_of(demo, 'payment', pid)}条" in line for line in lines)
    en = autogrant("--lang", "en", "audit", "--out", demo, "--uscc", uscc)
    assert en.returncode == 0 and "released" in en.stdout and "ledger hash chain intact" in en.stdout
    by_batch = autogrant("audit", "--out", demo, "--batch", batch)
    assert by_batch.returncode == 0 and batch in by_batch.stdout.splitlines()[0] and pid in by_batch.stdout
    assert autogrant("audit", "--out", demo).returncode == 2
    # report.html lists the night's ledger events per region: tonight, the release
    region, n = sql(demo, """SELECT region_code, count(*) FROM payments WHERE kind = 'payment' AND entered_on = DATE '2026-11-11'
                             GROUP BY ALL ORDER BY 1 LIMIT 1""")[0]  # fmt: skip
    report = (demo / "report.html").read_text(encoding="utf-8")
    row = report.split("今晚账本事件")[1].split(f"<tr><td>{region} ")[1].split("</tr>")[0]
    assert "<td>0</td><td>0</td><td>" + str(n) + "</td>" in row, row  # bank results, reversals, releases


def test_audit_lists_an_application_sealed_in_the_chain(copy):
    """An application (autogrant apply) is a ledger entry: sealed, checked by verify, listed by audit."""
    from autogrant.transforms import chain, ledger

    uscc = sql(copy, "SELECT min(uscc) FROM claims")[0][0]
    with ledger.opened(copy / "ledger.duckdb", write=True) as con, chain.sealed(con):
        con.execute(
            "INSERT INTO ledger.applications VALUES ('LN-2021-T-A1', 'LN-2021', ?, '210200', 'demo-clerk', DATE '2026-11-05', false)",
            [uscc],
        )
    seq = entry_of(copy, "application", "LN-2021-T-A1")
    assert autogrant("verify", copy).returncode == 0
    done = autogrant("audit", "--out", copy, "--uscc", uscc)
    assert done.returncode == 0 and any(
        "申请" in line and "LN-2021-T-A1" in line and f"账本第{seq}条" in line for line in done.stdout.splitlines()
    ), done.stdout
