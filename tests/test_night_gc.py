"""A night runs Python's cyclic garbage collector seldom (resources.few_collections: 1.5 s of collections at 300,000
units otherwise), and leaves the thresholds as it found them, also when it stops on bad input."""

import gc

import pytest

from autogrant.transforms import resources, run
from autogrant.transforms.errors import InputError
from tests.conftest import NIGHT1


def test_a_night_collects_seldom_and_puts_the_thresholds_back(drop, tmp_path, monkeypatch):
    seen = []
    real = run.close_night

    def close_night(night):
        seen.append(gc.get_threshold())
        return real(night)

    monkeypatch.setattr(run, "close_night", close_night)
    before = gc.get_threshold()
    assert before != resources.NIGHT_GC_THRESHOLD
    assert run.run_policy("LN-2021", drop.path, tmp_path / "out", today=NIGHT1, validate=False).ok
    assert seen == [resources.NIGHT_GC_THRESHOLD]
    assert gc.get_threshold() == before
    with pytest.raises(InputError):
        run.run_policy("LN-2021", tmp_path / "no-such-drop", tmp_path / "out2", today=NIGHT1, validate=False)
    assert gc.get_threshold() == before


def test_the_notice_worker_collects_seldom_and_puts_the_thresholds_back(tmp_path, monkeypatch):
    import io
    import pickle

    from autogrant.transforms import notice, notice_writer

    seen = []
    monkeypatch.setattr(
        notice, "write_files", lambda out, region, notice_id, claims: seen.append((notice_id, gc.get_threshold()))
    )
    job = tmp_path / "job-1.pickle"
    job.write_bytes(pickle.dumps((str(tmp_path), "210200", "N-1", [("单位", "x", 100, None, None, "LN-2021")])))
    monkeypatch.setattr("sys.stdin", io.StringIO(f"{job}\n"))
    before = gc.get_threshold()
    notice_writer._work()
    assert seen == [("N-1", resources.NIGHT_GC_THRESHOLD)]
    assert gc.get_threshold() == before
    assert not job.exists()  # the job's file removed once written
