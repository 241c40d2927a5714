"""Reading a drop's files: which files (flat, or partitioned by region), their encoding (GB18030 transcoded to
UTF-8), their header (English or Chinese names), and each physical file loaded as text into a table of its lines."""

import contextvars
import csv
import io
from pathlib import Path

import duckdb

from autogrant.transforms.csv_prefetch import csv_ready
from autogrant.transforms.errors import InputError
from autogrant.transforms.schema import FileSpec

_PREFETCH: contextvars.ContextVar = contextvars.ContextVar("autogrant_csv_prefetch", default=None)


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


def _select_list(spec: FileSpec, present: set[str], trimmed: bool = False) -> str:
    """The spec's columns as trimmed text (empty: NULL), a missing one NULL; ``trimmed``: the cells are so already."""
    cols = []
    for c in spec.columns:
        if c.name in present:
            cols.append(f'"{c.name}"' if trimmed else f'NULLIF(trim(CAST("{c.name}" AS VARCHAR)), \'\') AS "{c.name}"')
        else:
            cols.append(f'CAST(NULL AS VARCHAR) AS "{c.name}"')
    return ", ".join(cols)


def _load_physical(con, spec: FileSpec, path: Path, label: str, workdir: Path, part: str) -> tuple[str, int]:
    """One physical file as a SELECT of (_file, line, the spec's columns as trimmed text); (select, rows read).

    Parquet is read where it lies (its row number gives the line); CSV is parsed once into the temp table
    ``<part>_in``, its cells trimmed on the way in and its structurally broken records going to quarantine;
    ``part`` is a view over it that adds the line numbers: the check's passes read the parsed, trimmed rows, with no
    second copy of them and no trim done twice."""
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

    prefetch = _PREFETCH.get()
    _, path = prefetch.get(path) if prefetch else csv_ready(path, workdir)
    names = map_header(spec, read_header(path), label)
    columns = "{" + ", ".join(f"'{n}': 'VARCHAR'" for n in names) + "}"
    con.execute("DROP TABLE IF EXISTS csv_rejects; DROP TABLE IF EXISTS csv_reject_scans")
    try:
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE {part}_in AS SELECT {_select_list(spec, set(names))} "
            f"FROM read_csv(?, header = true, auto_detect = false, "
            f"columns = {columns}, delim = ',', quote = '\"', escape = '\"', store_rejects = true, "
            f"rejects_table = 'csv_rejects', rejects_scan = 'csv_reject_scans')",
            [str(path)],
        )
    except duckdb.InvalidInputException as exc:  # a file DuckDB's parser cannot walk at all (no record to hold)
        reason = str(exc).splitlines()[0].removeprefix("Invalid Input Error: ")
        raise InputError(f"{label}: not a readable CSV file ({reason}); check its quotes and line breaks") from None
    good = con.execute(f"SELECT count(*) FROM {part}_in").fetchall()[0][0]
    rejected = con.execute("SELECT count(DISTINCT line) FROM csv_rejects").fetchall()[0][0]
    if rejected:  # record k (from 0) sits on line k + 2, plus one for each rejected line before it
        _reject_steps(con, part, good)
        shift = f"s._before[rid // {STEP_ROWS} + 1] + len(list_filter(s._within[rid // {STEP_ROWS} + 1], lambda x: x <= rid))"
        lines = f"(SELECT CAST(rid + 2 + {shift} AS BIGINT) AS line, * FROM (SELECT rowid AS rid, * FROM {part}_in) c, {part}_steps s)"
    else:
        lines = f"(SELECT CAST(rowid + 2 AS BIGINT) AS line, * FROM {part}_in)"
    con.execute(
        f"CREATE OR REPLACE TEMP VIEW {part} AS SELECT '{_quote(label)}' AS _file, line, "
        f"{_select_list(spec, set(names), trimmed=True)} FROM {lines}"
    )
    con.execute(
        """INSERT INTO quarantine
           SELECT ?, line, coalesce(any_value(column_name), '*'), any_value(csv_line),
                  'malformed CSV record: ' || string_agg(DISTINCT error_message, '; '), NULL
           FROM csv_rejects GROUP BY line""",
        [label],
    )
    return f"SELECT * FROM {part}", good + rejected


STEP_ROWS = 4096  # records a step of ``<part>_steps`` covers


def _reject_steps(con, part: str, good: int) -> None:
    """``<part>_steps``: where the records read stand against the rejected lines, for the line of each record.

    Record k is on line k + 2 + #{j : s_j <= k}, where L_0 < L_1 < ... are the rejected lines (csv_rejects) and
    s_j = L_j - 2 - j is the number of records read before L_j. One row of two lists, by step of STEP_ROWS records:
    _before[b + 1] the rejected lines before step b, _within[b + 1] the s_j that fall in it (mostly none). A record's
    line is then a lookup, not a join of every record with a table of every line: that join, repeated by each pass
    of the check over the file, took seconds on a roster with rejected lines (issue 13)."""
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE {part}_steps AS
        WITH rejected AS (SELECT line - 1 - row_number() OVER (ORDER BY line) AS s
                          FROM (SELECT DISTINCT line FROM csv_rejects WHERE line >= 2)),
        by_step AS (SELECT s // {STEP_ROWS} AS step, list(s ORDER BY s) AS within, count(*) AS n FROM rejected GROUP BY ALL)
        SELECT list(before ORDER BY step) AS _before, list(within ORDER BY step) AS _within
        FROM (SELECT a.step, CAST(coalesce(sum(coalesce(b.n, 0)) OVER (ORDER BY a.step ROWS BETWEEN UNBOUNDED PRECEDING
                                                                       AND 1 PRECEDING), 0) AS BIGINT) AS before,
                     coalesce(b.within, []) AS within
              FROM range(0, ? // {STEP_ROWS} + 1) a(step) LEFT JOIN by_step b USING (step))""",
        [good],
    )


def _drop_physical(con, path: Path, part: str) -> None:
    """What _load_physical made for a CSV part (Parquet is read in place: nothing)."""
    if path.suffix.lower() == ".csv":
        con.execute(f"DROP VIEW IF EXISTS {part}; DROP TABLE IF EXISTS {part}_in; DROP TABLE IF EXISTS {part}_steps")


def _quote(value) -> str:
    return str(value).replace("'", "''")
