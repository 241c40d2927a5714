"""run_outputs.RegionFiles: the regions' files written on two threads, each job on a cursor no other job holds at the
time (a cursor's temporary tables, region_out among them, are its own), every region's changes kept."""

import datetime as dt
import threading
import time

import duckdb

from autogrant.transforms.ingest import IngestReport
from autogrant.transforms.run_outputs import RegionFiles
from autogrant.transforms.run_state import RunResult


def test_region_jobs_run_two_at_a_time_each_on_a_cursor_of_its_own(tmp_path):
    con = duckdb.connect(":memory:")
    day = dt.date(2026, 11, 20)
    res = RunResult("LN-2021", tmp_path, day, day, [], IngestReport())
    files = RegionFiles(con, res)
    lock, holding, overlaps, most = threading.Lock(), {}, [], [0]

    def job(region):
        def run(cursor):
            with lock:
                if id(cursor) in holding.values():
                    overlaps.append(region)
                holding[region] = id(cursor)
                most[0] = max(most[0], len(holding))
            # the cursor's own temporary table, as write_region_decisions makes region_out
            cursor.execute("CREATE OR REPLACE TEMP TABLE region_out AS SELECT ? AS region_code", [region])
            time.sleep(0.05)
            seen = cursor.execute("SELECT region_code FROM region_out").fetchall()[0][0]
            with lock:
                del holding[region]
            return {"region": seen}

        return run

    regions = [f"2101{k:02d}" for k in range(8)]
    try:
        for region in regions:
            files.write(region, job(region))
        files.wait()
    finally:
        files.close()
    assert overlaps == []
    assert most[0] == RegionFiles.THREADS == 2
    assert res.region_changes == {r: {"region": r} for r in regions}
    assert res.details_as_written == set(regions)
