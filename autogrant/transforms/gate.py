"""The validation gate: Great Expectations over a region's decisions and its payment batch, before any file.

A failing suite raises GateFailed naming each failed expectation and on how many rows; the region then writes
no payment file and takes no step in the ledger. Results go to a file-backed GX context under OUT/validation/,
whose Data Docs (one page per run and region, under OUT/validation/docs wherever OUT is moved) are made readable
offline, with an index of every validation, by ``datadocs``.

A night runs it in a process of its own (gate_process.py), a fan-out worker in its own process (validate_region).
"""

from pathlib import Path

from autogrant.expectations import suites
from autogrant.transforms import datadocs
from autogrant.transforms.datadocs import offline_docs
from autogrant.transforms.gate_frames import GateResult, region_frame


class Gate:
    """One GX file context per run; ``decisions`` and ``batch`` per region (``validate_region`` reads the region's rows
    itself); ``finish`` builds the offline Data Docs."""

    def __init__(self, out: Path, run_name: str, setup: bool = True):
        """setup=False: a fan-out worker's gate, which only runs the checkpoints the coordinator saved."""
        import great_expectations as gx
        from great_expectations.data_context.types.base import ProgressBarsConfig

        self.gx, self.run_name = gx, run_name
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
        """A region's decisions gate in this process (a fan-out worker's own region)."""
        return self.decisions(region_frame(con, region, table), region, units_in_scope)

    def decisions(self, rows, region: str, units_in_scope: int) -> GateResult:
        """The decisions suite over a region's rows (Arrow, gate_frames.DECISIONS_FRAME)."""
        result = GateResult(region)
        self._run("decisions", rows.to_pandas(), region, {"units_in_scope": units_in_scope}, result)
        return result

    def batch(self, rows, region: str, parameters: dict) -> GateResult:
        """The payment batch suite over tonight's released payments (Arrow, gate_frames.batch_frame)."""
        result = GateResult(region)
        self._run("payment_batch", rows.to_pandas(), region, parameters, result)
        return result

    def finish(self) -> Path:
        """Tonight's pages (its validations and the suites) built, not every night's again: the site grows by a
        night's pages, the time to build it does not (GX's index is not built either: ours replaces it)."""
        from great_expectations.data_context.types.resource_identifiers import ExpectationSuiteIdentifier

        tonight = [k for k in self.ctx.validation_results_store.list_keys() if k.run_id.run_name.startswith(f"{self.run_name}-")]
        ids = [ExpectationSuiteIdentifier(name=name) for name in suites.SUITES] + tonight  # fan-out workers' results too
        built = datadocs.built_since(self.docs)  # pages newer than the last index: a night that stopped left them
        self.ctx.build_data_docs(site_names=[datadocs.SITE], resource_identifiers=ids, build_index=False)
        offline_docs(self.docs, since=built)
        return datadocs.write_index(self.ctx, self.docs)  # GX's index needs bootstrap-table, which is not offline


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
