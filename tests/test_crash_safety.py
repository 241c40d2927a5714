"""Kill -9 at every checkpoint of a night that releases payments, rerun, and check the money invariants.

The killed run is a real subprocess that SIGKILLs itself at its N-th checkpoint (transforms/faults.py): across
ingest, facts and decisions, the bank-return commit, the ledger release commit, the payment files and their
renames, and the notices. After each kill the night is run again and must end in the same ledger and the same
payment files as an uninterrupted night: no payment twice, no ledger payment without its file, no file without
its ledger rows, never more than amount_due.
"""

import datetime as dt
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from autogrant.transforms import chain, ledger
from autogrant.transforms.run import run_policy
from tests.conftest import write_two_regions

pytestmark = pytest.mark.slow  # an acceptance test through the CLI or whole nights: CI runs it (pytest -m slow)

ROOT = Path(__file__).resolve().parents[1]
NIGHT3 = dt.date(2026, 12, 1)
SCRIPT = (
    "import sys, datetime; from autogrant.transforms.run import run_policy; "
    "run_policy('LN-2021', sys.argv[1], sys.argv[2], today=datetime.date(2026, 12, 1), validate=False)"
)


def _night(drop, out, today):
    run_policy("LN-2021", drop, out, today=today, validate=False)


@pytest.fixture(scope="module")
def prepared(tmp_path_factory):
    """A drop of two regions walked to approved batches; and the state after an uninterrupted release night."""
    root = tmp_path_factory.mktemp("crash")
    write_two_regions(root / "drop")
    before = root / "before"
    _night(root / "drop", before, dt.date(2026, 11, 20))
    _night(root / "drop", before, dt.date(2026, 11, 30))
    for batch in ledger.awaiting_approval(before / "ledger.duckdb"):
        ledger.approve(before / "ledger.duckdb", batch, "demo-approver")
    baseline = root / "baseline"
    shutil.copytree(before, baseline)
    log = root / "checkpoints.log"
    env = dict(os.environ, AUTOGRANT_CHECKPOINT_LOG=str(log))
    subprocess.run([sys.executable, "-c", SCRIPT, str(root / "drop"), str(baseline)], cwd=ROOT, env=env, check=True)
    points = log.read_text(encoding="utf-8").splitlines()
    return root, before, baseline, points


def state(out: Path) -> tuple:
    """The ledger's money and the released files, byte for byte; and the invariants between them."""
    con = duckdb.connect(str(out / "ledger.duckdb"), read_only=True)
    try:
        payments = con.execute(
            "SELECT payment_id, kind, uscc, batch_id, seq, amount_fen, paid_after_fen, amount_due_fen FROM payments ORDER BY entry_id"
        ).fetchall()
        batches = con.execute(
            "SELECT batch_id, region_code, state, payments, total_fen, file_sha256 FROM batches ORDER BY 1"
        ).fetchall()
        over = con.execute("SELECT count(*) FROM payments WHERE paid_after_fen > amount_due_fen").fetchall()[0][0]
        dupes = con.execute(
            "SELECT count(*) FROM (SELECT uscc FROM payments WHERE kind = 'payment' GROUP BY uscc HAVING count(*) > 1)"
        ).fetchall()[0][0]
        breaks = con.execute("SELECT count(*) FROM chain_breaks").fetchall()[0][0]
    finally:
        con.close()
    assert (over, dupes, breaks) == (0, 0, 0)
    check = duckdb.connect(":memory:")
    try:  # the ledger's hash chain follows, and every row is what its entry sealed
        check.execute("ATTACH ? AS ledger (READ_ONLY)", [str(out / "ledger.duckdb")])
        assert chain.problems(check) == []
        journal = check.execute("SELECT kind, ref, entry_sha256 FROM ledger.journal ORDER BY seq").fetchall()
    finally:
        check.close()
    files = {
        p.relative_to(out).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted((out / "payments").rglob("*.csv"))
    }
    with_payments = {b for b, *_ in ((p[3],) for p in payments)}
    for batch_id, region, st, _count, _total, sha in batches:
        utf8 = f"payments/{region}/{batch_id}.csv"
        if batch_id in with_payments:  # no ledger payment without its file, written from those rows
            assert st == "released" and files.get(utf8) == sha, f"{batch_id}: {st}, file {utf8 in files}"
        else:
            assert utf8 not in files  # no file without its ledger rows
    assert not list(out.rglob(".*.tmp-*"))
    return payments, batches, files, journal


def money_points(points: list[str]) -> list[str]:
    names = [line.split("\t", 1)[1] for line in points]
    first = next(i for i, n in enumerate(names) if n.startswith("payment file written"))
    region = next(n for n in reversed(names[:first]) if n.startswith("region ")).split()[1]  # the region writing it
    start, end = names.index(f"region {region} validated"), names.index(f"region {region} done")
    bank = [i for i, n in enumerate(names) if "21_bank_returns_commit" in n]
    return [points[i] for i in (*bank, *range(start, end + 1), len(points) - 1)]


def test_every_kill_point_recovers_to_the_uninterrupted_result(prepared, tmp_path):
    root, before, baseline, points = prepared
    expected = state(baseline)
    assert len(expected[0]) == 6 and len(expected[2]) == 4  # 6 payments, 2 batches x (UTF-8 + GB18030)
    # a region with nothing to release or notice takes no transaction: no point; the drop is the nights before's,
    # so its tables come from OUT/.cache/drop/ (transforms/drop_cache.py): no point of the ingest's either
    assert json.loads((baseline / "manifest.json").read_text(encoding="utf-8"))["drop_cache"] == "hit"
    assert len(points) >= 68 and not [p for p in points if "staged" in p], points
    # By default the points where money moves: the bank-return commit, and the whole path of the first region with
    # a batch (release commit, payment file, its copy, batch released, decisions; no notice commit: the region has
    # nothing left to notice or batch, so it takes no notice transaction), then the run's end.
    # AUTOGRANT_CRASH_ALL=1 runs every one (facts, each region: 72 points; the ingest's, on a night that reads its
    # drop, in test_a_night_killed_while_it_reads_and_keeps_its_drop_recovers).
    chosen = points if os.environ.get("AUTOGRANT_CRASH_ALL") else money_points(points)
    assert os.environ.get("AUTOGRANT_CRASH_ALL") or len(chosen) == 11, chosen
    survived = []
    for line in chosen:
        n, name = line.split("\t")
        out = tmp_path / f"k{n}"
        shutil.copytree(before, out)
        env = dict(os.environ, AUTOGRANT_KILL_AT=n)
        proc = subprocess.run(
            [sys.executable, "-c", SCRIPT, str(root / "drop"), str(out)], cwd=ROOT, env=env, capture_output=True
        )
        assert proc.returncode == -signal.SIGKILL, f"kill point {n} ({name}) was not reached: {proc.stderr[-500:]!r}"
        _night(root / "drop", out, NIGHT3)  # the next run after the crash
        got = state(out)
        assert got[0] == expected[0], f"ledger differs after a kill at {n} ({name})"
        assert [b[:5] for b in got[1]] == [b[:5] for b in expected[1]], f"batches differ after a kill at {n} ({name})"
        assert got[2] == expected[2], f"payment files differ after a kill at {n} ({name})"
        assert got[3] == expected[3], f"the hash chain differs after a kill at {n} ({name})"
        survived.append(name)
        shutil.rmtree(out)
    print(f"{len(survived)} of {len(points)} kill points survived")


def test_a_night_killed_while_it_reads_and_keeps_its_drop_recovers(prepared, tmp_path):
    """The same night with its cache gone: it reads the drop and keeps it on a thread beside the settling. Killed at
    a point of the ingest, and at the point the decisions are taken (the keeping under way), the next run ends as
    the uninterrupted night does, and leaves a whole cache and no half-written one."""
    root, before, baseline, _ = prepared
    expected = state(baseline)
    fresh = tmp_path / "fresh"
    shutil.copytree(before, fresh)
    shutil.rmtree(fresh / ".cache")
    log, probe = tmp_path / "points.log", tmp_path / "probe"
    shutil.copytree(fresh, probe)
    env = dict(os.environ, AUTOGRANT_CHECKPOINT_LOG=str(log))
    subprocess.run([sys.executable, "-c", SCRIPT, str(root / "drop"), str(probe)], cwd=ROOT, env=env, check=True)
    assert json.loads((probe / "manifest.json").read_text(encoding="utf-8"))["drop_cache"] == "miss"
    points = dict(reversed(line.split("\t", 1)) for line in log.read_text(encoding="utf-8").splitlines())
    for name in ("staged roster", "decided"):
        out = tmp_path / name.replace(" ", "-")
        shutil.copytree(fresh, out)
        env = dict(os.environ, AUTOGRANT_KILL_AT=points[name])
        proc = subprocess.run(
            [sys.executable, "-c", SCRIPT, str(root / "drop"), str(out)], cwd=ROOT, env=env, capture_output=True
        )
        assert proc.returncode == -signal.SIGKILL, f"kill point {name} was not reached: {proc.stderr[-500:]!r}"
        _night(root / "drop", out, NIGHT3)  # the next run after the crash
        got = state(out)
        assert (got[0], got[2], got[3]) == (expected[0], expected[2], expected[3]), f"differs after a kill at {name}"
        assert (out / ".cache" / "drop" / "meta.json").is_file()
        assert [p.name for p in (out / ".cache").iterdir()] == ["drop"]
