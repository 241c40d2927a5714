"""Ingest (CONTRACT.md section 1): encodings, header languages, Parquet, quarantine accounting, control totals."""

import re
import subprocess
import sys

import pytest

from autogrant.data_samples.drop_files import write_drop
from autogrant.data_samples.edge_cases import DropBuilder, boundary_units
from autogrant.transforms.errors import InputError
from autogrant.transforms.run import run_policy
from tests.conftest import REGION, read_decisions


@pytest.fixture(scope="module")
def tables():
    b = DropBuilder(y=2020)
    b.fund(REGION)
    boundary_units(b, REGION)
    return b.tables()


def decide(tables, tmp_path, **fmt):
    write_drop(tables, tmp_path / "drop", **fmt)
    run_policy("LN-2021", tmp_path / "drop", tmp_path / "out", validate=False)
    return (tmp_path / "out" / "decisions.csv").read_bytes()


def test_gb18030_chinese_headers_and_parquet_give_identical_decisions(tables, tmp_path):
    plain = decide(tables, tmp_path / "a")
    assert decide(tables, tmp_path / "b", chinese=True, gb18030=True) == plain
    assert decide(tables, tmp_path / "c", fmt="parquet") == plain
    assert (tmp_path / "b" / "drop" / "units.csv").read_bytes().decode("gb18030").startswith('"统一社会信用代码"')


def test_a_drop_partitioned_by_region_decides_as_the_flat_one_and_a_region_reads_only_its_partitions(tmp_path):
    import duckdb

    from autogrant.transforms import ingest

    b = DropBuilder(y=2020)
    for region in ("210300", "210400"):
        b.fund(region)
        for start in (5, 40):
            b.unit(region, start=start)
    write_drop(b.tables(), tmp_path / "flat")
    write_drop(b.tables(), tmp_path / "hive", "hive")
    for name in ("flat", "hive"):
        run_policy("LN-2021", tmp_path / name, tmp_path / f"out-{name}", validate=False)
    assert (tmp_path / "out-flat" / "decisions.csv").read_bytes() == (tmp_path / "out-hive" / "decisions.csv").read_bytes()
    con = duckdb.connect()
    report = ingest.ingest(con, tmp_path / "hive", regions=["210400"])
    partitioned = [f for f in report.counts if "region_code=" in f]
    assert partitioned and all("region_code=210400/" in f for f in partitioned)
    assert con.execute("SELECT DISTINCT region_code FROM stg_units").fetchall() == [("210400",)]
    assert report.balanced() and "region_funds.parquet" in report.counts  # flat files are read whole


def test_bom_and_alternative_date_formats(tables, tmp_path):
    plain = decide(tables, tmp_path / "a")
    write_drop(tables, tmp_path / "b" / "drop")
    roster = tmp_path / "b" / "drop" / "roster.csv"
    text = roster.read_text(encoding="utf-8").replace("2017-03-01", "2017/03/01").replace("2020-04-01", "20200401")
    roster.write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
    pay = tmp_path / "b" / "drop" / "payments.csv"
    pay.write_text(re.sub(r'"(\d{4})-(\d{2})"', r'"\1\2"', pay.read_text(encoding="utf-8")), encoding="utf-8")
    assert '"202001"' in pay.read_text(encoding="utf-8")
    run_policy("LN-2021", tmp_path / "b" / "drop", tmp_path / "b" / "out", validate=False)
    assert (tmp_path / "b" / "out" / "decisions.csv").read_bytes() == plain


def test_malformed_rows_are_quarantined_and_accounted(builder, tmp_path):
    code = builder.unit(REGION)
    other = builder.unit(REGION)
    builder.payments[-1]["unit_paid"] = "12.345"  # 3 decimals, a row of `other`
    builder.payments.append(dict(builder.payments[0], fee_month="2020-13"))
    builder.units.append(dict(builder.units[0], uscc=builder.units[0]["uscc"]))  # duplicate register key
    write_drop(builder.tables(), tmp_path / "drop")
    with (tmp_path / "drop" / "roster.csv").open("a", encoding="utf-8") as fh:
        fh.write("too,few\n")
    result = run_policy("LN-2021", tmp_path / "drop", tmp_path / "out", validate=False)
    counts = result.ingest.counts
    assert all(c.rows_read == c.rows_staged + c.rows_quarantined for c in counts.values())
    assert (
        counts["payments.csv"].rows_quarantined,
        counts["units.csv"].rows_quarantined,
        counts["roster.csv"].rows_quarantined,
    ) == (2, 2, 1)
    q = (tmp_path / "out" / "quarantine.csv").read_text(encoding="utf-8")
    assert "2020-13" in q and "12.345" in q and "malformed CSV record" in q and "appears on 2 lines" in q
    out = read_decisions(tmp_path / "out")
    assert out[code]["reasons"] == "INVALID_INPUT"  # its register row is duplicated, and a payment row is bad
    assert out[other]["reasons"] == "INVALID_INPUT"


def test_missing_required_file_or_column_is_one_clear_line(builder, tmp_path):
    builder.unit(REGION)
    write_drop(builder.tables(), tmp_path / "drop")
    (tmp_path / "drop" / "payments.csv").unlink()
    with pytest.raises(InputError, match="payments.csv is missing"):
        run_policy("LN-2021", tmp_path / "drop", tmp_path / "out", validate=False)
    write_drop(builder.tables(), tmp_path / "drop2")
    roster = tmp_path / "drop2" / "roster.csv"
    roster.write_text(roster.read_text(encoding="utf-8").replace('"start_date"', '"started"', 1), encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, "-m", "autogrant.flows.cli", "run", "--policy", "LN-2021", "--data", str(tmp_path / "drop2"), "--out", str(tmp_path / "o")],
        capture_output=True, text=True,
    )  # fmt: skip
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        "autogrant: error: roster.csv: required column 'start_date' (参保日期) is missing"
    ]


def test_control_file_mismatch_stops_before_any_decision(builder, tmp_path):
    builder.unit(REGION)
    write_drop(builder.tables(), tmp_path / "drop")
    (tmp_path / "drop" / "control.csv").write_text(
        "file,rows,amount_total\nroster.csv,10,\npayments.csv,12,2400.00\n", encoding="utf-8"
    )
    run_policy("LN-2021", tmp_path / "drop", tmp_path / "ok", validate=False)
    (tmp_path / "drop" / "control.csv").write_text("file,rows,amount_total\nroster.csv,11,\n", encoding="utf-8")
    with pytest.raises(InputError, match="roster.csv declares 11 rows, the drop holds 10"):
        run_policy("LN-2021", tmp_path / "drop", tmp_path / "bad", validate=False)
    (tmp_path / "drop" / "control.csv").write_text("file,rows,amount_total\npayments.csv,12,2400.01\n", encoding="utf-8")
    with pytest.raises(InputError, match="amount total of 2400.01"):
        run_policy("LN-2021", tmp_path / "drop", tmp_path / "bad2", validate=False)
    assert not (tmp_path / "bad" / "decisions.csv").exists()


def test_unknown_policy_and_region(builder, tmp_path):
    builder.unit(REGION)
    write_drop(builder.tables(), tmp_path / "drop")
    with pytest.raises(InputError, match="unknown policy 'XX-2021'"):
        run_policy("XX-2021", tmp_path / "drop", tmp_path / "out", validate=False)
    with pytest.raises(InputError, match="region 999999 is not a region of policy LN-2021"):
        run_policy("LN-2021", tmp_path / "drop", tmp_path / "out", regions=["999999"], validate=False)


def test_same_inputs_give_byte_identical_decisions(tmp_path):
    from autogrant.transforms.paths import SAMPLES_DIR

    run_policy("LN-2021", SAMPLES_DIR / "ln2021", tmp_path / "a", validate=False)
    run_policy("LN-2021", SAMPLES_DIR / "ln2021", tmp_path / "b", validate=False)
    assert (tmp_path / "a" / "decisions.csv").read_bytes() == (tmp_path / "b" / "decisions.csv").read_bytes()
