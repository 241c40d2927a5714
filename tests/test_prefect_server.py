"""Acceptance (slow): a real Prefect server, the deployments served exactly as the README says, a nightly and a
region rerun triggered with `prefect deployment run … --param today=…`, the states read through the server's API.

Checks one ledger for the policy whichever deployment ran, the whole night's evidence after the rerun, and that a
region which cannot be decided leaves its region flow, the policy flow and the nightly Failed."""

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import httpx
import pytest

from autogrant.data_samples.drop_files import write_drop
from autogrant.data_samples.edge_cases import DropBuilder

pytestmark = pytest.mark.slow
TERMINAL = {"COMPLETED", "FAILED", "CRASHED", "CANCELLED"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(args, env, log: Path) -> subprocess.Popen:
    return subprocess.Popen(args, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT, start_new_session=True)


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)  # the process group this test started (serve runs flows in children)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)


def wait_for(what, check, seconds: float, logs=()):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        value = check()
        if value:
            return value
        time.sleep(1)
    tails = "\n".join(f"--- {p}\n{p.read_text(errors='replace')[-3000:]}" for p in logs if p.exists())
    raise AssertionError(f"timed out waiting for {what}\n{tails}")


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("prefect")
    b = DropBuilder(y=2020)
    b.fund("210300")
    b.fund("210400")  # 210500 has no fund position: it cannot be decided
    for region in ("210300", "210400", "210500"):
        b.unit(region)
    write_drop(b.tables(), tmp / "drop")
    port = free_port()
    api = f"http://127.0.0.1:{port}/api"
    env = os.environ | {
        "PREFECT_HOME": str(tmp / "prefect-home"),
        "PREFECT_API_URL": api,
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "DO_NOT_TRACK": "1",
        "PREFECT_UI_ENABLED": "false",
        "PREFECT_LOGGING_LEVEL": "INFO",
    }
    env.pop("PREFECT_API_KEY", None)
    logs = (tmp / "server.log", tmp / "serve.log")
    server = start([sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1", "--port", str(port)], env, logs[0])
    serve = None
    try:

        def healthy():
            try:
                return httpx.get(f"{api}/health", timeout=2).status_code == 200
            except httpx.HTTPError:
                return False

        wait_for("the Prefect server", healthy, 90, logs)
        # exactly as the README says
        serve = start([sys.executable, "-m", "autogrant.flows.serve", "--data", str(tmp / "drop"), "--out", str(tmp / "root")],
                      env, logs[1])  # fmt: skip

        def registered():
            r = httpx.post(f"{api}/deployments/filter", json={}, timeout=10)
            return {d["name"] for d in r.json()} >= {"autogrant-nightly", "autogrant-region"} and r.json()

        deployments = wait_for("the deployments", registered, 90, logs)
        yield {"api": api, "env": env, "root": tmp / "root", "logs": logs, "deployments": deployments}
    finally:
        if serve is not None:
            stop(serve)
        stop(server)


def trigger(served, name: str, *params: str) -> str:
    args = [sys.executable, "-m", "prefect", "deployment", "run", name]
    for p in params:
        args += ["--param", p]
    proc = subprocess.run(args, env=served["env"], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return re.search(r"UUID:\s*([0-9a-f-]{36})", proc.stdout).group(1)


def finished(served, run_id: str) -> dict:
    def done():
        run = httpx.get(f"{served['api']}/flow_runs/{run_id}", timeout=10).json()
        return run if run["state_type"] in TERMINAL else None

    return wait_for(f"flow run {run_id}", done, 240, served["logs"])


def children(served, run_id: str) -> dict[str, dict]:
    flt = {"flow_runs": {"parent_flow_run_id": {"any_": [run_id]}}}
    runs = httpx.post(f"{served['api']}/flow_runs/filter", json=flt, timeout=10).json()
    return {r["name"]: r for r in runs}


def test_the_served_deployments_keep_one_ledger_whole_night_evidence_and_failed_states(served):
    deployments = {d["name"]: d for d in served["deployments"]}
    nightly_schedule = deployments["autogrant-nightly"]["schedules"][0]["schedule"]
    assert (nightly_schedule["cron"], nightly_schedule["timezone"]) == ("30 1 * * *", "Asia/Shanghai")

    night = finished(served, trigger(served, "autogrant-nightly/autogrant-nightly", 'policies=["LN-2021"]', "today=2026-11-20"))
    policy = children(served, night["id"])["LN-2021"]
    regions = children(served, policy["id"])
    states = {"nightly": night["state_type"], "policy": policy["state_type"]} | {
        n: r["state_type"] for n, r in sorted(regions.items())
    }
    print("nightly run states:", states)
    assert (night["state_type"], policy["state_type"], regions["LN-2021-210500"]["state_type"]) == ("FAILED",) * 3
    assert regions["LN-2021-210300"]["state_type"] == regions["LN-2021-210400"]["state_type"] == "COMPLETED"
    assert "210500" in night["state"]["message"] and "210500" in regions["LN-2021-210500"]["state"]["message"]

    rerun = finished(served, trigger(served, "autogrant-rerun/autogrant-region", "policy_id=LN-2021", 'regions=["210300"]',
                                     "today=2026-11-23"))  # fmt: skip
    rerun_policy = children(served, rerun["id"])["LN-2021"]
    print("rerun run states:", rerun["state_type"], rerun_policy["state_type"])
    assert rerun["state_type"] == rerun_policy["state_type"] == "COMPLETED", rerun["state"]
    assert rerun["parameters"]["today"] == "2026-11-23"

    bad = finished(served, trigger(served, "autogrant-rerun/autogrant-region", "policy_id=LN-2021", 'regions=["210300"]',
                                   "today=2026-11-31"))  # fmt: skip
    print("bad today:", bad["state_type"], bad["state"]["message"])
    assert bad["state_type"] == "FAILED" and "YYYY-MM-DD" in bad["state"]["message"]

    root, out = served["root"], served["root"] / "LN-2021"
    ledgers = sorted(p.relative_to(root).as_posix() for p in root.rglob("*.duckdb") if p.parent.name != "ledger-backups")
    assert ledgers == ["LN-2021/ledger.duckdb"]  # one ledger (and its nightly backup copies beside it)
    assert all(p.parent == out / "ledger-backups" for p in root.rglob("ledger-backups/*.duckdb"))
    con = duckdb.connect(str(out / "ledger.duckdb"), read_only=True)
    claims = con.execute("SELECT region_code, state, count(*) FROM claims GROUP BY ALL ORDER BY ALL").fetchall()
    con.close()
    assert claims == [("210300", "in_notice", 1), ("210400", "in_notice", 1)]  # the rerun noticed nobody twice
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["today"] == "2026-11-23" and manifest["regions"] == ["210300"]
    assert sorted(manifest["decisions"]) == ["210300", "210400"]  # the whole night, after a rerun of one region
    assert manifest["region_runs"]["210400"]["last_run"]["today"] == "2026-11-20"
    assert manifest["region_runs"]["210300"]["last_run"]["today"] == "2026-11-23"
    assert [(f["region_code"], f["kind"]) for f in manifest["region_failures"]] == [("210500", "region")]
    assert "210400" in (out / "report.html").read_text(encoding="utf-8")
