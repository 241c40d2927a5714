"""The validation gate: Great Expectations over a region's decisions and its payment batch, before any file.

A failing suite raises GateFailed naming each failed expectation and on how many rows; the region then writes
no payment file and takes no step in the ledger. Results go to a file-backed GX context under OUT/validation/,
whose Data Docs (one page per run and region, under OUT/validation/docs wherever OUT is moved) are made readable
offline, with an index of every validation, by ``datadocs``.
"""

from dataclasses import dataclass, field
from pathlib import Path

import pyarrow.compute as pc

from autogrant.expectations import suites
from autogrant.transforms import datadocs
from autogrant.transforms.datadocs import offline_docs
from autogrant.transforms.errors import GateFailed

DECISIONS_FRAME = """
SELECT d.uscc, d.decision, d.reasons, d.bank_account, d.bank_code,
       CAST(d.amount AS BIGINT) AS amount_fen, CAST(d.amount_due AS BIGINT) AS amount_due_fen,
       CAST(d.already_paid + d.amount AS BIGINT) AS paid_after_fen,
       CAST(d.headcount_ref AS BIGINT) AS headcount_ref,
       -- no cap for a unit above it that applied where the policy pays on application (over_cap route apply)
       CAST(CASE WHEN p.over_cap_by_application AND d.uscc IN (SELECT uscc FROM ledger_holds WHERE hold = 'APPLICATION_LODGED')
                 THEN 9223372036854775807 ELSE coalesce(p.headcount_cap, 9223372036854775807) END AS BIGINT) AS headcount_cap,
       -- the formula's own ceiling, recomputed: floor(rate x premium_base), or months x benefit x headcount, or where
       -- the policy has the premium standard and the unit premiums due on file, months x their monthly average if larger
       CAST(CASE WHEN p.amount_formula = 'premium_share' THEN coalesce(floor(d.rate * d.premium_base), 0)
                 ELSE greatest(coalesce(p.benefit_months * d.avg_monthly_benefit * d.headcount_ref, 0),
                               CASE WHEN p.premium_months_alt IS NOT NULL AND d.si_due_months > 0
                                    THEN (p.premium_months_alt * d.si_due_total_fen) // d.si_due_months ELSE 0 END) END AS BIGINT)
         AS formula_max_fen,
       d.region_code  -- to cut the frame of every region, read at once, by region; dropped before GX sees it
FROM {table} d CROSS JOIN policy p
WHERE {where}
ORDER BY {order}d.uscc
"""

BATCH_FRAME = """
SELECT payment_id, uscc, bank_account, bank_code, channel,
       payment_channel(amount_fen) AS channel_expected,
       CAST(amount_fen AS BIGINT) AS amount_fen, CAST(decision_amount_fen AS BIGINT) AS decision_amount_fen,
       CAST(paid_after_fen AS BIGINT) AS paid_after_fen, CAST(amount_due_fen AS BIGINT) AS amount_due_fen
FROM release_payments ORDER BY payment_id
"""


@dataclass
class GateResult:
    region: str
    suites: dict[str, int] = field(default_factory=dict)  # suite -> expectations evaluated
    failures: list[str] = field(default_factory=list)


class Gate:
    """One GX file context per run; ``validate_region`` per region; ``finish`` builds the offline Data Docs."""

    def __init__(self, out: Path, run_name: str, setup: bool = True):
        """setup=False: a fan-out worker's gate, which only runs the checkpoints the coordinator saved."""
        import great_expectations as gx
        from great_expectations.data_context.types.base import ProgressBarsConfig

        self.gx, self.run_name = gx, run_name
        self._pool, self._ahead = None, {}  # the gate's thread and its queued decisions gates (validate_ahead)
        self.root = Path(out) / "validation"
        self.docs = self.root / "docs"
        self.ctx = gx.get_context(mode="file", project_root_dir=str(self.root))
        self.ctx.variables.progress_bars = ProgressBarsConfig(globally=False)
        if not setup:
            self.checkpoints = {name: self.ctx.checkpoints.get(name) for name in suites.SUITES}
            return
        datadocs.ensure_site(self.ctx)  # relative to the context: a moved OUT writes its pages into itself
        source = self.ctx.data_sources.add_or_update_pandas("autogrant")
        self.checkpoints = {name: self._checkpoint(source, name, build()) for name, build in suites.SUITES.items()}

    def _checkpoint(self, source, name: str, suite):
        """Suite, validation definition and checkpoint of one suite, saved once a run; each region runs it."""
        gx = self.gx
        try:
            asset = source.get_asset(name)
        except LookupError:
            asset = source.add_dataframe_asset(name)
        names = [b.name for b in asset.batch_definitions]
        batch = asset.get_batch_definition("whole") if "whole" in names else asset.add_batch_definition_whole_dataframe("whole")
        suite = self.ctx.suites.add_or_update(suite)
        vd = self.ctx.validation_definitions.add_or_update(gx.ValidationDefinition(data=batch, suite=suite, name=name))
        return self.ctx.checkpoints.add_or_update(
            gx.Checkpoint(
                name=name,
                validation_definitions=[vd],
                actions=[],  # the Data Docs are built once, in finish()
                # failures name their units: the first rows failing, by USCC, with the values compared
                result_format={"result_format": "SUMMARY", "unexpected_index_column_names": ["uscc"]},
            )
        )

    def _run(self, name: str, frame, region: str, parameters: dict, result: GateResult) -> None:
        from great_expectations.core.run_identifier import RunIdentifier

        run = self.checkpoints[name].run(
            batch_parameters={"dataframe": frame},
            expectation_parameters=parameters,
            run_id=RunIdentifier(run_name=f"{self.run_name}-{region}"),
        )
        evaluated = 0
        for vr in run.run_results.values():
            for r in vr.results:
                evaluated += 1
                if not r.success:
                    n = r.result.get("unexpected_count")
                    observed = r.result.get("observed_value")
                    what = (
                        f"on {n} of {r.result.get('element_count', len(frame))} rows" if n is not None else f"observed {observed}"
                    )
                    kwargs = {k: v for k, v in r.expectation_config.kwargs.items() if k not in ("batch_id", "condition_parser")}
                    units = _failing_units(r.result.get("partial_unexpected_index_list") or [])
                    result.failures.append(f"{name}: {r.expectation_config.type} {kwargs} failed {what}{units}")
        expected = suites.EXPECTED_COUNTS[name]
        if evaluated != expected:  # an expectation GX could not load is dropped silently: never pass on fewer
            result.failures.append(f"{name}: {evaluated} expectations evaluated, {expected} expected")
        result.suites[name] = evaluated

    def validate_region(self, con, region: str, units_in_scope: int, table: str = "decision_details") -> GateResult:
        return self._decisions(_decisions_frame(con, region, table), region, units_in_scope)

    def _decisions(self, frame, region: str, units_in_scope: int) -> GateResult:
        result = GateResult(region)
        self._run("decisions", frame, region, {"units_in_scope": units_in_scope}, result)
        return result

    def validate_ahead(self, con, units_in_scope: dict[str, int], table: str = "decision_details") -> None:
        """Each region's decisions gate started now on the gate's own thread, which then runs every GX call of the
        night: GX is Python work, a region's settling is DuckDB's, so the gate of the next regions runs beside the
        settling of the one before (issue 13). Every region's rows are read here at once, before any region moves
        money (each region's frame is made from its slice on the gate's thread); a region waits for its result
        (``result_ahead``) before its ledger steps, exactly as if validated now."""
        from concurrent.futures import ThreadPoolExecutor

        self._pool = self._pool or ThreadPoolExecutor(1, thread_name_prefix="autogrant-gate")
        regions = sorted(units_in_scope)
        query = DECISIONS_FRAME.format(table=table, where="d.region_code IN (SELECT unnest(?))", order="d.region_code, ")
        for region, rows in by_region(con.sql(query, params=[regions]).to_arrow_table(), regions).items():
            self._ahead[region] = self._pool.submit(self._decisions_arrow, rows, region, units_in_scope[region])

    def _decisions_arrow(self, rows, region: str, units_in_scope: int) -> GateResult:
        return self._decisions(rows.to_pandas(), region, units_in_scope)  # the frame made on the gate's thread

    def result_ahead(self, region: str) -> GateResult | None:
        """The region's decisions gate started by ``validate_ahead``, waited for; None if it was not started."""
        future = self._ahead.pop(region, None)
        return None if future is None else future.result()

    def validate_batch(self, con, region: str, result: GateResult) -> None:
        frame = con.sql(BATCH_FRAME).to_arrow_table().to_pandas()
        # expected independently of the batch rows: tonight's PAY amounts of the units of the approved claims
        total, count = con.execute(
            """SELECT coalesce(sum(d.amount), 0), count(*) FROM decision_details d
               WHERE d.decision = 'PAY' AND d.uscc IN (SELECT uscc FROM release_rows WHERE payable)"""
        ).fetchall()[0]
        parameters = {"expected_total_fen": int(total), "expected_count": int(count)}
        if self._pool is None:
            self._run("payment_batch", frame, region, parameters, result)
        else:  # on the gate's thread, after the decisions gates queued before it: one GX call at a time
            self._pool.submit(self._run, "payment_batch", frame, region, parameters, result).result()

    def close(self, wait: bool = True) -> None:
        """The gate's thread ended: its queued work done (``wait``) or dropped (a night that stops)."""
        if self._pool is not None:
            self._pool.shutdown(wait=wait, cancel_futures=not wait)
            self._pool, self._ahead = None, {}

    def finish(self) -> Path:
        """Tonight's pages (its validations and the suites) built, not every night's again: the site grows by a
        night's pages, the time to build it does not (GX's index is not built either: ours replaces it)."""
        from great_expectations.data_context.types.resource_identifiers import ExpectationSuiteIdentifier

        self.close()
        tonight = [k for k in self.ctx.validation_results_store.list_keys() if k.run_id.run_name.startswith(f"{self.run_name}-")]
        ids = [ExpectationSuiteIdentifier(name=name) for name in suites.SUITES] + tonight  # fan-out workers' results too
        built = datadocs.built_since(self.docs)  # pages newer than the last index: a night that stopped left them
        self.ctx.build_data_docs(site_names=[datadocs.SITE], resource_identifiers=ids, build_index=False)
        offline_docs(self.docs, since=built)
        return datadocs.write_index(self.ctx, self.docs)  # GX's index needs bootstrap-table, which is not offline


def by_region(rows, regions: list[str]) -> dict:
    """Rows sorted by region_code, cut into each region's rows (a slice, no copy), region_code dropped: what
    ``_decisions_frame`` reads of each region, read at once. ValueError for rows not sorted so, or of another region."""
    codes, start, cut = rows.column("region_code"), 0, {}
    for region in regions:
        n = pc.sum(pc.equal(codes, region)).as_py() or 0
        part = rows.slice(start, n)
        if n and pc.min_max(part.column("region_code")).as_py() != {"min": region, "max": region}:
            raise ValueError(f"the rows are not sorted by region_code ({region})")
        cut[region] = part.drop_columns(["region_code"])
        start += n
    if start != len(rows):
        raise ValueError(f"{len(rows) - start} rows of a region not asked for")
    return cut


def _decisions_frame(con, region: str, table: str):
    query = DECISIONS_FRAME.format(table=table, where="d.region_code = ?", order="")
    return con.sql(query, params=[region]).to_arrow_table().drop_columns(["region_code"]).to_pandas()


UNITS_NAMED = 5  # units named per failed expectation; the count is always complete


def _failing_units(rows: list[dict]) -> str:
    """': uscc 9121… (amount_due_fen=5, paid_after_fen=9), …' for the first failing rows GX reports."""
    named = []
    for row in rows[:UNITS_NAMED]:
        values = ", ".join(f"{k}={_plain(v)}" for k, v in row.items() if k != "uscc")
        named.append(f"uscc {row.get('uscc')} ({values})" if values else f"uscc {row.get('uscc')}")
    return (": " + "; ".join(named) + (" …" if len(rows) > UNITS_NAMED else "")) if named else ""


def _plain(value) -> str:
    """numpy scalars as plain numbers, text as it is."""
    return str(value.item() if hasattr(value, "item") else value)


def raise_if_failed(result: GateResult) -> None:
    if result.failures:
        raise GateFailed(f"region {result.region}: " + "; ".join(result.failures))
