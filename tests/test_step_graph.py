"""The declared step graph (transforms/sqlsteps.STEPS): every SQL file once, numbered in run order; each file's
header says what it reads and makes, truthfully; no step reads a table that only a later step makes."""

import re
from fnmatch import fnmatch

import pytest

from autogrant.transforms import sqlsteps
from autogrant.transforms.paths import SQL_DIR

NAMES = [f for f, _ in sqlsteps.STEPS]
WRITE = re.compile(
    r"\b(?:CREATE\s+(?:OR\s+REPLACE\s+)?(?:TEMP\s+|TEMPORARY\s+)?(?:TABLE|VIEW|MACRO)\s+(?:IF\s+NOT\s+EXISTS\s+)?"
    r"|INSERT\s+INTO\s+|UPDATE\s+|DELETE\s+FROM\s+|ALTER\s+TABLE\s+|RENAME\s+TO\s+)([a-z_][a-z0-9_.]*)",
    re.I,
)
READ = re.compile(r"\b(?:FROM|JOIN|ALTER\s+TABLE|UPDATE)\s+([a-z_][a-z0-9_.]*)(\s*\()?", re.I)
CTE = re.compile(r"(?:\bWITH\s+|,\s*)([a-z_][a-z0-9_]*)\s+AS\s*\(", re.I)


def _sql(name: str) -> str:
    text = sqlsteps.text(name)
    text = re.sub(r"--[^\n]*", "", text)  # comments
    return re.sub(r"'(?:[^']|'')*'", "''", text)  # strings


def writes(name: str) -> set[str]:
    return {m.group(1).lower() for m in WRITE.finditer(_sql(name))}


CREATE = re.compile(
    r"\b(?:CREATE\s+(?:OR\s+REPLACE\s+)?(?:TEMP\s+|TEMPORARY\s+)?(?:TABLE|VIEW|MACRO)\s+(?:IF\s+NOT\s+EXISTS\s+)?"
    r"|RENAME\s+TO\s+)([a-z_][a-z0-9_.]*)",
    re.I,
)


def reads(name: str) -> set[str]:
    """The tables a step reads that were there before it: not a CTE, and not read only after the step made it."""
    sql = _sql(name)
    ctes = {m.group(1).lower() for m in CTE.finditer(sql)}
    created: dict[str, int] = {}
    for m in CREATE.finditer(sql):
        created.setdefault(m.group(1).lower(), m.start())
    out = set()
    for m in READ.finditer(sql):
        before = sql[max(0, m.start() - 12) : m.start()].lower()
        if m.group(2) or re.search(r"\b(year|month|day|epoch|both|leading|trailing|distinct)\s*$", before):
            continue  # a table function, or extract(year FROM …)
        table = m.group(1).lower()
        if table not in ctes and m.start() < created.get(table, len(sql)):
            out.add(table)
    return out


def test_every_sql_file_is_a_step_once_and_numbers_are_the_run_order():
    assert sorted(p.name for p in SQL_DIR.glob("*.sql")) == sorted(NAMES)
    numbers = [int(n[:2]) for n in NAMES]
    assert numbers == sorted(numbers) and len(set(numbers)) == len(numbers)


@pytest.mark.parametrize("name", NAMES)
def test_the_header_says_what_the_step_makes_and_reads(name):
    declared_reads, declared_makes = sqlsteps.header(name)
    assert writes(name) == set(declared_makes), "Makes: must list every table, view or macro the step writes"
    undeclared = reads(name) - set(declared_reads) - set(declared_makes)
    assert not undeclared, f"read but not in Reads: {sorted(undeclared)}"
    unread = set(declared_reads) - reads(name)
    assert not unread, f"in Reads: but not read: {sorted(unread)}"


def test_no_step_reads_what_only_a_later_step_makes():
    made_by: dict[str, int] = {}
    for i, name in enumerate(NAMES):
        for table in sqlsteps.header(name)[1]:
            made_by.setdefault(table, i)
    for i, name in enumerate(NAMES):
        for table in sqlsteps.header(name)[0]:
            if any(fnmatch(table, pattern) for pattern in sqlsteps.MADE_BY_CODE):
                continue
            assert table in made_by, f"{name} reads {table}, which no step and no code makes"
            assert made_by[table] < i or made_by[table] == i, f"{name} reads {table}, made later by {NAMES[made_by[table]]}"


def test_the_graph_fails_on_a_step_that_reads_ahead(monkeypatch):
    """The check above can fail: a facts step that read the decisions would be caught."""
    real = sqlsteps.header

    def reading_ahead(name):
        r, m = real(name)
        return ([*r, "decision_details"], m) if name == "30_unit_facts.sql" else (r, m)

    monkeypatch.setattr(sqlsteps, "header", reading_ahead)
    with pytest.raises(AssertionError, match="made later by 40_decisions.sql"):
        test_no_step_reads_what_only_a_later_step_makes()


def test_the_code_runs_the_phases_in_the_declared_order():
    from autogrant.transforms import decide, ingest

    assert decide.DROP_LIST_STEPS == sqlsteps.phase("drop_lists") == ("27_unregistered_payers.sql",)
    assert decide.SCOPE_STEPS == sqlsteps.phase("scope") == ("28_scope_units.sql",)
    assert decide.PERSON_STEPS == sqlsteps.phase("persons") == ("29_person_counts.sql",)
    assert decide.DROP_FACT_STEPS == sqlsteps.phase("drop_facts")
    assert decide.LEDGER_FACT_STEPS == sqlsteps.phase("ledger_facts")
    assert decide.DECISION_STEPS == sqlsteps.phase("decisions")
    assert sorted(set(ingest.ROW_RULES.values())) == list(sqlsteps.phase("stage"))


def test_the_drop_cache_keeps_what_the_steps_after_the_drop_facts_read():
    """drop_cache.FACTS comes from the headers: what 27-37 make and 38 on read (a night from the cache runs 38 on),
    with the drop's lists for the clerks; drop_cache.STAGED: the staged tables a step after 27-37 reads."""
    from autogrant.transforms import decide, drop_cache

    assert drop_cache.FACTS == (
        "account_name_units",
        "region_facts",
        "unit_facts",
        "unit_rate_arm",
        "unit_size",
        "unregistered_payers",
    )
    # the staged tables read after 27-37: never the roster, the benefit claims (ID numbers) or the premium rows
    assert drop_cache.STAGED == ("stg_bank_returns", "stg_prior_disbursements", "stg_units")
    assert decide.DROP_STEPS == tuple(f for f, _ in sqlsteps.STEPS if 27 <= int(f[:2]) <= 37)
    assert sqlsteps.read_after(decide.LEDGER_FACT_STEPS) == ("unit_schemes", "unit_signals")
    assert sqlsteps.read_after(("40_decisions.sql",)) == ("decision_details",)
