"""The deciding half of a night: a worker decides regions and hands the ledger process a RegionDecision.

There is one way to decide, decide.decide (facts and decisions, set-based over every unit in scope), and two places
to run it:

    decide_here     in the ledger process itself, every region in scope at once, in the night's own connection
                    (what ``autogrant run`` does): nothing to hand over but the figures
    decide_region   one region on a Dask worker (``--fan-out``): its own connection, its own partitions of the drop
                    (``units/region_code=<code>/…``; a flat file is read whole), the ledger's state from
                    OUT/.work/ledger_state/; its tables handed over as Parquet under OUT/.work/<code>/

Both run the decisions gate of each region they decided; a region that cannot be decided or fails its gate comes
back as a failure and is not settled. run.absorb takes the decisions in, run.settle_region moves the money.
"""

import datetime as dt
import shutil
from dataclasses import asdict, dataclass, field
from pathlib import Path

from autogrant.transforms import decide, files, ingest
from autogrant.transforms.errors import GateFailed, InputError
from autogrant.transforms.gate_frames import raise_if_failed
from autogrant.transforms.policy import load
from autogrant.transforms.run_state import Timer, connect

# what sql/40_decisions.sql reads of a region: handed over with the decisions, so that the ledger process can take
# the decisions again after a release (run.refresh_after_release)
FACT_TABLES = ("unit_facts", "unit_size", "unit_rate_arm", "unit_schemes", "unit_signals", "region_facts")
LEDGER_STATE = ("ledger_paid", "ledger_holds", "ledger_other_scheme")  # what decisions read of the ledger
WORK = ".work"  # OUT/.work/: what workers and the ledger process hand over (ledger state in; decisions out)


@dataclass
class RegionDecision:
    """What a worker hands the ledger process: plain values only (pickled by Dask, readable as JSON)."""

    regions: list[str]  # the regions it was given
    units: dict[str, int] = field(default_factory=dict)  # units decided, by region
    failures: list[tuple[str, str, str]] = field(default_factory=list)  # (region, "region" | "gate", message)
    counts: dict[str, dict] = field(default_factory=dict)  # ingest counts of the files it read itself
    input_files: list[str] = field(default_factory=list)
    stages: dict[str, list[float]] = field(default_factory=dict)  # stage -> [seconds, peak MiB], its own process
    handover: str | None = None  # folder of its tables as Parquet; None: already in the ledger process's connection


def require_balanced(report: ingest.IngestReport) -> None:
    """Every row read is staged or quarantined, else the run stops (InputError)."""
    if not report.balanced():
        raise InputError("rows read differ from rows staged + quarantined: " + ", ".join(
            f"{c.file} {c.rows_read} != {c.rows_staged} + {c.rows_quarantined}"
            for c in report.counts.values() if c.rows_read != c.rows_staged + c.rows_quarantined))  # fmt: skip


def gate_regions(con, gate, decision: RegionDecision) -> None:
    """The decisions gate (GX) of every region decided and not failed; a failure stays with its region."""
    if gate is None:
        return
    stopped = {f[0] for f in decision.failures}
    for region in decision.regions:
        if region in stopped:
            continue
        try:
            raise_if_failed(gate.validate_region(con, region, decision.units.get(region, 0)))
        except GateFailed as exc:
            decision.failures.append((region, "gate", str(exc)))


def decide_here(con, loaded, regions: list[str], as_of: dt.date, gate, timer: Timer, kept: bool = False) -> RegionDecision:
    """Every region in scope at once in the ledger process's connection (drop ingested, ledger state loaded).
    ``kept``: the drop's tables came from transforms/drop_cache.py, the person counts and drop facts with them."""
    decision = RegionDecision(list(regions))
    _, errors = decide.decide(con, loaded, regions, as_of, timer, kept)
    # The staged tables only sql/27-37 read: the roster (millions of spells, the only table with ID numbers besides
    # the benefit claims, read by sql/29_person_counts.sql alone) and the premium payments (millions of rows) first.
    # Dropped, the night's settling works in memory rather than against what DuckDB spilled to disk to hold them
    # (issue 13).
    for (table,) in con.execute(
        """SELECT table_name FROM duckdb_tables() WHERE database_name = 'memory' AND NOT temporary
           AND starts_with(table_name, 'stg_') AND table_name NOT IN (SELECT unnest(?))""", [list(decide.STAGED_READ_AFTER)]
    ).fetchall():  # fmt: skip
        con.execute(f"DROP TABLE {table}")
    decision.failures += [(e.region_code, "region", e.message) for e in errors]
    decision.units = dict(con.execute("SELECT region_code, count(*) FROM decision_details GROUP BY ALL").fetchall())
    with timer.stage("validation"):
        gate_regions(con, gate, decision)
    return decision


def decide_region(
    policy_id: str, data: str, out: str, region: str, as_of: str, today: str, validate: bool = True
) -> RegionDecision:
    """A Dask worker's whole task for one region. Writes OUT/.work/<region>/ only; reads OUT/.work/ledger_state/."""
    loaded = load(policy_id)
    out_p, as_of_d, today_d = Path(out), dt.date.fromisoformat(as_of), dt.date.fromisoformat(today)
    timer, con = Timer(), connect()
    decision = RegionDecision([region])
    try:
        _decide_apart(con, timer, loaded, Path(data), out_p, decision, as_of_d, today_d, validate)
    except InputError as exc:  # this region's partitions are unusable: the region stops, the others go on
        decision.failures.append((region, "region", f"region {region}: {exc}"))
    finally:
        con.close()
    decision.stages = {name: [seconds, timer.peak[name]] for name, seconds in timer.seconds.items()}
    return decision


def _decide_apart(con, timer, loaded, data: Path, out: Path, decision: RegionDecision, as_of, today, validate) -> None:
    (region,) = decision.regions
    with timer.stage("ingest"):
        report = ingest.ingest(con, data, regions=[region])
        require_balanced(report)
    state = out / WORK / "ledger_state"
    for table in LEDGER_STATE:
        con.execute(f"CREATE TABLE {table} AS SELECT * FROM read_parquet(?)", [str(state / f"{table}.parquet")])
    _, errors = decide.decide(con, loaded, [region], as_of, timer)
    decision.failures += [(region, "region", e.message) for e in errors[:1]]
    decision.units = {region: con.execute("SELECT count(*) FROM decision_details").fetchall()[0][0]}
    if validate:
        with timer.stage("validation"):
            from autogrant.transforms.gate import Gate

            gate_regions(con, Gate(out, f"{loaded.id}-{today:%Y%m%d}", setup=False), decision)
    with timer.stage("files"):
        work = out / WORK / region
        work.mkdir(parents=True, exist_ok=True)
        # every decided unit, of a region stopped at its gate too: the ledger process counts them as one process
        # does; the facts too, to take the decisions again after a release. Its decisions files are written by the
        # ledger process after the release (run.move_money).
        files.copy_query(con, "SELECT * FROM decision_details ORDER BY uscc", work / "decision_details.parquet", fmt="parquet")
        for table in FACT_TABLES:
            files.copy_query(con, f"SELECT * FROM {table}", work / f"{table}.parquet", fmt="parquet")
        own = [label for label in report.counts if f"/{ingest.PARTITION_KEY}=" in label]
        con.execute("CREATE TEMP TABLE own_files AS SELECT unnest(?::VARCHAR[]) AS file", [own])
        for table, part in (("quarantine", "quarantine"), ("ingest_warnings", "warnings")):
            files.copy_query(con, f"SELECT * FROM {table} WHERE file IN (SELECT file FROM own_files)",
                             work / f"{part}.parquet", fmt="parquet")  # fmt: skip
    decision.counts = {label: asdict(report.counts[label]) for label in own}
    decision.input_files = [str(p) for p in report.input_files if p.relative_to(data).as_posix() in own]
    decision.handover = str(work)


def write_ledger_state(con, out: Path) -> None:
    """The ledger's state as the decisions read it, for workers in other processes (OUT/.work/ledger_state/)."""
    state = out / WORK / "ledger_state"
    shutil.rmtree(out / WORK, ignore_errors=True)
    state.mkdir(parents=True)
    for table in LEDGER_STATE:
        files.copy_query(con, f"SELECT * FROM {table}", state / f"{table}.parquet", fmt="parquet")


def region_tasks(night) -> list[tuple]:
    """decide_region's arguments for each region of a run.Night (plain values: what a Dask task is sent)."""
    res = night.result
    return [(res.policy_id, night.args["data"], str(res.out), r, res.as_of.isoformat(), res.today.isoformat(),
             night.gate is not None) for r in res.regions]  # fmt: skip


def decide_each_apart(night) -> list[RegionDecision]:
    """Each region of a run.Night decided by decide_region one after another in this process: what the Dask tasks
    do, without a cluster (``run.run_policy(..., decide_with=worker.decide_each_apart)``)."""
    return [decide_region(*task) for task in region_tasks(night)]
