"""The night's top-level decisions and evidence (run_outputs.tables_are_the_files, assemble_decisions,
night_evidence): decisions.csv, the manifest, the report and the overpayments cover every region's last decided run,
as the region files hold it. When tonight wrote every region's files from the decisions as they still are, the
connection's tables are that union and no file is read back; a release that takes the decisions again after a
region was written, a rerun of one region or a stopped region reads the files. Either way what is published is the
same, byte for byte, as when the files are read."""

import json

import pytest

from autogrant.data_samples.drop_files import write_drop
from autogrant.data_samples.edge_cases import DropBuilder
from autogrant.transforms import ledger, run_outputs
from autogrant.transforms.run import run_policy
from tests.conftest import NIGHT1, NIGHT2, NIGHT3, REGION, batch_of, night, read_decisions
from tests.random_drop_generate import generate
from tests.test_drop_cache import published

EARLIER = "210100"  # the first region settled (regions go in code order), before REGION
VOLATILE = {"stages", "arguments", "ledger_chain"}  # times, the OUT path, hashes over timed entries
OWN = {".keys", "ledger-backups"}  # each OUT's own DEMO key (and payment signatures by it); its ledger's copies


def figures(out) -> dict:
    """What a night publishes (every file but those that carry times, keys or paths), and its manifest less those."""
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    files = {k: v for k, v in published(out).items() if k.split("/")[0] not in OWN and not k.endswith(".sig.json")}
    return {"manifest": {k: v for k, v in manifest.items() if k not in VOLATILE}, "files": files}


@pytest.fixture
def reads(monkeypatch):
    """Each night's answer of tables_are_the_files (False: the files are read); ``reads.force`` makes it False."""
    seen, original = [], run_outputs.tables_are_the_files

    def spy(con, res):
        seen.append(False if spy.force else original(con, res))
        return seen[-1]

    spy.force, spy.seen = False, seen
    monkeypatch.setattr(run_outputs, "tables_are_the_files", spy)
    return spy


def two_regions(tmp_path):
    b = DropBuilder(y=2020)
    for region in (EARLIER, REGION):
        b.fund(region)
        b.unit(region, name="大连华兴机械有限公司")
        b.unit(region, name="大连瑞丰商贸有限公司", start=20)
    write_drop(b.tables(), tmp_path / "drop")
    return tmp_path / "drop"


@pytest.mark.parametrize("approved", [[EARLIER], [REGION]])
def test_the_evidence_is_the_table_only_when_every_file_was_written_from_it_as_it_is(tmp_path, reads, approved):
    """Three nights (notice, batch, release) on two copies of OUT, one reading the files every night. A release in
    the first region settled alone takes the decisions again before any file: nothing read. A release in the later
    one takes them again after the earlier region's file: the files are read. Every published file and the manifest
    are equal on both copies."""
    drop = two_regions(tmp_path)
    a, b = tmp_path / "a", tmp_path / "b"
    for today in (NIGHT1, NIGHT2, NIGHT3):
        if today == NIGHT3:
            for out in (a, b):
                for region in approved:
                    ledger.approve(out / "ledger.duckdb", batch_of(out, region), "demo-approver")
        reads.force = False
        night(drop, a, today)
        reads.force = True
        night(drop, b, today)
        assert figures(a) == figures(b)
    mine = reads.seen[0::2]  # copy a's nights
    assert mine == [True, True, REGION not in approved]
    assert reads.seen[1::2] == [False, False, False]
    manifest = json.loads((a / "manifest.json").read_text(encoding="utf-8"))
    assert set(manifest["decisions"]) == {EARLIER, REGION}


def test_a_rerun_of_one_region_reads_the_others_files(tmp_path, reads):
    drop = two_regions(tmp_path)
    out = tmp_path / "out"
    night(drop, out, NIGHT1)
    night(drop, out, NIGHT2, regions=[REGION])
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert set(manifest["decisions"]) == {EARLIER, REGION}  # the region not rerun is still in the figures
    assert {r["region_code"] for r in read_decisions(out).values()} == {EARLIER, REGION}  # and in decisions.csv
    assert reads.seen == [True, False]


@pytest.mark.parametrize("seed,policy", [(3, "LN-2021"), (8, "CN-2024"), (12, "IM-2020")])
def test_random_drops_publish_the_same_figures_whether_the_files_are_read_or_not(tmp_path, reads, seed, policy):
    """Random drops over the whole contract (quarantined rows, stopped regions, optional files)."""
    expect = generate(tmp_path / "drop", seed, policy)
    if expect["exit"] == 2:
        pytest.skip("an unusable drop: no night")
    opts = {"as_of": expect["as_of"], "validate": False, "today": NIGHT1}
    run_policy(policy, tmp_path / "drop", tmp_path / "a", **opts)
    reads.force = True
    run_policy(policy, tmp_path / "drop", tmp_path / "b", **opts)
    assert len(reads.seen) == 2  # both nights reached their top-level files
    assert figures(tmp_path / "a") == figures(tmp_path / "b")


def test_a_region_file_that_cannot_be_written_fails_the_night_before_its_top_level_files(tmp_path, monkeypatch):
    """The region files are written on a thread beside the settling (run_outputs.RegionFiles): a failure there is
    the night's failure, raised once every region has settled, and no top-level file or manifest is published."""
    from autogrant.transforms import run

    drop = two_regions(tmp_path)
    real = run.write_region_decisions

    def failing(con, out, region):
        if region == EARLIER:
            raise OSError(f"no space left on the device for region {region}")
        return real(con, out, region)

    monkeypatch.setattr(run, "write_region_decisions", failing)
    out = tmp_path / "out"
    with pytest.raises(OSError, match=f"region {EARLIER}"):
        night(drop, out, NIGHT1)
    assert (out / "regions" / REGION / "decisions.csv").is_file()  # the other region was written all the same
    assert not (out / "regions" / EARLIER / "decisions.csv").exists()
    assert not [p.name for p in out.iterdir() if p.name in ("decisions.csv", "decisions.parquet", "manifest.json")]
    assert not list(out.rglob(".*.tmp-*"))
    monkeypatch.setattr(run, "write_region_decisions", real)
    night(drop, out, NIGHT1)  # the rerun writes what the failed night could not
    assert {r["region_code"] for r in read_decisions(out).values()} == {EARLIER, REGION}
