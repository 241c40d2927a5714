"""Facts and decisions: the policy as tables, then the SQL steps 30-41 over every unit in scope at once."""

import contextlib
import csv
import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa

from autogrant.transforms import ingest, reasons, signals, sqlsteps
from autogrant.transforms.errors import InputError
from autogrant.transforms.paths import REFERENCE_DIR
from autogrant.transforms.policy import REGION_RATE, LoadedPolicy
from autogrant.transforms.run_state import Timer

DROP_LIST_STEPS = sqlsteps.phase("drop_lists")  # what the clerks get of the drop alone (unregistered payers)
SCOPE_STEPS = sqlsteps.phase("scope")
PERSON_STEPS = sqlsteps.phase("persons")  # the only steps that read ID numbers (the roster, the benefit claims)
DROP_FACT_STEPS = sqlsteps.phase("drop_facts")
LEDGER_FACT_STEPS = sqlsteps.phase("ledger_facts")
# 27-37: the drop and the policy alone; what transforms/drop_cache.py keeps of a night is what they make
DROP_STEPS = DROP_LIST_STEPS + SCOPE_STEPS + PERSON_STEPS + DROP_FACT_STEPS
# the staged tables a step after 27-37 reads (the others, the roster first, are done with once 27-37 have run)
STAGED_READ_AFTER = tuple(t for t in sqlsteps.read_outside(DROP_STEPS) if t.startswith("stg_"))
DECISION_STEPS = sqlsteps.phase("decisions")


@dataclass
class RegionError:
    region_code: str
    message: str


def scope_regions(loaded: LoadedPolicy, regions: list[str] | None) -> list[str]:
    """The policy's regions, or those of them named with --region (an unknown one is an input error)."""
    own = loaded.rules.regions.value
    if not regions:
        return list(own)
    unknown = [r for r in regions if r not in own]
    if unknown:
        raise InputError(f"region {', '.join(unknown)} is not a region of policy {loaded.id} (its regions: {', '.join(own)})")
    return sorted(set(regions))


def load_policy_tables(con, loaded: LoadedPolicy, regions: list[str], as_of: dt.date | None) -> dt.date:
    """Write the tables through which policy values reach SQL: policy (one row), policy_regions, policy_rate_arms."""
    r = loaded.rules
    as_of = as_of or r.default_as_of.value
    y = r.assessed_year.value
    limit = r.layoff_rate_max.value
    row = {
        "policy_id": loaded.id,
        "assessed_year": y,
        "year_start": dt.date(y, 1, 1),
        "year_end": dt.date(y, 12, 31),
        "reference_date": r.reference_date.value,
        "as_of": as_of,
        "headcount_cap": r.headcount_cap.value if r.headcount_cap else None,
        "over_cap_by_application": loaded.policy.over_cap_by_application,
        "layoff_formula": r.layoff_formula.value,
        "months_paid_min": r.months_paid_min.value if r.months_paid_min else None,
        "layoff_rate_max": None if limit == REGION_RATE else limit,
        "layoff_rate_max_from_region": limit == REGION_RATE,
        "layoff_comparison": r.layoff_comparison.value,
        "small_unit_max_headcount": r.small_unit_max_headcount.value if r.small_unit_max_headcount else None,
        "layoff_rate_max_small": r.layoff_rate_max_small.value if r.layoff_rate_max_small else None,
        "size_class_matters": loaded.policy.size_class_matters,
        "size_classes_covered": r.size_classes_covered.value if r.size_classes_covered else None,
        "amount_formula": r.amount_formula.value,
        "benefit_months": r.benefit_months.value if r.benefit_months else None,
        "premium_months_alt": r.premium_months_alt.value if r.premium_months_alt else None,
        "reserve_months_min": r.reserve_months_min.value,
        "adjustment_fund_allowed": r.adjustment_fund_allowed.value,
        "arrears_paid_up": r.arrears_paid_up.value,
        "exclude_dishonest": r.exclude_dishonest.value,
        "exclude_zombie": r.exclude_zombie.value,
        "double_dip_subsidy_types": r.double_dip_subsidy_types.value,
        "difficulty_list_required": r.difficulty_list_required.value,
        "eligible_unit_types": r.eligible_unit_types.value,
        "inactive_statuses": r.inactive_statuses.value,
        "fallback_payee": r.fallback_payee.value if r.fallback_payee else None,
        "size_classification": r.size_classification.value,
        "large_min_avg_insured": r.large_min_avg_insured.value if r.large_min_avg_insured else None,
    }
    cites = loaded.policy.cites()
    policy = pa.table(
        {k: [v] for k, v in row.items()}
        | {"cites": pa.array([list(cites.items())], type=pa.map_(pa.string(), pa.string()))}
        # where each reason code stands in the order a unit's reasons are listed (reference/reasons.yaml)
        | {"reason_position": pa.array([list(reasons.position().items())], type=pa.map_(pa.string(), pa.int32()))}
    )
    con.register("policy_in", policy)
    con.execute(
        """CREATE OR REPLACE TABLE policy AS SELECT * REPLACE (
               CAST(layoff_rate_max AS DECIMAL(12, 8)) AS layoff_rate_max,
               CAST(layoff_rate_max_small AS DECIMAL(12, 8)) AS layoff_rate_max_small,
               CAST(double_dip_subsidy_types AS VARCHAR[]) AS double_dip_subsidy_types,
               CAST(size_classes_covered AS VARCHAR[]) AS size_classes_covered,
               CAST(headcount_cap AS BIGINT) AS headcount_cap,
               CAST(small_unit_max_headcount AS BIGINT) AS small_unit_max_headcount,
               CAST(benefit_months AS BIGINT) AS benefit_months,
               CAST(premium_months_alt AS BIGINT) AS premium_months_alt,
               CAST(months_paid_min AS BIGINT) AS months_paid_min,
               CAST(fallback_payee AS VARCHAR) AS fallback_payee,
               CAST(large_min_avg_insured AS BIGINT) AS large_min_avg_insured)
           FROM policy_in"""
    )
    con.unregister("policy_in")
    con.execute("CREATE OR REPLACE TABLE policy_regions (region_code VARCHAR PRIMARY KEY)")
    con.executemany("INSERT INTO policy_regions VALUES (?)", [(c,) for c in regions])
    con.execute(
        """CREATE OR REPLACE TABLE policy_rate_arms (arm_no INTEGER, name VARCHAR, industries VARCHAR[],
           size_classes VARCHAR[], paid_up_arrears BOOLEAN, rate DECIMAL(6, 4), cite VARCHAR)"""
    )
    arms = [(i, a.name, a.industries, a.size_classes, a.paid_up_arrears, a.rate, a.cite) for i, a in enumerate(r.rate_arms)]
    if arms:  # a policy whose amount is not a share of the premium has none
        con.executemany("INSERT INTO policy_rate_arms VALUES (?, ?, ?, ?, ?, ?, ?)", arms)
    load_scheme_tables(con, loaded)
    signals.load_table(con)
    return as_of


def load_scheme_tables(con, loaded: LoadedPolicy) -> None:
    """policy_schemes and scheme_rate_arms: this policy's amount formula and, where it names one, its alternative's
    (alternative_scheme, e.g. 内蒙古工作方案 二(二)), so that sql/38_other_scheme.sql can compare the two amounts."""
    from autogrant.transforms.policy import load

    schemes = [(loaded.policy, True)]
    if loaded.rules.alternative_scheme:
        schemes.append((load(loaded.rules.alternative_scheme.value).policy, False))
    con.execute(
        """CREATE OR REPLACE TABLE policy_schemes (policy_id VARCHAR, is_self BOOLEAN, amount_formula VARCHAR,
           benefit_months BIGINT, reserve_months_min BIGINT, adjustment_fund_allowed BOOLEAN, difficulty_list_required BOOLEAN,
           premium_months_alt BIGINT)"""
    )
    con.execute(
        """CREATE OR REPLACE TABLE scheme_rate_arms (policy_id VARCHAR, arm_no INTEGER, industries VARCHAR[],
           size_classes VARCHAR[], paid_up_arrears BOOLEAN, rate DECIMAL(6, 4))"""
    )
    for pol, is_self in schemes:
        r = pol.rules
        con.execute(
            "INSERT INTO policy_schemes VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [pol.policy_id, is_self, r.amount_formula.value, r.benefit_months.value if r.benefit_months else None,
             r.reserve_months_min.value, r.adjustment_fund_allowed.value, r.difficulty_list_required.value,
             r.premium_months_alt.value if r.premium_months_alt else None],
        )  # fmt: skip
        arms = [(pol.policy_id, i, a.industries, a.size_classes, a.paid_up_arrears, a.rate) for i, a in enumerate(r.rate_arms)]
        if arms:
            con.executemany("INSERT INTO scheme_rate_arms VALUES (?, ?, ?, ?, ?, ?)", arms)


def load_reference_tables(con) -> None:
    """国统字〔2017〕213号 as tables; money thresholds in fen like the staged amounts."""
    with (REFERENCE_DIR / "nbs_2017_sectors.csv").open(encoding="utf-8") as fh:
        sectors = [(r["prefix"], r["sector"]) for r in csv.DictReader(fh)]
    with (REFERENCE_DIR / "nbs_2017_thresholds.csv").open(encoding="utf-8") as fh:
        scale = {"employees": 1, "revenue": 100, "total_assets": 100}
        thresholds = [
            (r["sector"], r["indicator"], *(int(r[k]) * scale[r["indicator"]] for k in ("large_min", "medium_min", "small_min")))
            for r in csv.DictReader(fh)
        ]
    con.execute("CREATE OR REPLACE TABLE ref_nbs_sectors (prefix VARCHAR, sector VARCHAR)")
    con.executemany("INSERT INTO ref_nbs_sectors VALUES (?, ?)", sectors)
    con.execute(
        """CREATE OR REPLACE TABLE ref_nbs_thresholds (sector VARCHAR, indicator VARCHAR,
           large_min BIGINT, medium_min BIGINT, small_min BIGINT)"""
    )
    con.executemany("INSERT INTO ref_nbs_thresholds VALUES (?, ?, ?, ?, ?)", thresholds)


def ensure_ledger_views(con) -> None:
    """Without a ledger (a first run, a what-if), nothing was paid and nothing is held by the workflow."""
    tables = {
        r[0] for r in con.execute("SELECT table_name FROM duckdb_tables() UNION SELECT view_name FROM duckdb_views()").fetchall()
    }
    if "ledger_paid" not in tables:
        con.execute("CREATE TABLE ledger_paid (uscc VARCHAR, amount_fen BIGINT)")
    if "ledger_holds" not in tables:
        con.execute("CREATE TABLE ledger_holds (uscc VARCHAR, hold VARCHAR, bank_account VARCHAR, bank_code VARCHAR)")
    if "ledger_other_scheme" not in tables:  # what the alternative scheme's own ledger paid (transforms/other_scheme.py)
        con.execute("CREATE TABLE ledger_other_scheme (uscc VARCHAR, amount_fen BIGINT)")


def require_files(con) -> None:
    """A policy that needs an optional file of the drop (benefit_claims.csv for layoff_formula
    benefit_claims_over_avg_insured) stops with one line when the drop lacks it (exit 2)."""
    formula = con.execute("SELECT layoff_formula FROM policy").fetchall()[0][0]
    if formula != "benefit_claims_over_avg_insured":
        return
    held = con.execute("SELECT count(*) FROM drop_files WHERE file LIKE 'benefit_claims%'").fetchall()[0][0]
    if not held:
        raise InputError(
            "benefit_claims.csv is missing from the data drop: the policy's layoff rate is the year's new"
            " unemployment-benefit claimants over the average monthly insured (layoff_formula benefit_claims_over_avg_insured)"
        )


def decide(con, loaded: LoadedPolicy, regions: list[str], as_of: dt.date | None, timer=None, kept: bool = False
           ) -> tuple[dt.date, list[RegionError]]:  # fmt: skip
    """The one way every unit is decided (a night's workers, simulate, explain): the policy as tables, then facts and
    decisions over every unit of the regions at once, on an ingested drop (and the ledger's state, where there is
    one). The as-of and the regions that cannot be decided. ``kept``: what steps 27-37 make of the drop (the person
    counts, the drop's facts and lists) is in the connection already (restored by transforms/drop_cache.py)."""
    timer = timer or Timer()
    with timer.stage("facts"):
        as_of = load_policy_tables(con, loaded, regions, as_of)
        errors = compute_facts(con, kept)
    with timer.stage("decisions"):
        compute_decisions(con)
    return as_of, errors


def decide_drop(con, loaded: LoadedPolicy, data, regions: list[str] | None, as_of: dt.date | None):
    """A drop ingested and decided without a ledger (explain --data, tests): (scope, as_of, errors)."""
    scope = scope_regions(loaded, regions)
    ingest.ingest(con, Path(data))
    as_of, errors = decide(con, loaded, scope, as_of)
    return scope, as_of, errors


def compute_facts(con, kept: bool = False) -> list[RegionError]:
    """Steps 27-39 (``kept``: 38 and 39 only, the others' tables restored by transforms/drop_cache.py); the regions
    whose region facts are missing."""
    require_files(con)
    load_reference_tables(con)
    ensure_ledger_views(con)
    for step in (() if kept else DROP_STEPS) + LEDGER_FACT_STEPS:
        sqlsteps.run(con, step)
    return [
        RegionError(code, f"region {code}: {missing}; no decision is written for it")
        for code, missing in con.execute(
            """SELECT region_code, missing FROM region_facts WHERE missing IS NOT NULL
               AND region_code IN (SELECT region_code FROM unit_facts) ORDER BY region_code"""
        ).fetchall()
    ]


@contextlib.contextmanager
def rows_unordered(con):
    """Within the block, tables this connection makes keep no row order (SET SESSION: the other cursors keep
    theirs); the setting comes back when the block ends, also on a failure."""
    con.execute("SET SESSION preserve_insertion_order = false")
    try:
        yield
    finally:
        con.execute("RESET SESSION preserve_insertion_order")


def compute_decisions(con) -> None:
    """40_decisions.sql's tables made in no row order: DuckDB then builds decision_details on both cores under the
    memory limit, where keeping the rows in order held it to one (issue 13: 1.38 -> 0.92 s at 300,000 units).
    Nothing reads them in their order: 41_decisions_out.sql sorts decisions_out, and every file and list made of
    them has an ORDER BY of its own."""
    for step in DECISION_STEPS:
        with rows_unordered(con) if step == "40_decisions.sql" else contextlib.nullcontext():
            sqlsteps.run(con, step)
    con.execute("DROP VIEW unit_flags; DROP VIEW unit_rules")  # 40_decisions' views, read by nothing after it
    trim_decisions_out(con, con.execute("SELECT fallback_payee IS NOT NULL FROM policy").fetchall()[0][0])


def trim_decisions_out(con, has_fallback_payee: bool) -> None:
    """decisions.csv carries the appended payee_account column only under a policy with fallback_payee: under any
    other policy every unit is paid to its register account and the file stays as CONTRACT.md section 3 has it."""
    if not has_fallback_payee:
        con.execute("ALTER TABLE decisions_out DROP COLUMN payee_account")
