"""An operator's Ctrl-C at the terminal reaches the night and every process beside it (the validation gate, the
notice writer): the night says it in one line and exits 130, no process prints a traceback, none is left running,
and the next night runs as if the interrupted one had not."""

import os
import subprocess
import sys

import psutil
import pytest

from tests.conftest import write_two_regions

pytestmark = pytest.mark.slow  # an acceptance test through the CLI: CI runs it (pytest -m slow)


def night(drop, out, env: dict) -> tuple[subprocess.CompletedProcess, list[list[str]]]:
    """The night in a session of its own (SIGINT handled as at a terminal, the signal to this night's group only);
    what it returned, and the processes of its session still running once it ended."""
    args = [sys.executable, "-m", "autogrant.flows.cli", "run", "--policy", "LN-2021", "--data", str(drop), "--out", str(out),
            "--today", "2026-11-20", "--no-prefect"]  # fmt: skip
    with subprocess.Popen(
        args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, start_new_session=True
    ) as proc:
        stdout, stderr = proc.communicate(timeout=600)
    left = []
    for p in psutil.process_iter(["pid", "cmdline", "status"]):
        try:
            if os.getsid(p.info["pid"]) == proc.pid and p.info["status"] != psutil.STATUS_ZOMBIE:  # ended, not reaped
                left.append(p.info["cmdline"])
        except OSError:
            continue
    return subprocess.CompletedProcess(args, proc.returncode, stdout, stderr), left


def test_ctrl_c_stops_the_night_and_every_process_beside_it_without_a_traceback(tmp_path):
    write_two_regions(tmp_path / "drop")
    log = tmp_path / "checkpoints.log"
    base = dict(os.environ, AUTOGRANT_PROGRESS="0")
    done, _ = night(tmp_path / "drop", tmp_path / "whole", base | {"AUTOGRANT_CHECKPOINT_LOG": str(log)})
    assert done.returncode == 0, done.stderr
    passed = [line.split("\t") for line in log.read_text(encoding="utf-8").splitlines()]
    # the last region done: the notice writer has had the notices of the regions before it (and is up), the gate's
    # process has its Data Docs to build
    at = [int(n) for n, name in passed if name.startswith("region ") and name.endswith(" done")][-1]
    got, left = night(tmp_path / "drop", tmp_path / "out", base | {"AUTOGRANT_KILL_AT": str(at), "AUTOGRANT_KILL_SIGNAL": "INT"})
    assert got.returncode == 130, got.stderr
    lines = [line for line in got.stderr.splitlines() if not line.startswith("注意")]
    assert lines == ["autogrant: aborted"], repr(got.stderr)
    assert "Traceback" not in got.stderr
    assert left == []  # the gate's process and the notice writer ended with the night
    again, _ = night(tmp_path / "drop", tmp_path / "out", base)
    assert again.returncode == 0, again.stderr
    assert (tmp_path / "out" / "decisions.csv").read_bytes() == (tmp_path / "whole" / "decisions.csv").read_bytes()
