"""A night runs Python's cyclic garbage collector seldom (run.few_collections: 1.5 s of collections at 300,000
units otherwise), and leaves the thresholds as it found them, also when it stops on bad input."""

import gc

import pytest

from autogrant.transforms import run
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
    assert before != run.NIGHT_GC_THRESHOLD
    assert run.run_policy("LN-2021", drop.path, tmp_path / "out", today=NIGHT1, validate=False).ok
    assert seen == [run.NIGHT_GC_THRESHOLD]
    assert gc.get_threshold() == before
    with pytest.raises(InputError):
        run.run_policy("LN-2021", tmp_path / "no-such-drop", tmp_path / "out2", today=NIGHT1, validate=False)
    assert gc.get_threshold() == before
