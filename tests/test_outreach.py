"""The outreach list: every held unit of a region, once, with what each of its hold reasons asks it to supply."""

import csv

import duckdb
import pytest

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


@pytest.mark.slow  # a whole night through the CLI: CI runs it (pytest -m slow)
def test_a_night_writes_the_outreach_list_and_counts_the_units_that_left_hold(tmp_path):
    """Driven as the nightly is: night 1 holds a unit without an account and lists it for the clerks; the unit then
    supplies its account, night 2 no longer lists it and the manifest counts it as having left HOLD."""
    import json
    import subprocess
    import sys

    from autogrant.data_samples.drop_files import write_drop
    from autogrant.data_samples.edge_cases import DropBuilder

    b = DropBuilder(y=2020)
    b.fund(REGION)
    b.unit(REGION, name="鞍山甲有限公司")
    held = b.unit(REGION, name="鞍山乙有限公司", account=False)
    data, out = tmp_path / "drop", tmp_path / "out"
    write_drop(b.tables(), data)

    def night(day: str) -> dict:
        cmd = [sys.executable, "-m", "autogrant.flows.cli", "run", "--policy", "LN-2021", "--data", str(data),
               "--out", str(out), "--region", REGION, "--today", day]  # fmt: skip
        done = subprocess.run(cmd, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
        return json.loads((out / "manifest.json").read_text(encoding="utf-8"))

    night("2021-08-02")
    with (out / "outreach" / f"{REGION}.csv").open(encoding="utf-8-sig", newline="") as fh:
        listed = {r["统一社会信用代码"]: r for r in csv.DictReader(fh)}
    assert listed.keys() == {held} and listed[held]["需补充材料"] == NEEDS["BANK_ACCOUNT_MISSING"][0]

    unit = next(u for u in b.units if u["uscc"] == held)
    unit.update(bank_account="6222020200119999", bank_code="102222000011", account_name=unit["unit_name"])
    write_drop(b.tables(), data)
    manifest = night("2021-08-03")
    assert not (out / "outreach" / f"{REGION}.csv").exists()  # nobody is held any more
    assert manifest["changes"][REGION]["left_hold"] == 1
    assert "解除暂缓" in (out / "report.html").read_text(encoding="utf-8")
