"""One policy's night, one path whichever way it runs: the ledger process opens the night, workers decide
(transforms/worker.py), the ledger process settles each region and closes the night.

    open_night      ledger repair, the drop's files (the region partitions too when it decides here), bank returns
                    into the ledger, the ledger's state; the gate's suites saved
    decide          worker.decide_here (every region at once, in this process) or worker.decide_region (one region
                    on a Dask worker, flows/nightly.py) -> RegionDecision, each region's decisions gate included
    absorb          the decisions into the ledger process (read back from Parquet for workers elsewhere)
    settle_region   per region: approved batches (batch gate) released (ledger, then files) -> tonight's payments
                    into the decisions (refresh_after_release) -> decisions files and changes (on their own
                    thread, run_outputs.RegionFiles, beside the rest) -> newly payable units into public notice,
                    ended notices into a batch awaiting approval
    close_night     every region's files waited for; top-level decisions, quarantine, reconciliation, each region's
                    record (regions/<code>/run.json), then manifest and report over every region of the policy, each
                    with its last run

What is published (decisions, notices, report, manifest) is written after the region's release, so it agrees
with the ledger at the end of the night: a unit paid tonight is decided ALREADY_PAID with what it was paid.
Where OUT and the ledger are: transforms/home.py (locate), the one rule every way of running uses.

Output layout (OUT):
    decisions.csv / .parquet                every region present under regions/, sorted by region_code, uscc
    quarantine.csv, warnings.csv            rows held back at ingest; birthplace warnings
    overpayments.csv                        units paid earlier beyond what the policy grants now (追回)
    bank_reconciliation.csv                 each bank_returns row: matched, or its problem
    regions/<code>/                         decisions.csv|parquet, decision_details.parquet, changes.csv,
                                            run.json (the region's last run and its last decided run)
    notices/<code>/<notice_id>.csv|xlsx     public-notice lists (公示名单)
    payments/<code>/<batch_id>.csv          payment batches (+ .gb18030.csv), payments/manifest.json
    validation/docs/index.html              the gate's Data Docs, offline
    manifest.json, report.html
    ledger.duckdb                           the ledger (unless --ledger names another file)
"""

import datetime as dt
import functools
import shutil
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from autogrant.transforms import (
    clerk_lists,
    decide,
    drop_cache,
    files,
    home,
    identities,
    ingest,
    ledger,
    other_scheme,
    progress,
    resources,
    signals,
    sqlsteps,
    worker,
)
from autogrant.transforms.errors import GateFailed, InputError
from autogrant.transforms.faults import checkpoint
from autogrant.transforms.gate_frames import GateResult, raise_if_failed
from autogrant.transforms.gate_process import GateProcess
from autogrant.transforms.notice_writer import NoticeWriter
from autogrant.transforms.outreach import write_outreach
from autogrant.transforms.policy import LoadedPolicy, load
from autogrant.transforms.run_outputs import RegionFiles, publish_night, write_region_decisions
from autogrant.transforms.run_state import DEFAULT_OPERATOR, RegionFailure, RunResult, Timer, connect
from autogrant.transforms.workdays import add_working_days
from autogrant.transforms.worker import RegionDecision


@dataclass
class Night:
    """The ledger process's open night: its connection (the ledger attached), the policy, the result it fills,
    its stage timer and gate, and the run's arguments as the manifest records them."""

    con: duckdb.DuckDBPyConnection
    loaded: LoadedPolicy
    result: RunResult
    timer: Timer
    operator: str
    args: dict
    gate: GateProcess | None = None  # the validation gate's process (gate_process.py)
    apart: bool = False  # the regions are decided by workers in other processes (their tables come as Parquet)
    notices: NoticeWriter = field(default_factory=NoticeWriter)  # the workbooks beside the night; waited for at close
    cache: drop_cache.DropCache | None = None  # the drop's tables kept from the night before (decided here only)
    keeping: threading.Thread | None = None  # tonight's tables being kept for the next night (drop_cache.keep)
    ledger_file: Path | None = None  # sealed when the night ends well (ledger.seal)
    region_files: RegionFiles = field(init=False)  # each region's decisions files, written beside the settling

    def __post_init__(self):
        self.region_files = RegionFiles(self.con, self.result)

    def kept(self) -> None:
        """The thread that keeps the drop's tables (on a cursor of the connection) ended; what it could not keep,
        and why, into the result (the manifest and stderr say it)."""
        if self.keeping is not None:
            self.keeping.join()
            self.keeping = None
        if self.cache is not None and self.cache.not_kept:
            self.result.drop_not_kept = self.cache.not_kept

    def close(self) -> None:
        """The gate's process ended (killed, if the night stops before its Data Docs), the connection closed once
        the threads that keep the drop's tables and write the region files ended."""
        if self.gate is not None:
            self.gate.close(wait=False)
        self.region_files.close()
        self.kept()
        self.con.close()


Decide = Callable[[Night], list[RegionDecision]]


def decide_here(night: Night) -> list[RegionDecision]:
    """The in-process worker: every region in scope at once, in the night's own connection."""
    res, cache = night.result, night.cache
    kept = cache is not None and cache.state == "hit"
    decision = worker.decide_here(night.con, night.loaded, res.regions, res.as_of, None, night.timer, kept)
    if cache is not None and cache.state == "miss":
        with night.timer.stage("ingest", quiet=True):  # the drop as staged, kept for the next night on the same drop
            night.keeping = drop_cache.keep(night.con, cache, res.ingest)  # written beside the settling
    if night.gate is not None:  # each region's decisions gate beside the settling; a region waits for its own
        stopped = {f[0] for f in decision.failures}
        with night.timer.stage("validation"):
            night.gate.validate_ahead(night.con, {r: decision.units.get(r, 0) for r in decision.regions if r not in stopped})
    return [decision]


def run_policy(policy_id: str, data: Path, out: Path, decide_with: Decide = decide_here,
               settle_with: Callable[[Night, str], None] | None = None, **options) -> RunResult:  # fmt: skip
    """One policy's whole night: open, decide (``decide_with``: here, or on workers), absorb, settle each region
    (``settle_with``: settle_region, or a Prefect sub-flow around it), close. Raises InputError for unusable input.
    options: those of open_night."""
    with resources.few_collections():
        night = open_night(policy_id, data, out, partitions=decide_with is decide_here, **options)
        try:
            absorb(night, decide_with(night))
            for region in night.result.regions:
                (settle_with or settle_region)(night, region)
        except BaseException:
            night.close()
            raise
        return close_night(night)


def open_night(
    policy_id: str,
    data: Path,
    out: Path,
    regions: list[str] | None = None,
    as_of: dt.date | None = None,
    loaded: LoadedPolicy | None = None,
    today: dt.date | None = None,
    operator: str = DEFAULT_OPERATOR,
    ledger_path: Path | None = None,
    validate: bool = True,
    partitions: bool = True,
) -> Night:
    """The ledger process's start: the ledger repaired and checked, the drop read (``partitions``: the region
    partitions too; else they are the workers'), the bank returns into the ledger, the ledger's state. No unit is
    decided here."""
    loaded = loaded or load(policy_id)
    out, ledger_path = home.locate(out, loaded.id, ledger_path)
    today = home.parse_date(today, "today") or home.business_date()
    scope = decide.scope_regions(loaded, regions)
    preparers = identities.load()  # the operator prepares tonight's batches: a preparer of every region in scope
    for region in scope:
        preparers.require(operator, "prepare", region)
    gate = GateProcess() if validate else None  # Great Expectations imported in its process beside the ingest
    try:
        timer, con = Timer(), attach_ledger(out, ledger_path)
    except BaseException:
        if gate is not None:
            gate.close(wait=False)
        raise
    try:
        home.record_home(out, loaded.id, ledger_path)
        checkpoint("run started")
        # the drop (or its tables as the night before kept them), the ledger as the bank returns leave it
        with timer.stage("ingest"):
            cache = None
            if partitions and Path(data).is_dir():
                resolved = home.parse_date(as_of, "as-of") or loaded.rules.default_as_of.value
                cache = drop_cache.look(out, Path(data), {"policy": loaded.id, "policy_sha256": loaded.sha256,
                                                          "scope": scope, "as_of": str(resolved)})  # fmt: skip
            report = drop_cache.restore(con, cache) if cache is not None and cache.state == "hit" else None
            report = report or ingest.ingest(con, Path(data), regions=None if partitions else [])
            worker.require_balanced(report)
            checkpoint("ingested")
            as_of = settle_returns(con, loaded, scope, as_of, today, operator, out)
            if not partitions:
                worker.write_ledger_state(con, out)
        result = RunResult(loaded.id, out, as_of, today, scope, report, drop_cache=cache.state if cache else "off")
        args = {"policy": loaded.id, "data": str(data), "out": str(out), "region": regions or [], "as_of": str(as_of),
                "today": str(today), "operator": operator} | ({} if partitions else {"fan_out": True})  # fmt: skip
        night = Night(con, loaded, result, timer, operator, args, gate=gate, apart=not partitions, cache=cache,
                      ledger_file=home.ledger_file(out, ledger_path))  # fmt: skip
        if gate is not None:
            with timer.stage("validation"):
                gate.begin(out, f"{loaded.id}-{today:%Y%m%d}")
                if not partitions:
                    gate.ready()  # the suites saved before any worker runs them
        return night
    except BaseException:
        if gate is not None:
            gate.close(wait=False)
        con.close()
        raise


def attach_ledger(out: Path, ledger_path: Path | None) -> duckdb.DuckDBPyConnection:
    """A run's connection with the ledger attached, after repairing what a crashed run left: stale temporary files,
    and a ledger commit whose files were not written. A ledger whose hash chain, rows or payment files do not agree
    is refused first (GateFailed naming the first broken entry: nothing is released)."""
    con = connect()
    try:
        ledger.attach(con, home.ledger_file(out, ledger_path))
        from autogrant.transforms import chain

        chain.require_intact(con, home.ledger_file(out, ledger_path), out)
        files.clean_stale_tmp(out)
        ledger.write_pending_files(con, out)  # a crash between a ledger commit and its file is repaired first
        return con
    except BaseException:
        con.close()
        raise


def settle_returns(con, loaded: LoadedPolicy, scope: list[str], as_of: dt.date | None, today: dt.date, operator: str,
                   out: Path | None = None):  # fmt: skip
    """The policy's tables, the bank returns into the ledger, and the ledger's state the decisions read (with what
    the alternative scheme's ledger beside OUT paid, transforms/other_scheme.py); the as-of."""
    as_of = decide.load_policy_tables(con, loaded, scope, as_of)
    ledger.reconcile_returns(con, loaded.id, today, operator)
    ledger.load_state(con)
    if out is not None:
        other_scheme.load(con, loaded, out)
    return as_of


def absorb(night: Night, decisions: list[RegionDecision]) -> None:
    """The workers' decisions into the ledger process: failures, ingest counts and stage times, and, from workers
    elsewhere, their decisions, facts, quarantine and warnings (Parquet under OUT/.work/)."""
    con, res, timer = night.con, night.result, night.timer
    handed = sorted(d.handover for d in decisions if d.handover)
    for d in sorted(decisions, key=lambda d: d.regions):
        for label, c in d.counts.items():
            res.ingest.counts[label] = ingest.FileCount(**c)
        res.ingest.input_files += [Path(p) for p in d.input_files]
        for name, (seconds, peak) in d.stages.items():  # summed over workers: work done, not wall time
            timer.seconds[name] = timer.seconds.get(name, 0.0) + seconds
            timer.peak[name] = max(timer.peak.get(name, 0.0), peak)
        if d.handover:  # what one worker held for its region (README, Scale)
            res.workers[d.regions[0]] = {"units": sum(d.units.values()), "seconds": round(sum(s for s, _ in d.stages.values()), 2),
                                         "peak_mib": round(max((p for _, p in d.stages.values()), default=0.0), 1)}  # fmt: skip
        res.failures += [RegionFailure(*f) for f in d.failures]
    res.failures.sort(key=lambda f: f.region_code)
    checkpoint("decided")
    if not night.apart:
        return  # decided here: the tables are in this connection already
    worker.require_balanced(res.ingest)
    if not handed:  # every region's partitions were unusable input
        raise InputError("no region could be decided: " + "; ".join(f.message for f in res.failures))
    for table, part in (("quarantine", "quarantine.parquet"), ("ingest_warnings", "warnings.parquet")):
        con.execute(f"INSERT INTO {table} SELECT * FROM read_parquet(?)", [[f"{h}/{part}" for h in handed]])
    con.execute("CREATE OR REPLACE TABLE decision_details AS SELECT * FROM read_parquet(?) ORDER BY region_code, uscc",
                [[f"{h}/decision_details.parquet" for h in handed]])  # fmt: skip
    for table in worker.FACT_TABLES:
        con.execute(f"CREATE OR REPLACE TABLE {table} AS SELECT * FROM read_parquet(?, union_by_name = true)",
                    [[f"{h}/{table}.parquet" for h in handed]])  # fmt: skip
    for step in decide.DROP_LIST_STEPS:  # the clerks' lists of the whole drop, of what this process read of it
        sqlsteps.run(con, step)
    sqlsteps.run(con, "41_decisions_out.sql")
    decide.trim_decisions_out(con, night.loaded.rules.fallback_payee is not None)


def settle_region(night: Night, region: str) -> None:
    """The ledger steps of one decided region: the batch gate, then the money moved (move_money); a failure stays
    with the region (RegionFailure). A region that could not be decided or failed its decisions gate is skipped."""
    con, res = night.con, night.result
    if region not in {f.region_code for f in res.failures}:
        checkpoint(f"region {region}")
        p = region_params(night, region)
        try:
            with night.timer.stage("validation"):
                if night.gate is not None:
                    if (ahead := night.gate.result_ahead(region)) is not None:
                        raise_if_failed(ahead)  # its decisions gate, started by decide_here: failed, the region stops
                ledger.release_candidates(con, p)
                if night.gate is not None and con.execute("SELECT count(*) FROM release_rows").fetchall()[0][0]:
                    g = GateResult(region)
                    night.gate.validate_batch(con, region, g)
                    raise_if_failed(g)
            checkpoint(f"region {region} validated")
            with night.timer.stage("files"):
                res.decided_regions.append(region)
                move_money(night, p)
        except GateFailed as exc:
            res.failures.append(RegionFailure(region, "gate", str(exc)))
    stopped = next((f.message for f in res.failures if f.region_code == region), None)
    progress.region_done(region, res.regions.index(region) + 1, len(res.regions), stopped)


def region_params(night: Night, region: str) -> ledger.RunParams:
    notice_days = night.loaded.rules.notice_days.value
    today = night.result.today
    return ledger.RunParams(night.loaded.id, region, today, night.operator, notice_days, add_working_days(today, notice_days))


def move_money(night: Night, p: ledger.RunParams) -> None:
    """A decided region's ledger steps after its gate: approved batches released (ledger, then files), tonight's
    payments into the decisions, the region's decisions files (write_region_files, on their thread beside what
    follows), newly payable units into notice, ended notices into a batch awaiting approval, the notice lists
    written. Nothing is published before the release, so a unit paid tonight is never noticed again and its
    decision shows what the ledger paid it."""
    con, res = night.con, night.result
    res.released_batches += ledger.release(con, p, res.out)
    if refresh_after_release(con, night.region_files.wait):
        res.details_as_written.clear()  # the regions written before hold the decisions as they were
    # its decisions files, audit record and clerks' lists, on their thread while the ledger steps below go on
    night.region_files.write(p.region_code, functools.partial(write_region_files, night=night, p=p))
    checkpoint(f"region {p.region_code} decisions files begun")
    ledger.advance(con, p)
    for (notice_id,) in con.execute("SELECT DISTINCT notice_id FROM new_claims").fetchall():
        night.notices.write(con, res.out, p.region_code, notice_id)
    checkpoint(f"region {p.region_code} done")


def write_region_files(con, night: Night, p: ledger.RunParams) -> dict | None:
    """What a settled region publishes of its decisions, from the decisions as they are after its release (on the
    region files' thread: run_outputs.RegionFiles); its changes since its last run (None: no earlier run)."""
    out, region = night.result.out, p.region_code
    diff = write_region_decisions(con, out, region)
    from autogrant.transforms.audit import record_night

    record_night(con, out, region, p.today)  # the night's decisions, kept for `autogrant audit`
    clerk_lists.write_applications(con, out, night.loaded, region)  # units above the cap, to invite
    write_outreach(con, out, region)  # the held units and what each must supply, for the clerks who phone
    signals.write_list(con, out, region)  # the units a fraud signal holds, with what raised it
    return diff


def refresh_after_release(con, files_written: Callable[[], None]) -> bool:
    """After a release commit: the ledger's state reloaded (ledger_paid now holds the payments just entered), and
    the decisions taken again (set-based, every unit at once) on the drop's facts and that state: each paid unit's
    already_paid is what the drop records and the ledger paid (40_decisions.sql). A unit paid in full tonight is
    then ALREADY_PAID (amount 0), as the next night would decide it. True when the decisions were taken again,
    after ``files_written()`` (the region files being written read those tables)."""
    if not con.execute("SELECT count(*) FROM release_payments").fetchall()[0][0]:
        return False
    files_written()
    ledger.load_state(con)
    decide.compute_decisions(con)
    return True


def close_night(night: Night) -> RunResult:
    """The night's top-level files, records, manifest and report (run_outputs.publish_night); the connection closed,
    the ledger sealed."""

    def files_written() -> None:  # every notice whole on disk, and the drop kept or why not, before the manifest
        night.notices.wait()
        night.kept()

    try:
        night.region_files.wait()  # every region's files on disk before the top-level ones are made from them
        publish_night(night.con, night.result, night.loaded, night.args, night.operator, night.gate, night.timer, files_written)
        shutil.rmtree(night.result.out / worker.WORK, ignore_errors=True)
        checkpoint("run finished")
    finally:
        night.close()
    ledger.seal(night.ledger_file)  # the ledger as the night left it: the next night on it walks no index again
    return night.result
