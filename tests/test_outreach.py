"""The outreach list: every held unit of a region, once, with what each of its hold reasons asks it to supply."""

import csv

import duckdb

from autogrant.transforms.outreach import NEEDS, write_outreach
from tests.conftest import REGION, run_builder


def test_every_held_unit_is_listed_with_what_it_must_supply(builder, tmp_path):
    builder.unit(REGION, account=False)
    builder.unit(REGION, account_name="别的公司")
    builder.unit(REGION, name="=HYPERLINK(1)", account_name="=HYPERLINK(2)")
    builder.unit(REGION)
    decisions = run_builder(builder, tmp_path)
    held = {u: r for u, r in decisions.items() if r["decision"] == "HOLD"}
    assert len(held) == 3

    con = duckdb.connect()
    con.execute("CREATE MACRO yuan(fen) AS printf('%d.%02d', fen // 100, fen % 100)")
    con.execute(
        "CREATE TABLE decision_details AS SELECT * FROM read_parquet(?)",
        [str(tmp_path / "out" / "regions" / REGION / "decision_details.parquet")],
    )
    assert write_outreach(con, tmp_path, REGION) == 3
    with (tmp_path / "outreach" / f"{REGION}.csv").open(encoding="utf-8-sig", newline="") as fh:
        rows = {r["统一社会信用代码"]: r for r in csv.DictReader(fh)}
    assert rows.keys() == held.keys()
    for uscc, r in rows.items():
        assert r["暂缓原因"] == held[uscc]["reasons"]
        assert r["需补充材料"] == "；".join(NEEDS[c][0] for c in held[uscc]["reasons"].split(";"))
    assert all(not r["单位名称"].startswith("=") for r in rows.values())

    con.execute("DELETE FROM decision_details WHERE decision = 'HOLD'")
    assert write_outreach(con, tmp_path, REGION) == 0 and not (tmp_path / "outreach" / f"{REGION}.csv").exists()
