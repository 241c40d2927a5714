"""One policy run from a data drop to decisions: ingest, facts, decisions, then the files of each region.

These are plain functions: the Prefect flows (flows/) and the tests call them the same way.
Output layout (OUT):
    decisions.csv / decisions.parquet      every region present under regions/, sorted by region_code, uscc
    quarantine.csv, warnings.csv           the rows held back at ingest, and birthplace warnings
    regions/<code>/decisions.csv|parquet   one region's decisions (a region rerun replaces only these)
    regions/<code>/decision_details.parquet every rule's figures, for `autogrant explain`
    manifest.json                          inputs, policy hash, code version, counts, totals
"""

import datetime as dt
import json
import resource
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import duckdb

from transforms import decide, files, ingest
from transforms.errors import InputError
from transforms.policy import LoadedPolicy, load
from transforms.version import code_version


@dataclass
class Stage:
    name: str
    seconds: float
    peak_rss_mib: float


@dataclass
class RunResult:
    policy_id: str
    out: Path
    as_of: dt.date
    regions: list[str]
    ingest: ingest.IngestReport
    region_errors: list[decide.RegionError] = field(default_factory=list)
    decided_regions: list[str] = field(default_factory=list)
    stages: list[Stage] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.region_errors


class Timer:
    """Wall time and the process's peak resident memory at the end of each stage."""

    def __init__(self):
        self.stages: list[Stage] = []

    def stage(self, name: str):
        timer = self

        class _Ctx:
            def __enter__(self):
                self.t0 = time.perf_counter()

            def __exit__(self, *exc):
                peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
                timer.stages.append(Stage(name, round(time.perf_counter() - self.t0, 3), round(peak, 1)))

        return _Ctx()


def connect(memory_limit: str | None = None) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(":memory:")
    if memory_limit:
        con.execute("SET memory_limit = ?", [memory_limit])
    con.execute("SET preserve_insertion_order = true")
    return con


def decide_drop(con, loaded: LoadedPolicy, data: Path, regions: list[str] | None, as_of: dt.date | None, timer: Timer):
    """Ingest the drop and decide every unit in scope; returns (scope, as_of, ingest report, region errors)."""
    scope = decide.scope_regions(loaded, regions)
    with timer.stage("ingest"):
        report = ingest.ingest(con, Path(data))
    with timer.stage("facts"):
        as_of = decide.load_policy_tables(con, loaded, scope, as_of)
        region_errors = decide.compute_facts(con)
    with timer.stage("decisions"):
        decide.compute_decisions(con)
    return scope, as_of, report, region_errors


def write_region_decisions(con, out: Path, region: str) -> None:
    folder = out / "regions" / region
    con.execute("CREATE OR REPLACE TEMP TABLE region_out AS SELECT * FROM decisions_out WHERE region_code = ?", [region])
    con.execute(
        "CREATE OR REPLACE TEMP TABLE region_details AS SELECT * FROM decision_details WHERE region_code = ? ORDER BY uscc",
        [region],
    )
    files.copy_query(con, "SELECT * FROM region_out", folder / "decisions.csv")
    files.copy_query(con, "SELECT * FROM region_out", folder / "decisions.parquet", fmt="parquet")
    files.copy_query(con, "SELECT * FROM region_details", folder / "decision_details.parquet", fmt="parquet")


def assemble_decisions(con, out: Path, policy_id: str) -> None:
    """OUT/decisions.csv and .parquet: every region folder of this policy, sorted by region_code, uscc."""
    parts = sorted((out / "regions").glob("*/decisions.parquet"))
    if not parts:
        con.execute("CREATE OR REPLACE TEMP TABLE all_out AS SELECT * FROM decisions_out WHERE false")
    else:
        con.execute(
            "CREATE OR REPLACE TEMP TABLE all_out AS SELECT * FROM read_parquet(?) WHERE policy_id = ? ORDER BY region_code, uscc",
            [[p.as_posix() for p in parts], policy_id],
        )
    files.copy_query(con, "SELECT * FROM all_out ORDER BY region_code, uscc", out / "decisions.csv")
    files.copy_query(con, "SELECT * FROM all_out ORDER BY region_code, uscc", out / "decisions.parquet", fmt="parquet")


def write_quarantine(con, out: Path) -> None:
    files.copy_query(
        con, 'SELECT file, line, "column", value, reason FROM quarantine ORDER BY file, line, "column"', out / "quarantine.csv"
    )
    files.copy_query(con, "SELECT * FROM ingest_warnings ORDER BY file, line", out / "warnings.csv")


def region_totals(con) -> dict[str, dict]:
    rows = con.execute(
        """SELECT region_code, decision, count(*), sum(amount), sum(amount_due)
           FROM decision_details GROUP BY ALL ORDER BY ALL"""
    ).fetchall()
    out: dict[str, dict] = {}
    for region, decision, n, amount, due in rows:
        r = out.setdefault(region, {"units": {}, "amount_fen": {}, "amount_due_fen": {}})
        r["units"][decision] = n
        r["amount_fen"][decision] = int(amount)
        r["amount_due_fen"][decision] = int(due)
    return out


def reason_counts(con) -> dict[str, int]:
    rows = con.execute(
        "SELECT code, count(*) FROM (SELECT unnest(codes) AS code FROM decision_details) GROUP BY code ORDER BY code"
    ).fetchall()
    return dict(rows) | {d: n for d, n in con.execute("SELECT decision, count(*) FROM decision_details GROUP BY ALL").fetchall()}


def write_manifest(con, result: RunResult, loaded: LoadedPolicy, args: dict) -> None:
    counts = {k: asdict(v) for k, v in sorted(result.ingest.counts.items())}
    manifest = {
        "policy_id": loaded.id,
        "policy_file": loaded.label,
        "policy_sha256": loaded.sha256,
        "code_version": code_version(),
        "arguments": args,
        "as_of": result.as_of.isoformat(),
        "regions": result.regions,
        "inputs": {p.name if p.parent.name == "" else str(p): files.sha256_file(p) for p in sorted(result.ingest.input_files)},
        "rows": counts,
        "rows_balanced": result.ingest.balanced(),
        "ingest_warnings": result.ingest.warnings,
        "region_errors": [asdict(e) for e in result.region_errors],
        "decisions": region_totals(con),
        "reasons": reason_counts(con),
        "stages": [asdict(s) for s in result.stages],
    }
    files.write_text(result.out / "manifest.json", json.dumps(manifest, ensure_ascii=False, indent=2, default=str) + "\n")


def run_policy(
    policy_id: str,
    data: Path,
    out: Path,
    regions: list[str] | None = None,
    as_of: dt.date | None = None,
    loaded: LoadedPolicy | None = None,
) -> RunResult:
    """The whole run of one policy; raises InputError for unusable input."""
    loaded = loaded or load(policy_id)
    out = Path(out)
    timer = Timer()
    con = connect()
    try:
        scope, as_of, report, region_errors = decide_drop(con, loaded, data, regions, as_of, timer)
        if not report.balanced():
            raise InputError(
                "rows read differ from rows staged + quarantined: "
                + ", ".join(
                    f"{c.file} {c.rows_read} != {c.rows_staged} + {c.rows_quarantined}"
                    for c in report.counts.values()
                    if c.rows_read != c.rows_staged + c.rows_quarantined
                )
            )
        failed = {e.region_code for e in region_errors}
        result = RunResult(loaded.id, out, as_of, scope, report, region_errors)
        with timer.stage("files"):
            files.clean_stale_tmp(out)
            for region in scope:
                if region not in failed:
                    write_region_decisions(con, out, region)
                    result.decided_regions.append(region)
            assemble_decisions(con, out, loaded.id)
            write_quarantine(con, out)
        result.stages = timer.stages
        args = {"policy": policy_id, "data": str(data), "out": str(out), "region": regions or [], "as_of": str(as_of)}
        write_manifest(con, result, loaded, args)
        return result
    finally:
        con.close()
