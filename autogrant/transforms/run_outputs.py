"""What a run publishes beside the ledger steps: a region's decisions files, and at the end of the run the
decisions assembled from every region folder, each region's record (run.json), the night's evidence, the quarantine,
and the manifest's figures (totals per region, reasons, ledger status, input hashes)."""

import json
import queue
import shutil
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict
from pathlib import Path

from autogrant.transforms import changes, clerk_lists, files
from autogrant.transforms.overpayments import write_overpayments
from autogrant.transforms.policy import LoadedPolicy
from autogrant.transforms.run_state import RunResult
from autogrant.transforms.version import code_version


def publish_night(con, res: RunResult, loaded: LoadedPolicy, args: dict, operator: str, gate, timer, files_written) -> None:
    """The end of a night: decisions assembled from every region folder, each region's record, the evidence,
    overpayments, quarantine, unregistered payers, bank reconciliation; ``files_written()`` (the notices written beside
    the night, on disk); then the gate's Data Docs, manifest, report. The Data Docs are built on a thread from the
    start (Great Expectations' pages, Python) while this thread writes the files (DuckDB, which lets go of the GIL)
    and waits for the notices; a failure there is raised in the reports stage, after the files."""
    # the block is left only once the pages are written (or failed), whether the files below failed or not
    with ThreadPoolExecutor(1, thread_name_prefix="autogrant-datadocs") as pool:
        docs_built = pool.submit(gate.finish) if gate is not None else None
        with timer.stage("files"):
            as_written = tables_are_the_files(con, res)
            assemble_decisions(con, res.out, res.policy_id, res.details_as_written if as_written else None)
            write_region_records(res, operator)
            night_evidence(con, res.out, loaded, as_written)
            res.overpayments = write_overpayments(con, res.out)
            write_quarantine(con, res.out)
            unregistered = clerk_lists.write_unregistered(con, res.out)  # payers missing from the register
            files.copy_query(con, "SELECT * EXCLUDE (policy_id) FROM bank_reconciliation ORDER BY source, line",
                             res.out / "bank_reconciliation.csv")  # fmt: skip
            files_written()
        with timer.stage("reports", quiet=True):  # the stage's progress line comes once, below
            docs = docs_built.result() if docs_built is not None else None
    with timer.stage("reports"):
        res.stages = timer.stages
        manifest = build_manifest(con, res, loaded, args)  # hashes every input file: once per run
        manifest["unregistered_payers"] = unregistered
        from autogrant.transforms.report import write_report

        write_report(con, res, manifest, docs)
    res.stages = timer.stages
    manifest["stages"] = [asdict(s) for s in res.stages]  # now with the reports stage
    files.write_text(res.out / "manifest.json", json.dumps(manifest, ensure_ascii=False, indent=2, default=str) + "\n")


def write_region_decisions(con, out: Path, region: str) -> dict | None:
    folder = out / "regions" / region
    con.execute("CREATE OR REPLACE TEMP TABLE region_out AS SELECT * FROM decisions_out WHERE region_code = ?", [region])
    diff = changes.region_changes(con, folder)
    files.copy_query(con, "SELECT * FROM region_out", folder / "decisions.csv")
    files.copy_query(con, "SELECT * FROM region_out", folder / "decisions.parquet", fmt="parquet")
    # straight from decision_details (the same bytes as through a temporary table, one copy of the region less)
    region_sql = "'" + region.replace("'", "''") + "'"
    details = f"SELECT * FROM decision_details WHERE region_code = {region_sql} ORDER BY uscc"
    files.copy_query(con, details, folder / "decision_details.parquet", fmt="parquet")
    return diff


class RegionFiles:
    """What each settled region publishes of its decisions (run.write_region_files: its decisions files, audit
    record and clerks' lists), written on threads of their own, each on a cursor of the night's connection, while
    the night goes on with the region's ledger steps and the next regions (issue 13: the files stage kept one of the
    two cores idle). Two threads: one of them kept up with the settling on a first night but not on a quiet second
    one, whose last regions' files were still being written seconds after the settling had ended. A file appears
    whole or not at all, as before (files.atomic_path). ``wait`` returns once every region handed over is on disk,
    its changes in the result, and raises the first failure: the night waits before it takes the decisions again
    after a release (the tables the writer reads) and before its top-level files."""

    THREADS = 2

    def __init__(self, con, res: RunResult):
        self._con, self._res = con, res
        self._cursors: queue.SimpleQueue | None = None  # one a thread, taken for a region's job and given back
        self._pool: ThreadPoolExecutor | None = None
        self._pending: list[tuple[str, Future]] = []

    def write(self, region: str, job: Callable[[object], dict | None]) -> None:
        """``job(cursor)`` on a thread: the region's files; it returns the region's changes (or None)."""
        if self._pool is None:
            self._cursors = queue.SimpleQueue()
            for _ in range(self.THREADS):
                self._cursors.put(self._con.cursor())
            self._pool = ThreadPoolExecutor(max_workers=self.THREADS, thread_name_prefix="autogrant-region-files")
        self._pending.append((region, self._pool.submit(self._run, job)))
        self._res.details_as_written.add(region)

    def _run(self, job: Callable[[object], dict | None]) -> dict | None:
        cursor = self._cursors.get()  # a cursor's temporary tables (region_out) are its own: one job at a time on it
        try:
            return job(cursor)
        finally:
            self._cursors.put(cursor)

    def wait(self) -> None:
        pending, self._pending = self._pending, []
        failure = None
        for region, future in pending:
            try:
                diff = future.result()
            except Exception as exc:  # every other region's files settled first; the first failure raised
                failure = failure or exc
                continue
            if diff is not None:
                self._res.region_changes[region] = diff
        if failure is not None:
            raise failure

    def close(self) -> None:
        """The threads ended and the cursors closed. After ``wait`` nothing is left to write; on a night that failed
        (an error, Ctrl-C) the regions not begun are dropped and those being written end (each file whole or not
        at all): a failed night publishes nothing top-level, and the next night writes every region again."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            while not self._cursors.empty():  # every job ended: each cursor is back in the queue
                self._cursors.get_nowait().close()
            self._pool = self._cursors = None


def tables_are_the_files(con, res: RunResult) -> bool:
    """Every region folder with a decisions file was written tonight from the connection's decisions as they still
    are (res.details_as_written), and the tables hold rows of those regions alone: the tables are then the union
    of the region files, and the night's top-level decisions and evidence need read no file back (issue 13). A
    rerun of one region, a stopped region or a release after a region was written: False."""
    on_disk = {p.parent.name for name in ("decisions.parquet", "decision_details.parquet")
               for p in (res.out / "regions").glob(f"*/{name}")}  # fmt: skip
    in_table = {r for (r,) in con.execute("SELECT DISTINCT region_code FROM decision_details").fetchall()}
    return on_disk == res.details_as_written >= in_table  # a region without units has its (empty) files


def assemble_decisions(con, out: Path, policy_id: str, written: set[str] | None) -> None:
    """OUT/decisions.csv and .parquet: every region folder of this policy, sorted by region_code, uscc. ``written``:
    the regions whose files hold decisions_out as it is (tables_are_the_files), or None; the rows are then
    decisions_out itself and the CSV is joined from the region files (join_region_csvs)."""
    if written is not None:
        policy_sql = "'" + policy_id.replace("'", "''") + "'"  # a view takes no parameter
        con.execute(f"CREATE OR REPLACE TEMP VIEW all_out AS SELECT * FROM decisions_out WHERE policy_id = {policy_sql}")
    elif not (parts := sorted((out / "regions").glob("*/decisions.parquet"))):
        con.execute("CREATE OR REPLACE TEMP TABLE all_out AS SELECT * FROM decisions_out WHERE false")
    else:
        con.execute(
            # union_by_name: a region decided before payee_account was appended (issue 16) beside one decided after
            "CREATE OR REPLACE TEMP TABLE all_out AS SELECT * FROM read_parquet(?, union_by_name = true) WHERE policy_id = ?"
            " ORDER BY region_code, uscc",
            [[p.as_posix() for p in parts], policy_id],
        )
    ordered = "SELECT * FROM all_out ORDER BY region_code, uscc"
    if written:
        join_region_csvs([out / "regions" / r / "decisions.csv" for r in sorted(written)], out / "decisions.csv")
    else:
        files.copy_query(con, ordered, out / "decisions.csv")
    files.copy_query(con, ordered, out / "decisions.parquet", fmt="parquet")


def join_region_csvs(parts: list[Path], path: Path) -> None:
    """decisions.csv as the region files' lines in region order, one header: each region file was written tonight
    from decisions_out (ordered by region_code, uscc) with the same columns, so this is the file a COPY of every
    region's rows writes, byte for byte, without formatting 300,000 rows a second time (issue 13)."""
    with files.atomic_path(path) as tmp, tmp.open("wb") as dst:
        header = None
        for part in parts:
            with part.open("rb") as src:
                first = src.readline()
                if header is None:
                    header = first
                    dst.write(first)
                elif first != header:  # never: every region file is cut from the one table
                    raise RuntimeError(f"{part} has other columns than the region files before it")
                shutil.copyfileobj(src, dst, 1 << 20)


RUN_RECORD = "run.json"


def read_region_records(out: Path, loaded: LoadedPolicy) -> dict[str, dict]:
    """regions/<code>/run.json of every region of the policy that has one (the region's last run), by code."""
    records = {}
    for code in loaded.rules.regions.value:
        path = Path(out) / "regions" / code / RUN_RECORD
        try:
            rec = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if rec.get("policy_id") == loaded.id:
            records[code] = rec
    return records


def write_region_records(res: RunResult, operator: str) -> None:
    """regions/<code>/run.json for each region of tonight's scope: this run (decided, or stopped and why) and the
    last run whose decisions the folder holds (tonight's, or an earlier one where tonight's stopped)."""
    failed = {f.region_code: f for f in res.failures}
    for code in res.regions:
        folder = res.out / "regions" / code
        try:
            before = json.loads((folder / RUN_RECORD).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            before = {}
        run_ = {"today": res.today.isoformat(), "as_of": res.as_of.isoformat(), "operator": operator}
        if code in failed:
            run_ |= {"status": "stopped", "kind": failed[code].kind, "message": failed[code].message}
            decided = before.get("decided") if before.get("policy_id") == res.policy_id else None
        elif code in res.decided_regions:
            run_ |= {"status": "decided"}
            decided = {"today": run_["today"], "as_of": run_["as_of"], "changes": res.region_changes.get(code)}
        else:
            continue
        record = {"policy_id": res.policy_id, "region_code": code, "last_run": run_, "decided": decided}
        files.write_text(folder / RUN_RECORD, json.dumps(record, ensure_ascii=False, indent=2) + "\n")


def night_evidence(con, out: Path, loaded: LoadedPolicy, as_written: bool) -> None:
    """decision_details becomes every region's last decided run (regions/<code>/decision_details.parquet), so that
    the manifest and the report cover every region of the policy after a rerun of one, as decisions.csv does; when
    ``as_written`` (tables_are_the_files) it is that already, and nothing is read."""
    if as_written:
        return
    parts = sorted(
        p.as_posix()
        for code in loaded.rules.regions.value
        if (p := Path(out) / "regions" / code / "decision_details.parquet").is_file()
    )
    if not parts:
        return
    con.execute(
        """CREATE OR REPLACE TABLE decision_details AS SELECT * FROM read_parquet(?, union_by_name = true)
           WHERE policy_id = ? ORDER BY region_code, uscc""",
        [parts, loaded.id],
    )


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
    return dict(rows) | dict(con.execute("SELECT decision, count(*) FROM decision_details GROUP BY ALL ORDER BY ALL").fetchall())


def ledger_status(con, policy_id: str) -> dict[str, dict]:
    """Per region: paid (released, net of returns), returned, pending (in notice or in a batch), in fen and units."""
    rows = con.execute(
        """SELECT region_code, 'paid' AS what, count(DISTINCT uscc) FILTER (WHERE kind = 'payment'), coalesce(sum(amount_fen), 0)
           FROM ledger.payments WHERE policy_id = ? GROUP BY ALL
           UNION ALL
           SELECT region_code, 'returned', count(*), coalesce(-sum(amount_fen), 0)
           FROM ledger.payments WHERE policy_id = ? AND kind = 'reversal' GROUP BY ALL
           UNION ALL
           SELECT region_code, 'pending_' || state, count(*), sum(amount_fen)
           FROM ledger.claims WHERE policy_id = ? AND state IN ('in_notice', 'batched') GROUP BY ALL
           ORDER BY ALL""",
        [policy_id, policy_id, policy_id],
    ).fetchall()
    out: dict[str, dict] = {}
    for region, what, n, fen in rows:
        out.setdefault(region, {})[what] = {"units": int(n), "amount_fen": int(fen)}
    return out


def build_manifest(con, result: RunResult, loaded: LoadedPolicy, args: dict) -> dict:
    """The night's evidence: this run's arguments, inputs and rows; decisions, reasons, changes, failures and
    ledger of every region of the policy, each with its last run (region_runs: regions/<code>/run.json)."""
    counts = {k: asdict(v) for k, v in sorted(result.ingest.counts.items())}
    records = read_region_records(result.out, loaded)
    failures = {f.region_code: asdict(f) | {"today": result.today.isoformat()} for f in result.failures}
    for code, rec in records.items():
        last = rec.get("last_run") or {}
        if code not in failures and last.get("status") == "stopped":
            failures[code] = {
                "region_code": code,
                "kind": last.get("kind"),
                "message": last.get("message"),
                "today": last.get("today"),
            }
    region_changes = {code: (rec.get("decided") or {}).get("changes") for code, rec in records.items()}
    region_changes = {k: v for k, v in region_changes.items() if v} | result.region_changes
    from autogrant.transforms import chain

    return {
        "policy_id": loaded.id,
        "policy_file": loaded.label,
        "policy_sha256": loaded.sha256,
        "code_version": code_version(),
        "arguments": args,
        "as_of": result.as_of.isoformat(),
        "today": result.today.isoformat(),
        "pay_by": loaded.pay_by(result.as_of).isoformat(),
        "regions": result.regions,
        "inputs": {
            p.name if p.parent.name == "" else str(p): result.ingest.digests.get(str(p)) or files.sha256_file(p)
            for p in sorted(result.ingest.input_files)
        },
        "rows": counts,
        "rows_balanced": result.ingest.balanced(),
        "drop_cache": result.drop_cache,
        **({"drop_cache_kept": result.drop_not_kept is None} if result.drop_cache == "miss" else {}),
        **({"drop_cache_not_kept": result.drop_not_kept} if result.drop_not_kept else {}),
        "ingest_warnings": result.ingest.warnings,
        "region_failures": [failures[k] for k in sorted(failures)],
        "region_runs": records,
        "regions_covered": sorted(records),
        "decisions": region_totals(con),
        "reasons": reason_counts(con),
        "changes": dict(sorted(region_changes.items())),
        "ledger": ledger_status(con, loaded.id),
        "ledger_chain": chain.head_dict(con),  # the hash chain's head: verify finds it again
        "released_batches": result.released_batches,
        "overpayments": result.overpayments,  # per region: units paid earlier beyond what is due now (overpayments.csv)
        "stages": [asdict(s) for s in result.stages],
    } | ({"workers": dict(sorted(result.workers.items()))} if result.workers else {})  # a fanned-out night's workers
