"""A policy run fanned out by region: workers decide, one process keeps the ledger.

Regions are independent, so each can be decided by its own worker (a Dask worker under the Prefect flow, see
flows/nightly.py) that reads only its region's partitions of the drop (``units/region_code=<code>/…``, hive-style;
a flat file is read whole) and writes only its own files. DuckDB allows one writer per database file, so the
ledger stays with the coordinator:

    coordinator   open_run: ledger repair, bank returns, the ledger's state as Parquet for the workers
    worker        decide_region: ingest (its partitions), facts, decisions, the decisions gate; its facts,
                  decisions, quarantine and warnings under OUT/.work/<code>/
    coordinator   settle_region per region: the region's facts and decisions back from Parquet, then the same
                  ledger steps, batch gate, decisions after the release, regions/<code>/ files, payment files and
                  notices as the single-process run; close_run: finish_run

The decisions, payment files and ledger equal the single-process run's (tests/test_flows.py checks it).
"""

import datetime as dt
import shutil
from dataclasses import asdict
from pathlib import Path

from autogrant.transforms import decide, files, home, ingest, ledger, sqlsteps
from autogrant.transforms.errors import GateFailed, InputError
from autogrant.transforms.policy import load
from autogrant.transforms.run import (
    _check_balanced,
    finish_run,
    move_money,
    open_night,
    region_params,
    run_context,
    settle_returns,
)
from autogrant.transforms.run_state import DEFAULT_OPERATOR, RegionFailure, RunContext, RunResult, Timer, connect

# what sql/40_decisions.sql reads of a region
FACT_TABLES = ("unit_facts", "unit_size", "unit_rate_arm", "unit_schemes", "unit_signals", "region_facts")
WORK = ".work"  # OUT/.work/: what workers and coordinator hand over (ledger state in; decisions, quarantine, warnings out)


def open_run(
    policy_id: str,
    data: Path,
    out: Path,
    regions: list[str] | None = None,
    as_of: dt.date | None = None,
    today: dt.date | None = None,
    operator: str = DEFAULT_OPERATOR,
    ledger_path: Path | None = None,
    validate: bool = True,
) -> RunContext:
    """The coordinator's start: the flat files of the drop (lists, funds, bank returns), the ledger's bank-return
    step, and the ledger's state written for the workers. No unit is decided here."""
    loaded = load(policy_id)
    out, ledger_path = home.locate(out, loaded.id, ledger_path)  # the same OUT and ledger as a single-process run
    today = home.parse_date(today, "today") or home.business_date()
    scope = decide.scope_regions(loaded, regions)
    timer, con = Timer(), open_night(out, ledger_path)
    try:
        home.record_home(out, loaded.id, ledger_path)
        with timer.stage("ingest"):
            report = ingest.ingest(con, Path(data), regions=[])  # partitioned files are the workers'
            _check_balanced(report)
        with timer.stage("facts"):
            as_of = settle_returns(con, loaded, scope, as_of, today, operator, out)
            state = out / WORK / "ledger_state"
            shutil.rmtree(out / WORK, ignore_errors=True)
            state.mkdir(parents=True)
            for table in ("ledger_paid", "ledger_holds", "ledger_other_scheme"):
                files.copy_query(con, f"SELECT * FROM {table}", state / f"{table}.parquet", fmt="parquet")
        result = RunResult(loaded.id, out, as_of, today, scope, report)
        # the gate's suites and checkpoints are saved here, before any worker runs them
        return run_context(con, loaded, result, timer, operator, data, regions, validate, fan_out=True)
    except BaseException:
        con.close()
        raise


def decide_region(policy_id: str, data: str, out: str, region: str, as_of: str, today: str, validate: bool = True) -> dict:
    """A worker's whole task for one region; returns what the coordinator needs (all plain, picklable values).

    Writes OUT/regions/<region>/ and OUT/.work/<region>/ only; reads the ledger's state from OUT/.work/ledger_state/."""
    loaded = load(policy_id)
    out_p, as_of_d, today_d = Path(out), dt.date.fromisoformat(as_of), dt.date.fromisoformat(today)
    timer, con = Timer(), connect()
    answer: dict = {"region": region, "failure": None, "units": 0, "counts": {}, "input_files": [], "stages": {}}
    try:
        return _decide_region(con, timer, loaded, data, out_p, region, as_of_d, today_d, validate, answer)
    except InputError as exc:  # this region's partitions are unusable: the region stops, the others go on
        answer["failure"] = ("region", f"region {region}: {exc}")
        return answer
    finally:
        con.close()


def _decide_region(con, timer, loaded, data, out_p, region, as_of_d, today_d, validate, answer) -> dict:
    """decide_region's steps; fills and returns answer."""
    with timer.stage("ingest"):
        report = ingest.ingest(con, Path(data), regions=[region])
        _check_balanced(report)
    with timer.stage("facts"):
        decide.load_policy_tables(con, loaded, [region], as_of_d)
        state = out_p / WORK / "ledger_state"
        for table in ("ledger_paid", "ledger_holds", "ledger_other_scheme"):
            con.execute(f"CREATE TABLE {table} AS SELECT * FROM read_parquet(?)", [str(state / f"{table}.parquet")])
        errors = decide.compute_facts(con)
    with timer.stage("decisions"):
        decide.compute_decisions(con)
    answer["units"] = con.execute("SELECT count(*) FROM decision_details").fetchall()[0][0]
    if errors:
        answer["failure"] = ("region", errors[0].message)
    elif validate:
        with timer.stage("validation"):
            from autogrant.transforms.gate import Gate, raise_if_failed

            gate = Gate(out_p, f"{loaded.id}-{today_d:%Y%m%d}", setup=False)
            try:
                raise_if_failed(gate.validate_region(con, region, answer["units"]))
            except GateFailed as exc:
                answer["failure"] = ("gate", str(exc))
    with timer.stage("files"):
        work = out_p / WORK / region
        work.mkdir(parents=True, exist_ok=True)
        # every decided unit, of a region stopped at its gate too: the coordinator counts them as one process does;
        # the facts too, so that it can take the decisions again after a release (run.refresh_after_release).
        # The region's decisions files are the coordinator's, written after the release (run.move_money).
        files.copy_query(con, "SELECT * FROM decision_details ORDER BY uscc", work / "decision_details.parquet", fmt="parquet")
        for table in FACT_TABLES:
            files.copy_query(con, f"SELECT * FROM {table}", work / f"{table}.parquet", fmt="parquet")
        own = [label for label in report.counts if f"/{ingest.PARTITION_KEY}=" in label]
        con.execute("CREATE TEMP TABLE own_files AS SELECT unnest(?::VARCHAR[]) AS file", [own])
        files.copy_query(con, "SELECT * FROM quarantine WHERE file IN (SELECT file FROM own_files)",
                         work / "quarantine.parquet", fmt="parquet")  # fmt: skip
        files.copy_query(con, "SELECT * FROM ingest_warnings WHERE file IN (SELECT file FROM own_files)",
                         work / "warnings.parquet", fmt="parquet")  # fmt: skip
    answer["counts"] = {label: asdict(report.counts[label]) for label in own}
    answer["input_files"] = [str(p) for p in report.input_files if p.relative_to(data).as_posix() in own]
    answer["stages"] = {name: [seconds, timer.peak[name]] for name, seconds in timer.seconds.items()}
    return answer


def absorb(ctx: RunContext, answers: list[dict]) -> None:
    """The workers' answers into the coordinator: counts, quarantine, warnings, decisions of the decided regions."""
    con, res = ctx.con, ctx.result
    for a in sorted(answers, key=lambda a: a["region"]):
        for label, c in a["counts"].items():
            res.ingest.counts[label] = ingest.FileCount(**c)
        res.ingest.input_files += [Path(p) for p in a["input_files"]]
        for name, (seconds, peak) in a["stages"].items():  # summed over workers: work done, not wall time
            ctx.timer.seconds[name] = ctx.timer.seconds.get(name, 0.0) + seconds
            ctx.timer.peak[name] = max(ctx.timer.peak.get(name, 0.0), peak)
        if a["failure"]:
            res.failures.append(RegionFailure(a["region"], *a["failure"]))
    _check_balanced(res.ingest)
    work = res.out / WORK
    for table, part in (("quarantine", "quarantine.parquet"), ("ingest_warnings", "warnings.parquet")):
        parts = sorted(p.as_posix() for p in work.glob(f"*/{part}"))
        if parts:
            con.execute(f"INSERT INTO {table} SELECT * FROM read_parquet(?)", [parts])
    decided = sorted(p.as_posix() for p in work.glob("*/decision_details.parquet"))
    if not decided:  # every region's partitions were unusable input
        raise InputError("no region could be decided: " + "; ".join(f.message for f in res.failures))
    con.execute("CREATE OR REPLACE TABLE decision_details AS SELECT * FROM read_parquet(?) ORDER BY region_code, uscc", [decided])
    for table in FACT_TABLES:
        parts = sorted(p.as_posix() for p in work.glob(f"*/{table}.parquet"))
        con.execute(f"CREATE OR REPLACE TABLE {table} AS SELECT * FROM read_parquet(?, union_by_name = true)", [parts])
    sqlsteps.run(con, "41_decisions_out.sql")
    decide.trim_decisions_out(con, ctx.loaded.rules.fallback_payee is not None)
    ctx.units_by_region = dict(con.execute("SELECT region_code, count(*) FROM decision_details GROUP BY ALL").fetchall())


def settle_region(ctx: RunContext, region: str) -> None:
    """The coordinator's ledger steps for one decided region: the same as finish_region after its decisions files."""
    con, res = ctx.con, ctx.result
    if region in {f.region_code for f in res.failures}:
        return
    p = region_params(ctx, region)
    try:
        with ctx.timer.stage("validation"):
            ledger.release_candidates(con, p)
            if ctx.gate is not None and con.execute("SELECT count(*) FROM release_rows").fetchall()[0][0]:
                from autogrant.transforms.gate import GateResult, raise_if_failed

                g = GateResult(region)
                ctx.gate.validate_batch(con, region, g)
                raise_if_failed(g)
        with ctx.timer.stage("files"):
            res.decided_regions.append(region)
            move_money(ctx, p)
    except GateFailed as exc:
        res.failures.append(RegionFailure(region, "gate", str(exc)))


def close_run(ctx: RunContext) -> RunResult:
    result = finish_run(ctx)
    shutil.rmtree(result.out / WORK, ignore_errors=True)
    return result
