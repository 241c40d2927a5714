"""One policy run from a data drop to files: ingest, facts, decisions, then per region the gate, the ledger and
the files. Plain functions: the Prefect flows (flows/) and the tests call them the same way.

    start_run       ingest, bank returns into the ledger, facts and decisions of every region in scope at once
    finish_region   gate (GX) -> approved batches released (ledger, then files) -> tonight's payments into the
                    decisions (refresh_after_release) -> decisions files and changes -> newly payable units into
                    public notice, ended notices into a batch awaiting approval
    finish_run      top-level decisions, quarantine, reconciliation, each region's record (regions/<code>/run.json),
                    then manifest and report over every region of the policy, each with its last run

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
import json
from dataclasses import asdict
from pathlib import Path

import duckdb

from autogrant.transforms import (
    clerk_lists,
    decide,
    files,
    home,
    identities,
    ingest,
    ledger,
    notice,
    other_scheme,
    progress,
    resources,
    signals,
    sqlsteps,
)
from autogrant.transforms.errors import GateFailed, InputError
from autogrant.transforms.faults import checkpoint
from autogrant.transforms.outreach import write_outreach
from autogrant.transforms.overpayments import write_overpayments
from autogrant.transforms.policy import LoadedPolicy, load
from autogrant.transforms.run_outputs import (
    assemble_decisions,
    build_manifest,
    night_evidence,
    write_quarantine,
    write_region_decisions,
    write_region_records,
)
from autogrant.transforms.run_state import DEFAULT_OPERATOR, RegionFailure, RunContext, RunResult, Timer, connect
from autogrant.transforms.workdays import add_working_days


def decide_drop(con, loaded: LoadedPolicy, data: Path, regions: list[str] | None, as_of: dt.date | None, timer: Timer):
    """Ingest the drop and decide every unit in scope, without a ledger; (scope, as_of, report, region errors)."""
    scope = decide.scope_regions(loaded, regions)
    with timer.stage("ingest"):
        report = ingest.ingest(con, Path(data))
    with timer.stage("facts"):
        as_of = decide.load_policy_tables(con, loaded, scope, as_of)
        region_errors = decide.compute_facts(con)
    with timer.stage("decisions"):
        decide.compute_decisions(con)
    return scope, as_of, report, region_errors


def _check_balanced(report: ingest.IngestReport) -> None:
    if not report.balanced():
        raise InputError(
            "rows read differ from rows staged + quarantined: "
            + ", ".join(
                f"{c.file} {c.rows_read} != {c.rows_staged} + {c.rows_quarantined}"
                for c in report.counts.values()
                if c.rows_read != c.rows_staged + c.rows_quarantined
            )
        )


def start_run(
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
) -> RunContext:
    loaded = loaded or load(policy_id)
    out, ledger_path = home.locate(out, loaded.id, ledger_path)
    today = home.parse_date(today, "today") or home.business_date()
    scope = decide.scope_regions(loaded, regions)
    preparers = identities.load()  # the operator prepares tonight's batches: a preparer of every region in scope
    for region in scope:
        preparers.require(operator, "prepare", region)
    if validate:
        resources.warm_gate()  # Great Expectations imported beside the ingest
    timer, con = Timer(), open_night(out, ledger_path)
    try:
        home.record_home(out, loaded.id, ledger_path)
        checkpoint("run started")
        with timer.stage("ingest"):
            report = ingest.ingest(con, Path(data))
            _check_balanced(report)
        checkpoint("ingested")
        with timer.stage("facts"):
            as_of = settle_returns(con, loaded, scope, as_of, today, operator, out)
            region_errors = decide.compute_facts(con)
        checkpoint("facts computed")
        with timer.stage("decisions"):
            decide.compute_decisions(con)
        checkpoint("decided")
        result = RunResult(loaded.id, out, as_of, today, scope, report)
        result.failures += [RegionFailure(e.region_code, "region", e.message) for e in region_errors]
        ctx = run_context(con, loaded, result, timer, operator, data, regions, validate)
        ctx.units_by_region = dict(con.execute("SELECT region_code, count(*) FROM decision_details GROUP BY ALL").fetchall())
        return ctx
    except BaseException:
        con.close()
        raise


def open_night(out: Path, ledger_path: Path | None) -> duckdb.DuckDBPyConnection:
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


def run_context(con, loaded: LoadedPolicy, result: RunResult, timer: Timer, operator: str, data: Path,
                regions: list[str] | None, validate: bool, **more_args) -> RunContext:  # fmt: skip
    """The RunContext of a started run, with its gate (GX suites and checkpoints saved) when it validates."""
    args = {"policy": loaded.id, "data": str(data), "out": str(result.out), "region": regions or [],
            "as_of": str(result.as_of), "today": str(result.today), "operator": operator} | more_args  # fmt: skip
    ctx = RunContext(con, loaded, result, timer, operator, args)
    if validate:
        with timer.stage("validation"):
            from autogrant.transforms.gate import Gate

            ctx.gate = Gate(result.out, f"{loaded.id}-{result.today:%Y%m%d}")
    return ctx


def finish_region(ctx: RunContext, region: str) -> None:
    """Gate, files and ledger steps of one region; a failure stays with the region (RegionFailure)."""
    con, res = ctx.con, ctx.result
    if region in {f.region_code for f in res.failures}:
        return
    checkpoint(f"region {region}")
    p = region_params(ctx, region)
    try:
        with ctx.timer.stage("validation"):
            ledger.release_candidates(con, p)
            if ctx.gate is not None:
                from autogrant.transforms.gate import raise_if_failed

                g = ctx.gate.validate_region(con, region, ctx.units_by_region.get(region, 0))
                if con.execute("SELECT count(*) FROM release_rows").fetchall()[0][0]:
                    ctx.gate.validate_batch(con, region, g)
                raise_if_failed(g)
        checkpoint(f"region {region} validated")
        with ctx.timer.stage("files"):
            res.decided_regions.append(region)
            move_money(ctx, p)
    except GateFailed as exc:
        res.failures.append(RegionFailure(region, "gate", str(exc)))
    stopped = next((f.message for f in res.failures if f.region_code == region), None)
    progress.region_done(region, res.regions.index(region) + 1, len(res.regions), stopped)


def region_params(ctx: RunContext, region: str) -> ledger.RunParams:
    notice_days = ctx.loaded.rules.notice_days.value
    today = ctx.result.today
    return ledger.RunParams(ctx.loaded.id, region, today, ctx.operator, notice_days, add_working_days(today, notice_days))


def move_money(ctx: RunContext, p: ledger.RunParams) -> None:
    """A decided region's ledger steps after its gate: approved batches released (ledger, then files), tonight's
    payments into the decisions, the region's decisions files, newly payable units into notice, ended notices into
    a batch awaiting approval, the notice lists written. Nothing is published before the release, so a unit
    paid tonight is never noticed again and its decision shows what the ledger paid it."""
    con, res = ctx.con, ctx.result
    res.released_batches += ledger.release(con, p, res.out)
    refresh_after_release(con)
    diff = write_region_decisions(con, res.out, p.region_code)
    from autogrant.transforms.audit import record_night

    record_night(con, res.out, p.region_code, p.today)  # the night's decisions, kept for `autogrant audit`
    clerk_lists.write_applications(con, res.out, ctx.loaded, p.region_code)  # units above the cap, to invite
    write_outreach(con, res.out, p.region_code)  # the held units and what each must supply, for the clerks who phone
    signals.write_list(con, res.out, p.region_code)  # the units a fraud signal holds, with what raised it
    if diff is not None:
        res.region_changes[p.region_code] = diff
    checkpoint(f"region {p.region_code} decisions written")
    ledger.advance(con, p)
    for (notice_id,) in con.execute("SELECT DISTINCT notice_id FROM new_claims").fetchall():
        notice.write_notice(con, res.out, p.region_code, notice_id)
    checkpoint(f"region {p.region_code} done")


def refresh_after_release(con) -> None:
    """After a release commit: the payments just entered added to each paid unit's already_paid, the ledger's
    state reloaded, and the decisions taken again (set-based, every unit at once) on the facts as they now are.
    A unit paid in full tonight is then ALREADY_PAID (amount 0), as the next night would decide it."""
    if not con.execute("SELECT count(*) FROM release_payments").fetchall()[0][0]:
        return
    sqlsteps.run(con, "52_after_release.sql")
    ledger.load_state(con)
    decide.compute_decisions(con)


def finish_run(ctx: RunContext) -> RunResult:
    con, res = ctx.con, ctx.result
    try:
        with ctx.timer.stage("files"):
            assemble_decisions(con, res.out, res.policy_id)
            write_region_records(res, ctx.operator)
            night_evidence(con, res.out, ctx.loaded)
            res.overpayments = write_overpayments(con, res.out)
            write_quarantine(con, res.out)
            unregistered = clerk_lists.write_unregistered(con, res.out)  # payers missing from the register
            files.copy_query(
                con,
                "SELECT * EXCLUDE (policy_id) FROM bank_reconciliation ORDER BY source, line",
                res.out / "bank_reconciliation.csv",
            )
        with ctx.timer.stage("reports"):
            docs = ctx.gate.finish() if ctx.gate is not None else None
            res.stages = ctx.timer.stages
            manifest = build_manifest(con, res, ctx.loaded, ctx.args)  # hashes every input file: once per run
            manifest["unregistered_payers"] = unregistered
            from autogrant.transforms.report import write_report

            write_report(con, res, manifest, docs)
        res.stages = ctx.timer.stages
        manifest["stages"] = [asdict(s) for s in res.stages]  # now with the reports stage
        files.write_text(res.out / "manifest.json", json.dumps(manifest, ensure_ascii=False, indent=2, default=str) + "\n")
        checkpoint("run finished")
        return res
    finally:
        con.close()


def run_policy(policy_id: str, data: Path, out: Path, **options) -> RunResult:
    """The whole run of one policy without Prefect; raises InputError for unusable input."""
    ctx = start_run(policy_id, data, out, **options)  # options: those of start_run
    try:
        for region in ctx.result.regions:
            finish_region(ctx, region)
    except BaseException:
        ctx.con.close()
        raise
    return finish_run(ctx)
