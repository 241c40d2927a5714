"""The floor: bench/floor.sql, one DuckDB query, on a Parquet drop; writes its decisions and prints its time as JSON.

python -m bench.floor DROP OUT.parquet
"""

import json
import sys
import time
from pathlib import Path

import duckdb

from autogrant.transforms.paths import REFERENCE_DIR

HERE = Path(__file__).resolve().parent
REFERENCE = REFERENCE_DIR
EMPTY = {
    "dishonest": "(SELECT NULL::VARCHAR AS uscc, NULL::VARCHAR AS listed_date, NULL::VARCHAR AS removed_date WHERE false)",
    "zombie": "(SELECT NULL::VARCHAR AS uscc, NULL::VARCHAR AS listed_date WHERE false)",
    "prior": "(SELECT NULL::VARCHAR AS uscc, NULL::VARCHAR AS policy_id, NULL::VARCHAR AS amount WHERE false)",
}
OPTIONAL = {"dishonest": "lists/dishonest.parquet", "zombie": "lists/zombie.parquet", "prior": "prior_disbursements.parquet"}


def query(drop: Path) -> str:
    fill = {"drop": drop.as_posix(), "reference": REFERENCE.as_posix()}
    for key, rel in OPTIONAL.items():
        fill[key] = f"read_parquet('{(drop / rel).as_posix()}')" if (drop / rel).is_file() else EMPTY[key]
    text = (HERE / "floor.sql").read_text(encoding="utf-8")
    for key, value in fill.items():
        text = text.replace("{" + key + "}", value)
    return text


def main(drop: str, out: str) -> None:
    sql = query(Path(drop))
    con = duckdb.connect()
    t0 = time.perf_counter()
    con.execute(f"COPY ({sql}) TO '{Path(out).as_posix()}' (FORMAT parquet)")
    seconds = time.perf_counter() - t0
    print(json.dumps({"seconds": round(seconds, 3)}))


if __name__ == "__main__":
    main(*sys.argv[1:3])
