"""Shared fixtures: small drops built in code (data_samples/edge_cases.DropBuilder), run through the plain functions."""

import csv
import os
from pathlib import Path

import pytest

os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("DO_NOT_TRACK", "1")

from autogrant.data_samples.drop_files import write_drop  # noqa: E402
from autogrant.data_samples.edge_cases import DropBuilder  # noqa: E402
from autogrant.transforms.run import run_policy  # noqa: E402

REGION = "210300"


def read_decisions(out: Path) -> dict[str, dict]:
    with (out / "decisions.csv").open(encoding="utf-8", newline="") as fh:
        return {r["uscc"]: r for r in csv.DictReader(fh)}


def run_builder(b: DropBuilder, tmp_path: Path, policy: str = "LN-2021", **kw) -> dict[str, dict]:
    data, out = tmp_path / "drop", tmp_path / "out"
    write_drop(b.tables(), data)
    run_policy(policy, data, out, **({"validate": False} | kw))
    return read_decisions(out)


@pytest.fixture
def builder() -> DropBuilder:
    b = DropBuilder(y=2020)
    b.fund(REGION, months=24)
    return b
