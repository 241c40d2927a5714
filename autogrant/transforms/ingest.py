"""Ingest: a data drop (CONTRACT.md section 1) into typed DuckDB tables ``stg_<file>`` plus ``quarantine``.

Every input row ends in exactly one of the two: rows read = rows staged + rows quarantined, per file.
Row rules run in SQL (sql/00_macros.sql for cells, sql/1x_stage_*.sql for rules across cells and rows),
so an 8-million-row roster is checked set-based, never row by row in Python.
"""

import codecs
import csv
import io
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
from stdnum import numdb

from autogrant.transforms import privacy, reference, sqlsteps
from autogrant.transforms.errors import InputError
from autogrant.transforms.faults import checkpoint
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

    def balanced(self) -> bool:
        return all(c.rows_read == c.rows_staged + c.rows_quarantined for c in self.counts.values())


def detect_encoding(path: Path) -> str:
    """UTF-8 (with or without BOM) when the file decodes as UTF-8, or when its well-formed multi-byte characters
    outweigh its broken sequences (a UTF-8 file with a few damaged bytes: DuckDB quarantines those records, where
    reading it as GB18030 would garble every Chinese name in it, silently); else GB18030 (a superset of GBK)."""
    with path.open("rb") as fh:
        if fh.read(3) == codecs.BOM_UTF8:
            return "utf-8-sig"
        fh.seek(0)
        decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        extra = broken = 0
        while chunk := fh.read(1 << 24):
            text = decoder.decode(chunk)
            extra += len(chunk) - len(text)  # the bytes beyond the first of each multi-byte character (2 per 汉字)
            broken += text.count("\ufffd")
        broken += decoder.decode(b"", final=True).count("\ufffd")
    return "utf-8" if broken == 0 or extra >= 2 * broken else "gb18030"


def transcode_to_utf8(path: Path, encoding: str, workdir: Path) -> Path:
    """DuckDB reads UTF-8 only (its encodings extension does not load): transcode in streaming chunks. A byte that is
    not GB18030 is carried over as it is (invalid UTF-8): DuckDB quarantines its record alone (INVALID ENCODING)."""
    target = workdir / f"{path.parent.name}_{path.name}.utf8.csv"
    escape = "surrogateescape"
    try:
        with (
            path.open("r", encoding=encoding, errors=escape, newline="") as src,
            target.open("w", encoding="utf-8", errors=escape, newline="") as dst,
        ):
            while chunk := src.read(1 << 22):
                dst.write(chunk)
    except (UnicodeDecodeError, UnicodeEncodeError) as exc:
        raise InputError(f"{path.name}: neither UTF-8 nor GB18030 text (byte {exc.start})") from None
    return target


def read_header(path: Path) -> list[str]:
    with path.open("r", encoding="utf-8-sig", errors="replace", newline="") as fh:  # a damaged name: a missing column
        first = fh.readline()
    if not first.strip():
        raise InputError(f"{path.name}: the file is empty (a header row is required)")
    return [h.strip() for h in next(csv.reader(io.StringIO(first)))]


def map_header(spec: FileSpec, header: list[str], label: str) -> list[str]:
    """Canonical names for a header given in English or in the Chinese aliases; extra columns are kept aside."""
    by_name = {c.name: c.name for c in spec.columns} | {c.alias: c.name for c in spec.columns}
    names, seen = [], set()
    for i, raw in enumerate(header):
        name = by_name.get(raw) or by_name.get(raw.lower()) or f"_extra_{i}"
        if name in seen:
            raise InputError(f"{label}: column '{name}' is given twice in the header")
        seen.add(name)
        names.append(name)
    for col in spec.columns:
        if col.required and col.name not in seen:
            raise InputError(f"{label}: required column '{col.name}' ({col.alias}) is missing")
    return names


PARTITION_KEY = "region_code"


def find_files(drop: Path, spec: FileSpec, regions: list[str] | None = None) -> list[Path]:
    """The physical files of one logical file: ``<path>.csv|.parquet``, the files of a folder (bank_returns/), or a
    folder partitioned by region, hive-style (``roster/region_code=210100/*.parquet``): then only the named regions'."""

    def data_files(folder: Path) -> list[Path]:
        return sorted(p for p in folder.glob("*") if p.is_file() and p.suffix.lower() in (".csv", ".parquet"))

    if spec.glob:
        folder = drop / spec.path
        return data_files(folder) if folder.is_dir() else []
    for ext in (".csv", ".parquet"):
        if (drop / f"{spec.path}{ext}").is_file():
            return [drop / f"{spec.path}{ext}"]
    folder = drop / spec.path
    if folder.is_dir():
        parts = sorted(p for p in folder.glob(f"{PARTITION_KEY}=*") if p.is_dir())
        if regions is not None:
            parts = [p for p in parts if p.name.split("=", 1)[1] in regions]
        return [f for part in parts for f in data_files(part)]
    return []


def _select_list(spec: FileSpec, present: set[str]) -> str:
    cols = []
    for c in spec.columns:
        if c.name in present:
            cols.append(f'NULLIF(trim(CAST("{c.name}" AS VARCHAR)), \'\') AS "{c.name}"')
        else:
            cols.append(f'CAST(NULL AS VARCHAR) AS "{c.name}"')
    return ", ".join(cols)


def _load_physical(con, spec: FileSpec, path: Path, label: str, workdir: Path, part: str) -> tuple[str, int]:
    """One physical file as a SELECT of (_file, line, the spec's columns as trimmed text); (select, rows read).

    Parquet is read where it lies (its row number gives the line); CSV is parsed once into the temp table ``part``,
    its structurally broken records going to quarantine."""
    if path.suffix.lower() == ".parquet":
        try:
            present = duckdb.sql("SELECT * FROM read_parquet(?) LIMIT 0", params=[str(path)]).columns
            rows = con.execute("SELECT count(*) FROM read_parquet(?)", [str(path)]).fetchall()[0][0]
        except duckdb.Error as exc:
            raise InputError(f"{label}: not a readable Parquet file ({str(exc).splitlines()[0]})") from None
        renamed = map_header(spec, sorted(present), label)
        inner = ", ".join(f'"{src}" AS "{dst}"' for src, dst in zip(sorted(present), renamed, strict=True))
        source = f"read_parquet('{_quote(path)}', file_row_number = true)"
        select = (
            f"SELECT '{_quote(label)}' AS _file, CAST(file_row_number + 2 AS BIGINT) AS line, "
            f"{_select_list(spec, set(renamed))} FROM (SELECT file_row_number, {inner} FROM {source})"
        )
        return select, rows

    encoding = detect_encoding(path)
    if encoding == "gb18030":
        path = transcode_to_utf8(path, encoding, workdir)
    names = map_header(spec, read_header(path), label)
    columns = "{" + ", ".join(f"'{n}': 'VARCHAR'" for n in names) + "}"
    con.execute("DROP TABLE IF EXISTS csv_rejects; DROP TABLE IF EXISTS csv_reject_scans")
    try:
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE csv_in AS SELECT * FROM read_csv(?, header = true, auto_detect = false, "
            f"columns = {columns}, delim = ',', quote = '\"', escape = '\"', store_rejects = true, "
            f"rejects_table = 'csv_rejects', rejects_scan = 'csv_reject_scans')",
            [str(path)],
        )
    except duckdb.InvalidInputException as exc:  # a file DuckDB's parser cannot walk at all (no record to hold)
        reason = str(exc).splitlines()[0].removeprefix("Invalid Input Error: ")
        raise InputError(f"{label}: not a readable CSV file ({reason}); check its quotes and line breaks") from None
    good = con.execute("SELECT count(*) FROM csv_in").fetchall()[0][0]
    rejected = con.execute("SELECT count(DISTINCT line) FROM csv_rejects").fetchall()[0][0]
    if rejected:
        # Line numbers: record k sits on line k + 1 (one line per record); rejected records skip their line.
        con.execute(
            """CREATE OR REPLACE TEMP TABLE csv_lines AS
               SELECT CAST(row_number() OVER (ORDER BY n) - 1 AS BIGINT) AS rid, n AS line
               FROM range(2, ? + 2) t(n) WHERE n NOT IN (SELECT line FROM csv_rejects)""",
            [good + rejected],
        )
        lines = "(SELECT rowid AS rid, * FROM csv_in) c JOIN csv_lines l USING (rid)"
    else:
        lines = "(SELECT CAST(rowid + 2 AS BIGINT) AS line, * FROM csv_in)"
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {part} AS SELECT ? AS _file, line, {_select_list(spec, set(names))} FROM {lines}",
        [label],
    )
    con.execute(
        """INSERT INTO quarantine
           SELECT ?, line, coalesce(any_value(column_name), '*'), any_value(csv_line),
                  'malformed CSV record: ' || string_agg(DISTINCT error_message, '; '), NULL
           FROM csv_rejects GROUP BY line""",
        [label],
    )
    con.execute("DROP TABLE csv_in; DROP TABLE IF EXISTS csv_lines")
    return f"SELECT * FROM {part}", good + rejected


def _quote(value) -> str:
    return str(value).replace("'", "''")


# Kinds whose values repeat (a few thousand dates, 300,000 USCCs over 8 million roster rows): each distinct value is
# checked and parsed once, in a dictionary table joined back to the rows. The others are checked row by row.
DICTIONARY_KINDS = {"uscc", "date", "month", "enum", "region", "year", "bool", "industry"}


def _ok_typed(c, v: str) -> tuple[str, str]:
    """The SQL that tells whether a non-empty value v of column c is well-formed, and its typed value."""
    if c.kind == "enum":
        return f"ok_enum('{c.enum}', {v})", f"to_enum('{c.enum}', {v})"
    return f"ok_{c.kind}({v})", f"to_{c.kind}({v})"


def _check_sql(con, spec: FileSpec) -> str:
    """Make chk_<file>: the typed columns and the cell errors of each raw row (kinds -> macros of sql/00_macros.sql)."""
    joins, norm, inner, typed, checks, fine = [], [], [], [], [], []
    has_uscc = any(c.name == "uscc" for c in spec.columns)
    for i, c in enumerate(spec.columns):
        col = f'"{c.name}"'
        if c.kind in DICTIONARY_KINDS:
            ok, to = _ok_typed(c, "v")
            d = f"dict_{spec.name}_{i}"
            con.execute(
                f"CREATE OR REPLACE TEMP TABLE {d} AS SELECT v, {ok} AS ok, CASE WHEN {ok} THEN {to} END AS typed"
                + (", to_uscc(v) AS key" if c.name == "uscc" else "")
                + f" FROM (SELECT DISTINCT {col} AS v FROM raw_{spec.name} WHERE {col} IS NOT NULL)"
            )
            joins.append(f"LEFT JOIN {d} ON r.{col} = {d}.v")
            norm.append(f"{d}.ok AS _ok_{i}, {d}.typed AS _typed_{i}")
            if c.name == "uscc":
                norm.append(f"{d}.key AS _uscc")
        elif c.kind == "person_id":  # normalised once, below, then checked
            norm.append(f"to_person_id(r.{col}) AS _norm_{i}")
            inner.append(f"ok_person_id_n(_norm_{i}) AS _ok_{i}, _norm_{i} AS _typed_{i}")
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
    return (
        f"CREATE OR REPLACE TABLE chk_{spec.name} AS SELECT _file, line, _uscc, "
        + ", ".join(typed)
        + f", CASE WHEN {' AND '.join(fine)} THEN [] ELSE list_filter(["  # the list is built for the bad rows only
        + ", ".join(checks)
        + f"], lambda e: e IS NOT NULL) END AS errors FROM (SELECT *{''.join(', ' + x for x in inner)} FROM (SELECT r.*, "
        + ", ".join(norm)
        + f" FROM raw_{spec.name} r "
        + " ".join(joins)
        + "))"
    )


def _finalize(con, spec: FileSpec) -> None:
    cols = ", ".join(f'"{c.name}"' for c in spec.columns)
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
    con.execute(
        f"CREATE OR REPLACE TABLE stg_{spec.name} AS SELECT {cols}, _file, line FROM chk_{spec.name} WHERE len(errors) = 0"
    )
    con.execute(f"DROP TABLE chk_{spec.name}; DROP VIEW raw_{spec.name}")


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
    for k in range(len(paths)):  # the CSV parts parsed into temp tables (Parquet is read in place)
        con.execute(f"DROP TABLE IF EXISTS rawpart_{spec.name}_{k}")
    checkpoint(f"staged {spec.name}")
    for label in labels:
        staged = con.execute(f"SELECT count(*) FROM stg_{spec.name} WHERE _file = ?", [label]).fetchall()[0][0]
        quarantined = con.execute("SELECT count(DISTINCT line) FROM quarantine WHERE file = ?", [label]).fetchall()[0][0]
        report.counts[label].rows_staged = staged
        report.counts[label].rows_quarantined = quarantined


def check_birthplaces(con) -> int:
    """Warn (never reject) on ID numbers whose first six digits name no district python-stdnum knows."""
    db = numdb.get("cn/loc")
    codes = [r[0] for r in con.execute("SELECT DISTINCT person_id[1:6] FROM stg_roster").fetchall()]
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
    con.execute("CREATE OR REPLACE TEMP TABLE quarantine_saved AS SELECT * FROM quarantine")
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


def ingest(con, drop: Path, regions: list[str] | None = None) -> IngestReport:
    """Stage every file of the drop; raises InputError for an unusable drop (missing file or column, control mismatch).

    ``regions``: of a drop partitioned by region, read only these regions' partitions (a flat file is read whole)."""
    drop = Path(drop)
    if not drop.is_dir():
        raise InputError(f"data folder {drop} " + ("is a file, not a folder" if drop.exists() else "does not exist"))
    load_enums(con)
    sqlsteps.run(con, "00_macros.sql")
    reference.define_macros(con)  # payment_channel(amount_fen), from reference/payment_channels.yaml
    report = IngestReport()
    con.execute(QUARANTINE_DDL)
    con.execute("CREATE OR REPLACE TABLE quarantine_amounts (file VARCHAR, amount_fen HUGEINT)")
    with tempfile.TemporaryDirectory(prefix="autogrant-ingest-") as tmp:
        for spec in DATA_FILES:
            stage_file(con, drop, spec, Path(tmp), report, regions)
        con.execute("CREATE OR REPLACE TABLE drop_files AS SELECT unnest(?::VARCHAR[]) AS file", [list(report.counts)])
        report.warnings = check_birthplaces(con)
        check_control(con, drop, report, Path(tmp))
    privacy.mask_ingest_tables(con)  # nothing written after ingest shows a full ID number
    return report
