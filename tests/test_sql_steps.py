"""One small YAML test per SQL step (tests/sql_steps/<step>.yaml): a few input rows -> the rows the step makes.

Each file names the step, the tables it is given (columns with DuckDB types, rows; `ledger.claims` is table claims of
schema ledger, as the attached ledger gives it) and the table it must make
(the columns compared, the rows expected, in any order). Runs in milliseconds, without a drop or a policy file.
`ledger_schema: true` gives the ledger's own tables (sql/01_ledger_schema.sql, with its keys and checks, in an
in-memory database attached as ledger): a given `ledger.<table>` then only names the columns its rows fill.
`steps_before` names steps run first (what a night runs before the step, where the case gives their inputs).
`reference_tables: true` and `reference_macros: true` load what decide.load_reference_tables and
reference.define_macros (payment_channel) make.
"""

import datetime as dt
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
import yaml

from autogrant.transforms import reference, sqlsteps
from autogrant.transforms.decide import load_reference_tables
from autogrant.transforms.ingest import load_enums

CASES = sorted((Path(__file__).parent / "sql_steps").glob("*.yaml"))


def _plain(value):
    return str(value) if isinstance(value, Decimal | dt.date) else value


def _table(con, name: str) -> str:
    """A table name as SQL: a dotted name (ledger.claims) is a table in that schema (made on first use) or database."""
    if "." in name and not con.execute("SELECT 1 FROM duckdb_databases() WHERE database_name = 'ledger'").fetchall():
        schema, _ = name.split(".", 1)
        con.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
    return ".".join(f'"{part}"' for part in name.split(".", 1))


def _given(con, name: str, table: dict, exists: bool) -> None:
    """A table made with the given columns and rows; or, where it exists (the ledger's own), its rows only."""
    if not exists:
        columns = ", ".join(f'"{c}" {t}' for c, t in table["columns"].items())
        con.execute(f"CREATE TABLE {_table(con, name)} ({columns})")
    if table["rows"]:
        names = ", ".join(f'"{c}"' for c in table["columns"])
        marks = ", ".join("?" for _ in table["columns"])
        con.executemany(f"INSERT INTO {_table(con, name)} ({names}) VALUES ({marks})", table["rows"])


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_sql_step(path):
    case = yaml.safe_load(path.read_text(encoding="utf-8"))
    con = duckdb.connect()
    try:
        load_enums(con)
        sqlsteps.run(con, "00_macros.sql")
        if case.get("reference_tables"):
            load_reference_tables(con)
        if case.get("reference_macros"):
            reference.define_macros(con)
        if case.get("ledger_schema"):
            con.execute("ATTACH ':memory:' AS ledger")
            sqlsteps.run(con, "01_ledger_schema.sql")
        for name, table in case["given"].items():
            _given(con, name, table, exists=bool(case.get("ledger_schema")) and name.startswith("ledger."))
        for step in case.get("steps_before", []):
            sqlsteps.run(con, step)
        sqlsteps.run(con, case["step"])
        for name, table in case["expect"].items():
            cols = ", ".join(f'"{c}"' for c in table["columns"])
            rows = con.execute(f"SELECT {cols} FROM {_table(con, name)}").fetchall()
            got = sorted((tuple(_plain(v) for v in r) for r in rows), key=repr)
            want = sorted((tuple(r) for r in table["rows"]), key=repr)
            assert got == want, f"{case['step']} made {name}:\n  got  {got}\n  want {want}"
    finally:
        con.close()


def test_every_case_file_names_an_existing_step():
    steps = {p.name for p in sqlsteps.SQL_DIR.glob("*.sql")}
    assert CASES and all(yaml.safe_load(p.read_text(encoding="utf-8"))["step"] in steps for p in CASES)


def test_every_step_after_the_ledger_schema_has_a_case():
    """00-02 (macros, the ledger's tables, its entries) are the ground every case stands on; each later step has one."""
    named = {yaml.safe_load(p.read_text(encoding="utf-8"))["step"] for p in CASES}
    steps = [f for f, phase in sqlsteps.STEPS if phase not in ("macros", "ledger")]
    assert [f for f in steps if f not in named] == []


def test_roster_repeats_compare_the_spells_not_their_hashes(monkeypatch):
    """11_stage_roster.sql finds repeated spells among those whose hash is shared: with every spell given the same
    hash (the worst collision), only the spells whose person, unit and start_date are equal are still quarantined."""
    step, text = "11_stage_roster.sql", sqlsteps.text
    colliding = text(step).replace("hash(person_id, uscc, start_date)", "0")
    assert colliding.count("AND 0 IN (") == 1 and colliding.count("SELECT 0 FROM") == 1  # both passes: one hash for all
    monkeypatch.setattr(sqlsteps, "text", lambda name: colliding if name == step else text(name))
    test_sql_step(Path(__file__).parent / "sql_steps" / "11_stage_roster.yaml")
