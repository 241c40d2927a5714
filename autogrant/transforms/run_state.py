"""What a run records: its result (per region failures, stages, money), the stage timer, and the DuckDB connection
a run opens (memory limit and spill)."""

import datetime as dt
import resource
import time
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from autogrant.transforms import ingest, progress, resources

DEFAULT_OPERATOR = "autogrant-nightly"


@dataclass
class Stage:
    name: str
    seconds: float
    peak_rss_mib: float


@dataclass
class RegionFailure:
    region_code: str
    kind: str  # "region" (cannot be decided) or "gate" (validation failed)
    message: str


@dataclass
class RunResult:
    policy_id: str
    out: Path
    as_of: dt.date
    today: dt.date
    regions: list[str]
    ingest: ingest.IngestReport
    failures: list[RegionFailure] = field(default_factory=list)
    decided_regions: list[str] = field(default_factory=list)
    released_batches: list[str] = field(default_factory=list)
    region_changes: dict[str, dict] = field(default_factory=dict)
    overpayments: dict[str, dict] = field(default_factory=dict)  # region -> units, excess_fen (overpayments.csv)
    stages: list[Stage] = field(default_factory=list)
    workers: dict[str, dict] = field(default_factory=dict)  # region -> units, seconds, peak MiB of the worker process
    drop_cache: str = "off"  # hit: the drop's tables came from OUT/.cache/drop/ (transforms/drop_cache.py); miss; off
    drop_not_kept: str | None = None  # a miss whose tables could not be kept for the next night: why
    # regions whose decision_details.parquet tonight wrote from the connection's decision_details as it still is
    # (emptied when the decisions are taken again after a release): run_outputs.tables_are_the_files
    details_as_written: set[str] = field(default_factory=set)

    @property
    def ok(self) -> bool:
        return not self.failures

    @property
    def region_errors(self) -> list[RegionFailure]:
        return [f for f in self.failures if f.kind == "region"]

    @property
    def gate_failures(self) -> list[RegionFailure]:
        return [f for f in self.failures if f.kind == "gate"]


class Timer:
    """Wall time per stage (summed over regions) and the process's peak resident memory at its end."""

    def __init__(self):
        self.seconds: dict[str, float] = {}
        self.peak: dict[str, float] = {}

    def stage(self, name: str, quiet: bool = False):
        """Time a stage (again: summed); ``quiet``: no progress line (work added to a stage already reported)."""
        timer = self

        class _Ctx:
            def __enter__(self):
                self.t0 = time.perf_counter()

            def __exit__(self, *exc):
                timer.seconds[name] = timer.seconds.get(name, 0.0) + time.perf_counter() - self.t0
                timer.peak[name] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
                if exc[0] is None and name in progress.RUN_STAGES and not quiet:  # the per-region stages report per region
                    progress.stage_done(name, timer.seconds[name])  # the stage's time so far (its quiet parts too)

        return _Ctx()

    @property
    def stages(self) -> list[Stage]:
        return [Stage(n, round(s, 3), round(self.peak[n], 1)) for n, s in self.seconds.items()]


def connect() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(":memory:")
    con.execute("SET preserve_insertion_order = true")
    resources.limit(con)  # memory limit and spill folder (issue 13)
    return con
