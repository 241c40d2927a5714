"""The floor: bench/floor.sql, one DuckDB query, on a Parquet or a CSV drop; writes its decisions and prints its time
as JSON.

python -m bench.floor DROP OUT.parquet [WORKDIR]

A CSV drop is read as the agencies send it: a GB18030 file (any file that is not UTF-8) is first transcoded to UTF-8
in Python, streaming 4 MiB at a time (DuckDB reads UTF-8 only), into WORKDIR; then read_csv (all text) with each
Chinese column name renamed and each Chinese enum value mapped to its English name in the SELECT. The time printed
covers the transcoding and the query: ``transcode_s`` says how much of it was transcoding.
"""

import json
import sys
import tempfile
import time
from pathlib import Path

import duckdb

from autogrant.transforms.paths import REFERENCE_DIR
from autogrant.transforms.schema import DATA_FILES, ENUMS

HERE = Path(__file__).resolve().parent
REFERENCE = REFERENCE_DIR
EMPTY = {
    "dishonest": "(SELECT NULL::VARCHAR AS uscc, NULL::VARCHAR AS listed_date, NULL::VARCHAR AS removed_date WHERE false)",
    "zombie": "(SELECT NULL::VARCHAR AS uscc, NULL::VARCHAR AS listed_date WHERE false)",
    "prior": "(SELECT NULL::VARCHAR AS uscc, NULL::VARCHAR AS policy_id, NULL::VARCHAR AS amount WHERE false)",
}
SOURCES = {"units": "units", "roster": "roster", "payments": "payments", "region_funds": "region_funds",
           "dishonest": "lists/dishonest", "zombie": "lists/zombie", "prior": "prior_disbursements"}  # fmt: skip
SPECS = {spec.path: spec for spec in DATA_FILES}


def _sql_text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def is_utf8(path: Path) -> bool:
    try:
        with path.open("r", encoding="utf-8", newline="") as fh:
            while fh.read(1 << 22):
                pass
        return True
    except UnicodeDecodeError:
        return False


def transcode(path: Path, workdir: Path) -> Path:
    """GB18030 to UTF-8, streaming."""
    target = workdir / (path.parent.name + "_" + path.name)
    with path.open("r", encoding="gb18030", newline="") as src, target.open("w", encoding="utf-8", newline="") as dst:
        while chunk := src.read(1 << 22):
            dst.write(chunk)
    return target


def csv_source(path: Path, rel: str, workdir: Path) -> str:
    """read_csv of one CSV file, its columns renamed to the English names, Chinese enum values mapped."""
    if not is_utf8(path):
        path = transcode(path, workdir)
    spec = SPECS[rel]
    header = duckdb.sql(f"SELECT * FROM read_csv({_sql_text(path.as_posix())}, all_varchar = true) LIMIT 0").columns
    cols = []
    for raw in header:
        col = next((c for c in spec.columns if raw in (c.name, c.alias)), None)
        if col is None:
            continue
        ref = '"' + raw + '"'
        if col.kind == "enum":
            whens = " ".join(f"WHEN {_sql_text(zh)} THEN {_sql_text(en)}" for en, zh in ENUMS[col.enum].items())
            cols.append(f"CASE {ref} {whens} ELSE {ref} END AS {col.name}")
        else:
            cols.append(f"{ref} AS {col.name}")
    return f"(SELECT {', '.join(cols)} FROM read_csv({_sql_text(path.as_posix())}, header = true, all_varchar = true))"


def query(drop: Path, workdir: Path | None = None) -> str:
    workdir = Path(workdir or tempfile.gettempdir())
    fill = {"reference": REFERENCE.as_posix()}
    for key, rel in SOURCES.items():
        if (drop / f"{rel}.parquet").is_file():
            fill[key] = f"read_parquet({_sql_text((drop / f'{rel}.parquet').as_posix())})"
        elif (drop / f"{rel}.csv").is_file():
            fill[key] = csv_source(drop / f"{rel}.csv", rel, workdir)
        else:
            fill[key] = EMPTY[key]
    text = (HERE / "floor.sql").read_text(encoding="utf-8")
    for key, value in fill.items():
        text = text.replace("{" + key + "}", value)
    return text


def main(drop: str, out: str, workdir: str | None = None) -> None:
    with tempfile.TemporaryDirectory(dir=workdir) as tmp:
        t0 = time.perf_counter()
        sql = query(Path(drop), Path(tmp))
        transcoded = time.perf_counter() - t0
        con = duckdb.connect()
        con.execute(f"COPY ({sql}) TO {_sql_text(Path(out).as_posix())} (FORMAT parquet)")
        seconds = time.perf_counter() - t0
    print(json.dumps({"seconds": round(seconds, 3), "transcode_s": round(transcoded, 3)}))


if __name__ == "__main__":
    main(*sys.argv[1:4])
