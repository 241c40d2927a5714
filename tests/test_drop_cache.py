"""The drop kept for the next night (transforms/drop_cache.py): a night on the same drop takes the staged tables from
OUT/.cache/drop/ and writes, file for file, what a night that reads the drop writes; any change to a file read, to
the scope, the as-of or the policy reads the drop again; a cache that cannot be read is read past; the cache holds
no ID number."""

import datetime as dt
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
from stdnum.cn import ric

from autogrant.transforms import drop_cache
from autogrant.transforms.files import sha256_file
from autogrant.transforms.run import run_policy
from tests.conftest import NIGHT1, NIGHT2, NIGHT3, REGION, read_decisions
from tests.random_drop_generate import generate

# what a night writes that carries its own times, paths or keys (everything else must be byte-equal)
TIMED = ("manifest.json", "report.html", "run.json", "ledger.duckdb", "ledger.duckdb.checked.json", "autogrant-error.log")


def published(out: Path) -> dict[str, bytes]:
    """Every file a night publishes under OUT, less the cache, the ledger and its copies (ledger_rows compares it),
    the validation site and what carries times."""
    return {
        p.relative_to(out).as_posix(): p.read_bytes()
        for p in sorted(out.rglob("*"))
        if p.is_file()
        and p.name not in TIMED
        and not {".cache", "validation", ".work", "ledger-backups"} & set(p.relative_to(out).parts)
    }


def ledger_rows(out: Path) -> dict[str, list]:
    """The ledger's business rows (no time column, no hash that seals one)."""
    con = duckdb.connect(str(out / "ledger.duckdb"), read_only=True)
    try:
        got = {}
        for (table,) in con.execute("SELECT table_name FROM duckdb_tables() ORDER BY 1").fetchall():
            cols = [c for (c,) in con.execute(
                "SELECT column_name FROM duckdb_columns() WHERE table_name = ? ORDER BY column_index", [table]).fetchall()
                if not any(w in c for w in ("_at", "time", "hash", "run_id", "entry"))]  # fmt: skip
            got[table] = sorted(map(repr, con.execute(f'SELECT {", ".join(cols)} FROM "{table}"').fetchall()))
        return got
    finally:
        con.close()


@pytest.mark.parametrize("seed,policy", [(3, "LN-2021"), (8, "CN-2024"), (12, "IM-2020")])
def test_a_night_from_the_cache_writes_what_a_night_reading_the_drop_writes(tmp_path, monkeypatch, seed, policy):
    """Random drops over the whole contract (awkward encodings, quarantined rows, optional files): night 1 reads the
    drop and keeps it; night 2 on a copy of OUT takes it from the cache, and on another copy reads the drop again.
    Decisions, quarantine, notices, payment files, lists and the ledger's rows are equal."""
    expect = generate(tmp_path / "drop", seed, policy)
    if expect["exit"] == 2:
        pytest.skip("an unusable drop: no night to repeat")
    opts = {"as_of": expect["as_of"], "validate": False}
    first = run_policy(policy, tmp_path / "drop", tmp_path / "a", today=NIGHT1, **opts)
    assert first.drop_cache == "miss"
    assert (tmp_path / "a" / drop_cache.FOLDER / "meta.json").is_file()
    shutil.copytree(tmp_path / "a", tmp_path / "b")
    kept = run_policy(policy, tmp_path / "drop", tmp_path / "a", today=NIGHT2, **opts)
    monkeypatch.setenv("AUTOGRANT_DROP_CACHE", "0")
    read = run_policy(policy, tmp_path / "drop", tmp_path / "b", today=NIGHT2, **opts)
    assert (kept.drop_cache, read.drop_cache) == ("hit", "off")
    assert kept.ingest.counts == read.ingest.counts and kept.ingest.warnings == read.ingest.warnings
    assert [str(p) for p in kept.ingest.input_files] == [str(p) for p in read.ingest.input_files]
    assert [f.message for f in kept.failures] == [f.message for f in read.failures]
    a, b = published(tmp_path / "a"), published(tmp_path / "b")
    assert "decisions.csv" in a and "quarantine.csv" in a
    assert a.keys() == b.keys()
    assert [k for k in a if a[k] != b[k]] == []
    assert ledger_rows(tmp_path / "a") == ledger_rows(tmp_path / "b")


def test_a_file_changed_in_place_is_read_again_even_with_its_size_and_time_kept(drop, tmp_path):
    """A unit renamed in units.csv, the file's size and modification time put back: the SHA-256 differs, the drop is
    read again and the decision shows the new name."""
    out = tmp_path / "out"
    assert run_policy("LN-2021", drop.path, out, today=NIGHT1, validate=False).drop_cache == "miss"
    units = drop.path / "units.csv"
    st, text = units.stat(), units.read_text(encoding="utf-8")
    assert "大连华兴机械有限公司" in text
    units.write_text(text.replace("大连华兴机械有限公司", "大连华盛机械有限公司"), encoding="utf-8")
    os.utime(units, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert units.stat().st_size == st.st_size
    again = run_policy("LN-2021", drop.path, out, today=NIGHT2, validate=False)
    assert again.drop_cache == "miss"
    names = {r["unit_name"] for r in read_decisions(out).values()}
    assert "大连华盛机械有限公司" in names and "大连华兴机械有限公司" not in names
    third = run_policy("LN-2021", drop.path, out, today=NIGHT2 + dt.timedelta(days=1), validate=False)
    assert third.drop_cache == "hit"  # the changed drop, kept by the night that read it


def test_another_scope_as_of_or_policy_file_reads_the_drop_again(drop, tmp_path, monkeypatch):
    out = tmp_path / "out"
    assert run_policy("LN-2021", drop.path, out, today=NIGHT1, validate=False).drop_cache == "miss"
    assert run_policy("LN-2021", drop.path, out, today=NIGHT1, validate=False, regions=[REGION]).drop_cache == "miss"
    as_of = dt.date(2021, 6, 30)
    assert run_policy("LN-2021", drop.path, out, today=NIGHT1, validate=False, regions=[REGION], as_of=as_of).drop_cache == "miss"
    assert run_policy("LN-2021", drop.path, out, today=NIGHT2, validate=False, regions=[REGION], as_of=as_of).drop_cache == "hit"
    from autogrant.transforms import policy

    loaded = policy.load("LN-2021")
    other = policy.LoadedPolicy(loaded.policy, "0" * 64, loaded.label)  # the same rules from a file with other bytes
    got = run_policy("LN-2021", drop.path, out, today=NIGHT2, validate=False, regions=[REGION], as_of=as_of, loaded=other)
    assert got.drop_cache == "miss"


def test_a_cache_that_cannot_be_read_or_was_left_half_written_is_read_past(drop, tmp_path):
    out = tmp_path / "out"
    run_policy("LN-2021", drop.path, out, today=NIGHT1, validate=False)
    want = read_decisions(out)
    folder = out / drop_cache.FOLDER
    (folder / "stg_units.parquet").write_bytes(b"PAR1 not a parquet file")  # a disk fault, a hand edit
    partial = folder.with_name(f"{folder.name}.partial-99999")  # what a night killed while keeping leaves
    partial.mkdir()
    (partial / "stg_units.parquet").write_bytes(b"")
    got = run_policy("LN-2021", drop.path, out, today=NIGHT2, validate=False)
    assert got.drop_cache == "miss"
    assert read_decisions(out) == want
    assert not partial.exists()
    assert run_policy("LN-2021", drop.path, out, today=NIGHT2, validate=False).drop_cache == "hit"  # kept anew


def test_the_cache_holds_no_id_number_and_never_the_roster(tmp_path):
    """A drop with a roster and benefit claims (CN-2024): no kept table is a person file, and no string value kept
    contains a valid ID number."""
    expect = generate(tmp_path / "drop", 8, "CN-2024")
    assert expect["optional"]["benefit_claims"] != "missing"
    run_policy("CN-2024", tmp_path / "drop", tmp_path / "out", today=NIGHT1, as_of=expect["as_of"], validate=False)
    folder = tmp_path / "out" / drop_cache.FOLDER
    kept = sorted(p.stem for p in folder.glob("*.parquet"))
    assert "stg_units" in kept and "unit_facts" in kept
    assert not {"stg_roster", "stg_benefit_claims", "stg_payments"} & set(kept)
    con = duckdb.connect()
    values = 0
    for name in kept:
        cols = [c for c, t, *_ in con.execute(f"DESCRIBE SELECT * FROM read_parquet('{folder / name}.parquet')").fetchall()
                if t.startswith("VARCHAR")]  # fmt: skip
        for col in cols:
            for (v,) in con.execute(
                f'SELECT DISTINCT "{col}" FROM read_parquet(\'{folder / name}.parquet\') WHERE "{col}" IS NOT NULL'
            ).fetchall():
                values += 1
                tokens = [v[i : i + 18] for i in range(0, max(len(v) - 17, 0))]
                assert not any(ric.is_valid(t) for t in tokens), f"{name}.{col} holds an ID number"
    assert values > 100  # the check read what was kept


@pytest.mark.slow  # an acceptance test through the CLI: CI runs it (pytest -m slow)
def test_the_command_says_when_a_night_took_its_drop_from_the_cache(drop, tmp_path):
    """As an operator runs it: the second night's output says the drop was not read again, and where from."""
    args = [sys.executable, "-m", "autogrant.flows.cli", "run", "--policy", "LN-2021", "--data", str(drop.path),
            "--out", str(tmp_path / "out"), "--no-prefect", "--today"]  # fmt: skip
    env = os.environ | {"AUTOGRANT_PROGRESS": "0"}
    one = subprocess.run([*args, str(NIGHT1)], capture_output=True, text=True, env=env)
    two = subprocess.run([*args, str(NIGHT2)], capture_output=True, text=True, env=env)
    assert (one.returncode, two.returncode) == (0, 0), one.stderr + two.stderr
    assert ".cache/drop" not in one.stdout
    line = next(x for x in two.stdout.splitlines() if ".cache/drop" in x)
    assert "SHA-256" in line
    assert "warning" not in one.stderr + two.stderr
    # tables that cannot be kept: the night ends well (exit 0) and says so, in one line on stderr
    (tmp_path / "out2").mkdir()
    (tmp_path / "out2" / ".cache").write_text("not a folder", encoding="utf-8")
    args[args.index(str(tmp_path / "out"))] = str(tmp_path / "out2")
    three = subprocess.run([*args, str(NIGHT1)], capture_output=True, text=True, env=env)
    assert three.returncode == 0, three.stderr
    warned = [x for x in three.stderr.splitlines() if x.startswith("autogrant: warning:")]
    assert len(warned) == 1 and "Error" in warned[0], three.stderr


def test_a_drop_that_could_not_be_kept_is_said_and_the_night_is_unchanged(drop, tmp_path, monkeypatch):
    """A night whose tables cannot be kept (here OUT/.cache is a file: the folder cannot be made) decides and
    publishes as a night with the cache off; the manifest says the tables were not kept and why; the next night
    reads the drop again."""
    off, out = tmp_path / "off", tmp_path / "out"
    monkeypatch.setenv("AUTOGRANT_DROP_CACHE", "0")
    assert run_policy("LN-2021", drop.path, off, today=NIGHT1, validate=False).drop_cache == "off"
    monkeypatch.delenv("AUTOGRANT_DROP_CACHE")
    out.mkdir()
    (out / ".cache").write_text("not a folder", encoding="utf-8")
    got = run_policy("LN-2021", drop.path, out, today=NIGHT1, validate=False)
    assert (got.drop_cache, got.ok) == ("miss", True)
    assert got.drop_not_kept and "Error" in got.drop_not_kept
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert (manifest["drop_cache_kept"], manifest["drop_cache_not_kept"]) == (False, got.drop_not_kept)
    mine = (".keys/", "ledger-backups/")  # its own key; a copy of its ledger
    a, b = ({k: v for k, v in published(o).items() if not k.startswith(mine)} for o in (out, off))
    assert "decisions.csv" in a
    assert a.keys() == b.keys() and [k for k in a if a[k] != b[k]] == []
    again = run_policy("LN-2021", drop.path, out, today=NIGHT2, validate=False)
    assert again.drop_cache == "miss" and again.drop_not_kept
    (out / ".cache").unlink()
    kept = run_policy("LN-2021", drop.path, out, today=NIGHT2, validate=False)
    assert (kept.drop_cache, kept.drop_not_kept) == ("miss", None)
    assert json.loads((out / "manifest.json").read_text(encoding="utf-8"))["drop_cache_kept"] is True
    assert "drop_cache_not_kept" not in json.loads((out / "manifest.json").read_text(encoding="utf-8"))


def test_a_cache_changed_by_hand_is_never_used(drop, tmp_path):
    """The cache decides who is paid, so it is used only as the night that kept it wrote it: a kept file rewritten
    (another account for a unit), and then also its SHA-256 put into meta.json (the signature no longer fits), are
    each read past; the decisions keep the drop's account."""
    out = tmp_path / "out"
    run_policy("LN-2021", drop.path, out, today=NIGHT1, validate=False)
    folder = out / drop_cache.FOLDER
    units = folder / "stg_units.parquet"
    con = duckdb.connect()
    con.execute(
        f"COPY (SELECT * REPLACE ('6222999999999999' AS bank_account) FROM read_parquet('{units}')) TO '{units}.new' (FORMAT parquet)"
    )
    os.replace(f"{units}.new", units)
    got = run_policy("LN-2021", drop.path, out, today=NIGHT2, validate=False)
    assert got.drop_cache == "miss"
    assert "6222999999999999" not in (out / "decisions.csv").read_text(encoding="utf-8")
    meta_text = (folder / "meta.json").read_text(encoding="utf-8")  # as the night that read the drop kept it anew
    con.execute(
        f"COPY (SELECT * REPLACE ('6222999999999999' AS bank_account) FROM read_parquet('{units}')) TO '{units}.new' (FORMAT parquet)"
    )
    os.replace(f"{units}.new", units)
    meta = json.loads(meta_text)
    meta["files"]["stg_units.parquet"] = sha256_file(units)
    (folder / "meta.json").write_text(json.dumps(meta), encoding="utf-8")
    got = run_policy("LN-2021", drop.path, out, today=NIGHT2 + dt.timedelta(days=1), validate=False)
    assert got.drop_cache == "miss"
    assert "6222999999999999" not in (out / "decisions.csv").read_text(encoding="utf-8")


@pytest.mark.slow  # three nights twice over: CI runs it (pytest -m slow)
def test_after_a_release_a_night_from_the_cache_decides_as_one_reading_the_drop(tmp_path, monkeypatch):
    """The drop's facts kept (sql/28-37) hold nothing of the ledger: on the release night, which pays units after the
    night before kept the drop, a night from the cache and a night reading the drop publish the same, each unit paid
    tonight ALREADY_PAID with what the ledger paid it (40_decisions.sql adds the ledger's payments)."""
    from autogrant.data_samples.drop_files import write_drop
    from autogrant.data_samples.edge_cases import DropBuilder
    from autogrant.transforms import ledger

    b = DropBuilder(y=2020)
    for region in ("210300", "210400"):
        b.fund(region)
    codes = [b.unit("210300"), b.unit("210300", start=20), b.unit("210400")]
    write_drop(b.tables(), tmp_path / "drop")
    a = tmp_path / "a"
    assert run_policy("LN-2021", tmp_path / "drop", a, today=NIGHT1).drop_cache == "miss"
    assert run_policy("LN-2021", tmp_path / "drop", a, today=NIGHT2).drop_cache == "hit"
    con = duckdb.connect(str(a / "ledger.duckdb"), read_only=True)
    batches = [b for (b,) in con.execute("SELECT batch_id FROM batches WHERE state = 'awaiting_approval'").fetchall()]
    con.close()
    assert batches
    for batch in batches:
        ledger.approve(a / "ledger.duckdb", batch, "demo-approver")
    shutil.copytree(a, tmp_path / "b")
    kept = run_policy("LN-2021", tmp_path / "drop", a, today=NIGHT3)
    monkeypatch.setenv("AUTOGRANT_DROP_CACHE", "0")
    read = run_policy("LN-2021", tmp_path / "drop", tmp_path / "b", today=NIGHT3)
    assert (kept.drop_cache, read.drop_cache) == ("hit", "off")
    assert kept.released_batches == read.released_batches == sorted(batches)
    paid = read_decisions(a)
    assert sorted(u for u, d in paid.items() if d["reasons"] == "ALREADY_PAID" and d["already_paid"] == d["amount_due"]
                  and d["amount_due"] != "0.00") == sorted(codes)  # fmt: skip
    for night in (NIGHT3, NIGHT3 + dt.timedelta(days=1)):  # the release night, then the night after it, paid before
        if night > NIGHT3:
            monkeypatch.delenv("AUTOGRANT_DROP_CACHE")
            assert run_policy("LN-2021", tmp_path / "drop", a, today=night).drop_cache == "hit"
            monkeypatch.setenv("AUTOGRANT_DROP_CACHE", "0")
            run_policy("LN-2021", tmp_path / "drop", tmp_path / "b", today=night)
            assert read_decisions(a) == paid  # nothing paid twice, nothing new
        pa, pb = published(a), published(tmp_path / "b")
        assert pa.keys() == pb.keys() and [k for k in pa if pa[k] != pb[k]] == []
        assert ledger_rows(a) == ledger_rows(tmp_path / "b")
