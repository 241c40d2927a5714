"""Writing a generated drop: its tables as CSV (English or Chinese column names and values, UTF-8 or GB18030),
Parquet, or hive-style Parquet partitioned by region (``units/region_code=<code>/part-0.parquet``), in the file
layout of ../shared/CONTRACT.md section 1."""

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from autogrant.transforms.schema import DATA_FILES, ENUMS, FileSpec

SPECS = {s.name: s for s in DATA_FILES}


def write_drop(tables: dict[str, pa.Table], out: Path, fmt: str = "csv", chinese: bool = False, gb18030: bool = False) -> None:
    out.mkdir(parents=True, exist_ok=True)
    regions = _unit_regions(tables) if fmt == "hive" else None
    for name, table in tables.items():
        spec: FileSpec = SPECS[name]
        if chinese:  # Chinese column names and Chinese enum values (单位类型 企业, 单位状态 正常, ...)
            for col in spec.columns:
                if col.enum and col.name in table.column_names:
                    zh = ENUMS[col.enum]
                    values = [None if v is None else zh.get(v, v) for v in table[col.name].to_pylist()]
                    table = table.set_column(table.column_names.index(col.name), col.name, pa.array(values, pa.string()))
            table = table.rename_columns([spec.column(c).alias for c in table.column_names])
        if regions is not None and name in PARTITIONED:
            _write_partitions(table, _region_of(tables[name], regions), out / spec.path)
            continue
        ext = "csv" if fmt == "csv" else "parquet"
        path = out / f"{spec.path}.{ext}"
        path.parent.mkdir(parents=True, exist_ok=True)
        if ext == "parquet":
            pq.write_table(table, path)
            continue
        pacsv.write_csv(table, path, pacsv.WriteOptions(quoting_style="needed"))
        if gb18030:
            path.write_bytes(path.read_text(encoding="utf-8").encode("gb18030"))


PARTITIONED = ("units", "roster", "payments")  # the big files; lists and fund positions are small and read whole
UNKNOWN_REGION = "none"  # rows whose USCC is in no unit's register row


def _unit_regions(tables: dict[str, pa.Table]) -> pa.Table:
    units = tables["units"]
    return pa.table({"uscc": units["uscc"], "region": pc.fill_null(units["region_code"], UNKNOWN_REGION)})


def _region_of(table: pa.Table, regions: pa.Table) -> pa.Array:
    """The region of each row: the region of the unit its USCC names (units: its own region_code)."""
    keyed = table.select(["uscc"]).append_column("_row", pa.array(np.arange(table.num_rows)))
    joined = keyed.join(regions.group_by("uscc").aggregate([("region", "min")]), "uscc", join_type="left outer")
    joined = joined.sort_by("_row")
    return pc.fill_null(joined["region_min"], UNKNOWN_REGION).combine_chunks()


def _write_partitions(table: pa.Table, region: pa.Array, folder: Path) -> None:
    """folder/region_code=<code>/part-0.parquet per region, rows in their original order."""
    for code in sorted(pc.unique(region).to_pylist()):
        part = folder / f"region_code={code}"
        part.mkdir(parents=True, exist_ok=True)
        pq.write_table(table.filter(pc.equal(region, code)), part / "part-0.parquet")
