"""Ingest: a data drop (CONTRACT.md section 1) into typed DuckDB tables ``stg_<file>`` plus ``quarantine``.

Every input row ends in exactly one of the two: rows read = rows staged + rows quarantined, per file.
Row rules run in SQL (sql/00_macros.sql for cells, sql/1x_stage_*.sql for rules across cells and rows),
so an 8-million-row roster is checked set-based, never row by row in Python.
"""

import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from stdnum import numdb

from autogrant.transforms import privacy, reference, sqlsteps
from autogrant.transforms.csv_prefetch import Prefetch
from autogrant.transforms.errors import InputError
from autogrant.transforms.faults import checkpoint
from autogrant.transforms.ingest_read import _PREFETCH, PARTITION_KEY, _drop_physical, _load_physical, find_files
from autogrant.transforms.schema import CONTROL, DATA_FILES, ENUMS, FileSpec

QUARANTINE_DDL = """
CREATE OR REPLACE TABLE quarantine (
    file VARCHAR, line BIGINT, "column" VARCHAR, value VARCHAR, reason VARCHAR, uscc VARCHAR
)"""

# The row rules of each file beyond its cells (duplicate keys, end_date >= start_date, ...).
ROW_RULES = {
    "units": "10_stage_units.sql",
    "roster": "11_stage_roster.sql",
    "payments": "12_stage_payments.sql",
    "region_funds": "13_stage_region_funds.sql",
    "dishonest": "14_stage_lists.sql",
    "benefit_claims": "15_stage_benefit_claims.sql",
    "si_premiums_due": "16_stage_si_premiums_due.sql",
    "contribution_accounts": "17_stage_contribution_accounts.sql",
}


# What a clerk reads when a cell of a kind is malformed.
KIND_MESSAGES = {
    "uscc": "is not a valid USCC (18 characters, GB 32100-2015 check character)",
    "person_id": "is not a valid ID number (18 characters, GB 11643-1999 check digit, a real birth date)",
    "text": "is not text",
    "region": "is not a 6-digit region code",
    "industry": "is not a GB/T 4754-2017 industry code such as C3110",
    "count": "is not a whole number",
    "year": "is not a year YYYY",
    "money": "is not an amount in yuan >= 0 with at most 2 decimals, written like 1234.50 (no separator, sign or unit)",
    "signed_money": "is not an amount in yuan with at most 2 decimals, written like 1234.50 or -1234.50 (no separator or unit)",
    "account": "is not an account number (6 to 32 digits)",
    "cnaps": "is not a 12-digit bank code (CNAPS)",
    "date": "is not a date YYYY-MM-DD, YYYY/MM/DD or YYYYMMDD",
    "month": "is not a month YYYY-MM or YYYYMM (month 01 to 12)",
    "bool": "is not true or false",
    "ratio": "is not a ratio between 0 and 1",
}


@dataclass
class FileCount:
    file: str
    rows_read: int = 0
    rows_staged: int = 0
    rows_quarantined: int = 0


@dataclass
class IngestReport:
    counts: dict[str, FileCount] = field(default_factory=dict)
    input_files: list[Path] = field(default_factory=list)
    warnings: int = 0
    digests: dict[str, str] = field(default_factory=dict)  # SHA-256 by input file, where known (drop_cache.py)

    def balanced(self) -> bool:
        return all(c.rows_read == c.rows_staged + c.rows_quarantined for c in self.counts.values())


PERSON_TABLES = ("stg_roster", "stg_benefit_claims")  # the staged files that hold persons' ID numbers
# A staged file with an ID number also holds its key, the 17 digits as one integer (sql/00_macros.sql person_key), after
# the spec's columns: persons are grouped and counted on it (sql/29_person_counts.sql).
PERSON_KEY = "person_key"

# Kinds whose values repeat (a few thousand dates, 300,000 USCCs over 8 million roster rows): each distinct value is
# checked and parsed once, in a dictionary table joined back to the rows. The others are checked row by row.
DICTIONARY_KINDS = {"uscc", "date", "month", "enum", "region", "year", "bool", "industry"}


def _ok_typed(c, v: str) -> tuple[str, str]:
    """The SQL that tells whether a non-empty value v of column c is well-formed, and its typed value."""
    if c.kind == "enum":
        return f"ok_enum('{c.enum}', {v})", f"to_enum('{c.enum}', {v})"
    return f"ok_{c.kind}({v})", f"to_{c.kind}({v})"


def _dictionaries(spec: FileSpec) -> dict[int, str]:
    """The check's dictionary table of each column whose kind repeats (DICTIONARY_KINDS), by column number."""
    return {i: f"dict_{spec.name}_{i}" for i, c in enumerate(spec.columns) if c.kind in DICTIONARY_KINDS}


def _check_sql(con, spec: FileSpec) -> str:
    """Make chk_<file>: the typed columns and the cell errors of each raw row (kinds -> macros of sql/00_macros.sql)."""
    joins, norm, inner, typed, keys, checks, fine = [], [], [], [], [], [], []
    has_uscc = any(c.name == "uscc" for c in spec.columns)
    dictionaries = _dictionaries(spec)
    for i, c in enumerate(spec.columns):
        col = f'"{c.name}"'
        if i in dictionaries:
            ok, to = _ok_typed(c, "v")
            d = dictionaries[i]
            con.execute(
                f"CREATE OR REPLACE TEMP TABLE {d} AS SELECT v, {ok} AS ok, CASE WHEN {ok} THEN {to} END AS typed"
                + (", to_uscc(v) AS key" if c.name == "uscc" else "")
                + f" FROM (SELECT DISTINCT {col} AS v FROM raw_{spec.name} WHERE {col} IS NOT NULL)"
            )
            joins.append(f"LEFT JOIN {d} ON r.{col} = {d}.v")
            norm.append(f"{d}.ok AS _ok_{i}, {d}.typed AS _typed_{i}")
            if c.name == "uscc":
                norm.append(f"{d}.key AS _uscc")
        elif c.kind == "person_id":  # normalised once, below, then checked; its key kept (PERSON_KEY)
            norm.append(f"to_person_id(r.{col}) AS _norm_{i}")
            inner.append(f"ok_person_id_n(_norm_{i}) AS _ok_{i}, _norm_{i} AS _typed_{i}, person_key(_norm_{i}) AS _key_{i}")
            keys.append(f"CASE WHEN _ok_{i} THEN _key_{i} END AS {PERSON_KEY}")
        else:
            ok, to = _ok_typed(c, col)
            inner.append(f"{ok} AS _ok_{i}, {to} AS _typed_{i}")
        typed.append(f"CASE WHEN _ok_{i} THEN _typed_{i} END AS {col}")
        bad = f"is not one of: {', '.join(ENUMS[c.enum])} (or the Chinese name)" if c.kind == "enum" else KIND_MESSAGES[c.kind]
        fine.append(f"coalesce(_ok_{i}, {'false' if not c.nullable else f'{col} IS NULL'})")
        if not c.nullable:
            checks.append(f"CASE WHEN {col} IS NULL THEN {{'column': '{c.name}', 'value': NULL, 'reason': 'is empty'}} END")
        checks.append(
            f"CASE WHEN {col} IS NOT NULL AND NOT _ok_{i} THEN {{'column': '{c.name}', 'value': {col}, 'reason': '{bad}'}} END"
        )
    if not has_uscc:
        norm.append("CAST(NULL AS VARCHAR) AS _uscc")
    return (  # the columns of stg_<file> first, in its order: _finalize makes it of this table without a copy
        f"CREATE OR REPLACE TABLE chk_{spec.name} AS SELECT "
        + ", ".join(typed + keys)
        + ", _file, line, _uscc"
        + f", CASE WHEN {' AND '.join(fine)} THEN [] ELSE list_filter(["  # the list is built for the bad rows only
        + ", ".join(checks)
        + f"], lambda e: e IS NOT NULL) END AS errors FROM (SELECT *{''.join(', ' + x for x in inner)} FROM (SELECT r.*, "
        + ", ".join(norm)
        + f" FROM raw_{spec.name} r "
        + " ".join(joins)
        + "))"
    )


def _finalize(con, spec: FileSpec) -> None:
    if spec.amount_columns:
        amount = " + ".join(f'coalesce("{c}", 0)' for c in spec.amount_columns)
        con.execute(
            f"""INSERT INTO quarantine_amounts SELECT _file, sum({amount})
                FROM chk_{spec.name} WHERE len(errors) > 0 GROUP BY _file"""
        )
    con.execute(
        f"""INSERT INTO quarantine
            SELECT _file, line, e.column, e.value, e.reason, _uscc
            FROM (SELECT _file, line, _uscc, unnest(errors) AS e FROM chk_{spec.name} WHERE len(errors) > 0)"""
    )
    # stg_<file>: chk_<file> less its quarantined rows and its two working columns, renamed (no copy of the rows)
    con.execute(f"DROP TABLE IF EXISTS stg_{spec.name}; DELETE FROM chk_{spec.name} WHERE len(errors) > 0")
    con.execute(f"ALTER TABLE chk_{spec.name} DROP COLUMN errors; ALTER TABLE chk_{spec.name} DROP COLUMN _uscc")
    con.execute(f"ALTER TABLE chk_{spec.name} RENAME TO stg_{spec.name}; DROP VIEW raw_{spec.name}")
    for d in _dictionaries(spec).values():  # the check's dictionaries: their memory back
        con.execute(f"DROP TABLE {d}")


def _create_raw(con, spec: FileSpec, selects: list[str]) -> None:
    """raw_<file>: a view over the file's physical parts (none: no rows, same columns)."""
    empty = (
        "SELECT CAST(NULL AS VARCHAR) AS _file, CAST(NULL AS BIGINT) AS line, "
        + ", ".join(f'CAST(NULL AS VARCHAR) AS "{c.name}"' for c in spec.columns)
        + " WHERE false"
    )
    con.execute(f"CREATE OR REPLACE VIEW raw_{spec.name} AS " + " UNION ALL ".join(selects or [empty]))


def load_enums(con) -> None:
    con.execute("CREATE OR REPLACE TABLE ref_enum (field VARCHAR, raw VARCHAR, value VARCHAR)")
    rows = [(f, v, v) for f, m in ENUMS.items() for v in m] + [(f, zh, v) for f, m in ENUMS.items() for v, zh in m.items()]
    con.executemany("INSERT INTO ref_enum VALUES (?, ?, ?)", rows)


def stage_file(con, drop: Path, spec: FileSpec, workdir: Path, report: IngestReport, regions=None) -> None:
    paths = find_files(drop, spec, regions)
    if spec.required and not paths and not (drop / spec.path).is_dir():
        raise InputError(f"{spec.path}.csv is missing from the data drop {drop}")
    labels, selects = [], []
    for k, path in enumerate(paths):
        label = path.relative_to(drop).as_posix()
        labels.append(label)
        select, n = _load_physical(con, spec, path, label, workdir, f"rawpart_{spec.name}_{k}")
        selects.append(select)
        report.counts[label] = FileCount(label, rows_read=n)
        report.input_files.append(path)
    _create_raw(con, spec, selects)
    con.execute(_check_sql(con, spec))
    if spec.name in ROW_RULES:  # also over no rows: a step may make tables others read (units_quarantined)
        sqlsteps.run(con, ROW_RULES[spec.name])
    _finalize(con, spec)
    for k, path in enumerate(paths):
        _drop_physical(con, path, f"rawpart_{spec.name}_{k}")
    checkpoint(f"staged {spec.name}")
    for label in labels:
        staged = con.execute(f"SELECT count(*) FROM stg_{spec.name} WHERE _file = ?", [label]).fetchall()[0][0]
        quarantined = con.execute("SELECT count(DISTINCT line) FROM quarantine WHERE file = ?", [label]).fetchall()[0][0]
        report.counts[label].rows_staged = staged
        report.counts[label].rows_quarantined = quarantined


def check_birthplaces(con) -> int:
    """Warn (never reject) on ID numbers whose first six digits name no district python-stdnum knows."""
    db = numdb.get("cn/loc")
    keys = con.execute(f"SELECT DISTINCT {PERSON_KEY} // 100000000000 FROM stg_roster").fetchall()  # the 6 first digits
    codes = [f"{k:06d}" for (k,) in keys]
    unknown = [code for code in codes if not any(props for _, props in db.info(code))]
    con.execute(
        'CREATE OR REPLACE TABLE ingest_warnings (file VARCHAR, line BIGINT, "column" VARCHAR, value VARCHAR, warning VARCHAR)'
    )
    if unknown:
        con.execute("CREATE OR REPLACE TEMP TABLE unknown_districts AS SELECT unnest(?) AS code", [unknown])
        con.execute(
            """INSERT INTO ingest_warnings SELECT _file, line, 'person_id', person_id,
                   'birthplace code ' || person_id[1:6] || ' is not a known district (check only a warning)'
               FROM stg_roster WHERE person_id[1:6] IN (SELECT code FROM unknown_districts)"""
        )
    return con.execute("SELECT count(*) FROM ingest_warnings").fetchall()[0][0]


def check_control(con, drop: Path, report: IngestReport, workdir: Path) -> None:
    """control.csv: every file it names must match exactly, or the run stops before any decision."""
    paths = find_files(drop, CONTROL)
    if not paths:
        return
    scratch = IngestReport()
    con.execute("CREATE OR REPLACE TABLE quarantine_saved AS SELECT * FROM quarantine")  # a table, as it was
    stage_file(con, drop, CONTROL, workdir, scratch)
    report.input_files.extend(scratch.input_files)
    bad = con.execute("SELECT line, \"column\", reason FROM quarantine WHERE file LIKE 'control.%' ORDER BY line").fetchall()
    if bad:
        line, column, reason = bad[0]
        raise InputError(f"control.csv line {line}: {column} {reason}")
    con.execute("DROP TABLE quarantine; ALTER TABLE quarantine_saved RENAME TO quarantine")
    specs = {s.path: s for s in DATA_FILES}
    for file, rows, amount_total in con.execute("SELECT file, rows, amount_total FROM stg_control ORDER BY line").fetchall():
        count = report.counts.get(file)
        if count is None and f"/{PARTITION_KEY}=" in file and (drop / file).is_file():
            continue  # another region's partition, not read by this run
        if count is None:
            raise InputError(f"control.csv names {file}, which is not in the data drop")
        got = count.rows_staged + count.rows_quarantined
        if got != rows:
            raise InputError(
                f"control.csv: {file} declares {rows} rows, the drop holds {got} (staged {count.rows_staged} + quarantined {count.rows_quarantined})"
            )
        spec = specs.get(file.rsplit(".", 1)[0]) or specs.get(file.split("/", 1)[0])
        if amount_total is not None and spec is not None and spec.amount_columns:
            total = _amount_total(con, spec, file)
            if total != amount_total:
                raise InputError(
                    f"control.csv: {file} declares an amount total of {amount_total / 100:.2f} yuan, "
                    f"the drop sums to {total / 100:.2f}"
                )


def _amount_total(con, spec: FileSpec, file: str) -> int:
    """Σ of the amount columns over the rows as sent: staged rows plus quarantined rows whose amounts parse."""
    cols = " + ".join(f'coalesce("{c}", 0)' for c in spec.amount_columns)
    staged = con.execute(f"SELECT coalesce(sum({cols}), 0) FROM stg_{spec.name} WHERE _file = ?", [file]).fetchall()[0][0]
    held = con.execute("SELECT coalesce(sum(amount_fen), 0) FROM quarantine_amounts WHERE file = ?", [file]).fetchall()[0][0]
    return int(staged) + int(held)


def prepare(con) -> None:
    """What the ingest defines before any file, and what later steps use too: the enums, the macros."""
    load_enums(con)
    sqlsteps.run(con, "00_macros.sql")
    reference.define_macros(con)  # payment_channel(amount_fen), from reference/payment_channels.yaml


def ingest(con, drop: Path, regions: list[str] | None = None) -> IngestReport:
    """Stage every file of the drop; raises InputError for an unusable drop (missing file or column, control mismatch).

    ``regions``: of a drop partitioned by region, read only these regions' partitions (a flat file is read whole)."""
    drop = Path(drop)
    if not drop.is_dir():
        raise InputError(f"data folder {drop} " + ("is a file, not a folder" if drop.exists() else "does not exist"))
    prepare(con)
    report = IngestReport()
    con.execute(QUARANTINE_DDL)
    con.execute("CREATE OR REPLACE TABLE quarantine_amounts (file VARCHAR, amount_fen HUGEINT)")
    csvs = [p for spec in DATA_FILES for p in find_files(drop, spec, regions) if p.suffix.lower() == ".csv"]
    with (
        tempfile.TemporaryDirectory(prefix="autogrant-ingest-") as tmp,
        Prefetch(csvs, Path(tmp)) as ahead,
    ):
        token = _PREFETCH.set(ahead)  # encodings found and GB18030 transcoded ahead (csv_prefetch.py)
        try:
            for spec in DATA_FILES:
                stage_file(con, drop, spec, Path(tmp), report, regions)
        finally:
            _PREFETCH.reset(token)
        con.execute("CREATE OR REPLACE TABLE drop_files AS SELECT unnest(?::VARCHAR[]) AS file", [list(report.counts)])
        report.warnings = check_birthplaces(con)
        check_control(con, drop, report, Path(tmp))
    privacy.mask_ingest_tables(con)  # nothing written after ingest shows a full ID number
    return report
