"""An operator's Ctrl-C at the terminal reaches the night and every process beside it (the validation gate, the
notice writer): the night says it in one line and exits 130, no process prints a traceback, none is left running,
and the next night runs as if the interrupted one had not."""

import os
import subprocess
import sys

import psutil
import pytest

from autogrant.data_samples.drop_files import write_drop
from autogrant.data_samples.edge_cases import DropBuilder

pytestmark = pytest.mark.slow  # an acceptance test through the CLI: CI runs it (pytest -m slow)


def night(drop, out, env: dict) -> subprocess.CompletedProcess:
    args = [sys.executable, "-m", "autogrant.flows.cli", "run", "--policy", "LN-2021", "--data", str(drop), "--out", str(out),
            "--today", "2026-11-20", "--no-prefect"]  # fmt: skip
    # a session of its own, SIGINT handled as at a terminal: the signal goes to this night's group only
    return subprocess.run(args, capture_output=True, text=True, env=env, timeout=600, start_new_session=True)


def left_running() -> list[list[str]]:
    return [p.info["cmdline"] for p in psutil.process_iter(["cmdline"])
            if any("autogrant.transforms." in a for a in (p.info["cmdline"] or []))]  # fmt: skip


def test_ctrl_c_stops_the_night_and_every_process_beside_it_without_a_traceback(tmp_path):
    b = DropBuilder(y=2020)
    for region in ("210300", "210400"):
        b.fund(region)
        for start in (5, 10, 20):
            b.unit(region, start=start)
    write_drop(b.tables(), tmp_path / "drop")
    log = tmp_path / "checkpoints.log"
    base = dict(os.environ, AUTOGRANT_PROGRESS="0")
    done = night(tmp_path / "drop", tmp_path / "whole", base | {"AUTOGRANT_CHECKPOINT_LOG": str(log)})
    assert done.returncode == 0, done.stderr
    passed = [line.split("\t") for line in log.read_text(encoding="utf-8").splitlines()]
    # the last region done: the notice writer has had the notices of the regions before it (and is up), the gate's
    # process has its Data Docs to build
    at = [int(n) for n, name in passed if name.startswith("region ") and name.endswith(" done")][-1]
    before = left_running()
    got = night(tmp_path / "drop", tmp_path / "out", base | {"AUTOGRANT_KILL_AT": str(at), "AUTOGRANT_KILL_SIGNAL": "INT"})
    assert got.returncode == 130, got.stderr
    lines = [line for line in got.stderr.splitlines() if not line.startswith("注意")]
    assert lines == ["autogrant: aborted"], repr(got.stderr)
    assert "Traceback" not in got.stderr
    assert left_running() == before  # the gate's process and the notice writer ended with the night
    again = night(tmp_path / "drop", tmp_path / "out", base)
    assert again.returncode == 0, again.stderr
    assert (tmp_path / "out" / "decisions.csv").read_bytes() == (tmp_path / "whole" / "decisions.csv").read_bytes()
