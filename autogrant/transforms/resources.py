"""What a run's process may hold: its memory, and how often Python collects cycles (issue 13).

Memory: the run's DuckDB connection gets a memory limit and a folder to spill to (DuckDB's own default is 80 % of
the machine and, for an in-memory database, a .tmp folder in the working directory). A province's joins and sorts
then spill to disk rather than grow the process:

    AUTOGRANT_DUCKDB_MEMORY   DuckDB's memory_limit (default 1GB); "" leaves DuckDB's default
    AUTOGRANT_SPILL_DIR       where DuckDB spills (default: <system temp>/autogrant-spill-<pid>, removed on exit)

Under a memory limit DuckDB's block allocator may keep the same amount (block_allocator_memory): the buffer blocks
a statement frees are kept for the next one instead of going back to the system and faulting in again, page by
page. A 300,000-unit night frees and takes back gigabytes: 2.9 million page faults and 11.5-13 s of system time on
its first night, against 2.1 million and 9.5 s so, its peak 1.61 GB against 1.53 (/usr/bin/time; issue 13). The
memory is the database's: it goes back to the system when the connection closes.

Python's cyclic garbage collector: run seldom while a night runs (few_collections), in the night's process and in
its notice worker.

"""

import atexit
import contextlib
import gc
import os
import shutil
import tempfile
from pathlib import Path

DEFAULT_MEMORY = "1GB"


def limit(con) -> None:
    """The connection's memory limit and spill folder (see the module's doc)."""
    memory = os.environ.get("AUTOGRANT_DUCKDB_MEMORY", DEFAULT_MEMORY).strip()
    if memory:
        con.execute("SET memory_limit = ?", [memory])
        con.execute("SET block_allocator_memory = ?", [memory])  # blocks kept for reuse, up to the same (module doc)
    spill = os.environ.get("AUTOGRANT_SPILL_DIR", "").strip()
    if spill:
        folder = Path(spill)
    else:
        folder = Path(tempfile.gettempdir()) / f"autogrant-spill-{os.getpid()}"
        atexit.register(shutil.rmtree, folder, True)
    con.execute("SET temp_directory = ?", [str(folder)])


NIGHT_GC_THRESHOLD = (100_000, 50, 1_000)


@contextlib.contextmanager
def few_collections():
    """Python's cyclic garbage collector run seldom while a night runs, its thresholds as they were after. By
    default it collects every 700 allocations net, and a night allocates rows by the hundred thousand (fetched
    claims, ledger entries, validation frames) and Great Expectations' import: 2,600 collections, 1.5 s of a
    300,000-unit night on its threads, against 8 and 0.3 s so (measured by gc.callbacks; issue 13). What a night
    allocates is freed by reference counting; the few cycles wait for a later collection."""
    before = gc.get_threshold()
    gc.set_threshold(*NIGHT_GC_THRESHOLD)
    try:
        yield
    finally:
        gc.set_threshold(*before)
