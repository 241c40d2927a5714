"""A real Dask cluster as an operator starts it: `dask scheduler` and two `dask worker` processes, the fanned-out
night pointed at it with AUTOGRANT_DASK_ADDRESS, compared with the single-process night (slow: CI runs it)."""

import datetime as dt
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from autogrant.transforms import ledger

pytestmark = pytest.mark.slow

DASK = Path(sys.executable).with_name("dask")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def cluster(tmp_path):
    """The scheduler and two single-threaded workers, each its own process, torn down afterwards."""
    from distributed import Client

    if not DASK.exists():
        pytest.fail(f"{DASK} is missing: the dask command comes with the distributed package")
    address = f"tcp://127.0.0.1:{_free_port()}"
    env = os.environ | {"DASK_DISTRIBUTED__WORKER__DAEMON": "False"}
    logs = [(tmp_path / f"dask-{i}.log").open("w") for i in range(3)]
    procs = [
        subprocess.Popen(
            [str(DASK), "scheduler", "--host", "127.0.0.1", "--port", address.rsplit(":", 1)[1], "--no-dashboard"],
            stdout=logs[0],
            stderr=subprocess.STDOUT,
            env=env,
        )  # fmt: skip
    ]
    try:
        for i in (1, 2):
            procs.append(
                subprocess.Popen(
                    [str(DASK), "worker", address, "--nthreads", "1", "--nworkers", "1", "--no-dashboard", "--name", f"w{i}"],
                    stdout=logs[i],
                    stderr=subprocess.STDOUT,
                    env=env,
                )  # fmt: skip
            )
        deadline = time.monotonic() + 90
        while True:
            try:
                with Client(address, timeout=5) as client:
                    client.wait_for_workers(2, timeout=max(1, deadline - time.monotonic()))
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(1)
        yield address
    finally:
        for p in reversed(procs):
            p.terminate()
        for p in procs:
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()
        for fh in logs:
            fh.close()


def test_the_night_fanned_out_on_a_real_cluster_equals_the_single_process_night(cluster, tmp_path, monkeypatch):
    from distributed import Client
    from prefect.testing.utilities import prefect_test_harness

    from autogrant.data_samples import edge_cases
    from autogrant.data_samples.drop_files import write_drop
    from autogrant.data_samples.generate import LIAONING, generate_tables
    from autogrant.flows.nightly import nightly_flow
    from autogrant.transforms.run import run_policy

    regions = LIAONING[:4]
    tables = edge_cases.add(generate_tables(200, 2021, 2020, regions), 2020, regions)
    write_drop(tables, tmp_path / "flat")
    write_drop(tables, tmp_path / "hive", "hive")
    day = dt.date(2026, 11, 20)
    single, fanned = tmp_path / "single", tmp_path / "fanned" / "LN-2021"
    run_policy("LN-2021", tmp_path / "flat", single, regions=regions, today=day, validate=False)

    monkeypatch.setenv("AUTOGRANT_DASK_ADDRESS", cluster)
    with prefect_test_harness(server_startup_timeout=120):
        status = nightly_flow(str(tmp_path / "hive"), str(fanned.parent), ["LN-2021"], day.isoformat(), fan_out=True,
                              regions=regions)  # fmt: skip
    assert status == {"LN-2021": "ok"}

    with Client(cluster, timeout=10) as client:
        executed = client.run(lambda dask_worker: dask_worker.state.executed_count)
    assert len(executed) == 2 and all(n >= 1 for n in executed.values()), executed  # both workers decided regions

    assert (single / "decisions.csv").read_bytes() == (fanned / "decisions.csv").read_bytes()
    notices = sorted(p.relative_to(single) for p in (single / "notices").rglob("*.*"))
    assert notices and notices == sorted(p.relative_to(fanned) for p in (fanned / "notices").rglob("*.*"))
    assert all((single / n).read_bytes() == (fanned / n).read_bytes() for n in notices)

    def claims(out: Path):
        with ledger.opened(out / "ledger.duckdb") as con:
            return con.execute("SELECT * FROM ledger.claims ORDER BY ALL").fetchall()

    assert claims(single) == claims(fanned) and len(claims(single)) > 40  # the same claims put into notice
