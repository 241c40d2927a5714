"""The benchmark's agreement check (bench/__main__.py): the floor query and the pandas implementation decide a
generated drop exactly as autogrant does, and a single changed fen makes the check fail before any time is printed."""

import duckdb
import pytest

from autogrant.data_samples.drop_files import write_drop
from autogrant.data_samples.generate import LIAONING, generate_tables
from autogrant.transforms.run import run_policy
from bench import floor, pandas_impl
from bench.__main__ import check_agreement, median


@pytest.fixture(scope="module")
def decided(tmp_path_factory):
    root = tmp_path_factory.mktemp("bench")
    write_drop(generate_tables(1500, 11, 2020, LIAONING), root / "drop", "parquet")
    run_policy("LN-2021", root / "drop", root / "out", validate=False)
    con = duckdb.connect()
    con.execute(f"COPY ({floor.query(root / 'drop')}) TO '{(root / 'floor.parquet').as_posix()}' (FORMAT parquet)")
    pandas_impl.decide(root / "drop").to_parquet(root / "pandas.parquet", index=False)
    return root


def test_floor_and_pandas_agree_with_autogrant_unit_by_unit(decided):
    counts = check_agreement(decided / "out", {"floor": decided / "floor.parquet", "pandas": decided / "pandas.parquet"})
    assert counts == {"floor": 1500, "pandas": 1500, "autogrant": 1500}
    reasons = duckdb.sql(f"SELECT DISTINCT unnest(string_split(reasons, ';')) FROM '{(decided / 'floor.parquet').as_posix()}'")
    assert len(reasons.fetchall()) >= 8  # the drop exercises most rules, not only PAY


def test_one_fen_of_difference_fails_the_check(decided, capsys):
    wrong = decided / "wrong.parquet"
    duckdb.sql(
        f"""COPY (SELECT uscc, decision, reasons,
                         amount_fen + CASE WHEN uscc = (SELECT min(uscc) FROM '{(decided / "pandas.parquet").as_posix()}'
                                                        WHERE decision = 'PAY') THEN 1 ELSE 0 END AS amount_fen
                  FROM '{(decided / "pandas.parquet").as_posix()}') TO '{wrong.as_posix()}' (FORMAT parquet)"""
    )
    with pytest.raises(SystemExit) as exc:
        check_agreement(decided / "out", {"floor": decided / "floor.parquet", "pandas": wrong})
    assert exc.value.code == 1
    err = capsys.readouterr().err
    assert "pandas disagrees with autogrant on 1 units" in err and "floor" not in err.split("failed")[1]


def test_the_floor_reads_the_gb18030_csv_drop_as_autogrant_does(tmp_path):
    """What the agencies send (GB18030, Chinese column names and values): the floor transcodes and renames, and
    decides every unit as autogrant does on the same files."""
    drop = tmp_path / "drop"
    write_drop(generate_tables(600, 5, 2020, LIAONING), drop, "csv", chinese=True, gb18030=True)
    assert not floor.is_utf8(drop / "units.csv")
    run_policy("LN-2021", drop, tmp_path / "out", validate=False)
    con = duckdb.connect()
    con.execute(f"COPY ({floor.query(drop, tmp_path)}) TO '{(tmp_path / 'floor.parquet').as_posix()}' (FORMAT parquet)")
    assert check_agreement(tmp_path / "out", {"floor": tmp_path / "floor.parquet"}) == {"floor": 600, "autogrant": 600}
    assert floor.is_utf8(tmp_path / "drop_units.csv")  # the floor read the transcoded copy


def test_a_repeated_bench_reports_its_median_round():
    """--repeat: each figure is the round of median wall time (the lower middle one of an even number)."""
    rounds = [{"wall_s": w, "round": i} for i, w in enumerate((50.0, 41.0, 60.0))]
    assert median(rounds)["round"] == 0
    assert median(rounds[1:])["round"] == 1
    assert median(rounds[2:])["round"] == 2


def test_a_dirty_drop_quarantines_exactly_its_bad_lines_each_on_its_line(tmp_path):
    """bench/dirty.py's drop (a fifth of the lines spoilt, in GB18030, lawful and bad ways, records the parser
    rejects among them): every bad line quarantined on its own line number, no lawful one; and the check notices
    a quarantine one row short."""
    from bench.dirty import check, make_dirty

    clean = tmp_path / "clean"
    write_drop(generate_tables(400, 3, 2020, LIAONING), clean, "csv", chinese=True, gb18030=True)
    expected = make_dirty(clean, tmp_path / "dirty", 0.2, 3)
    assert all(len(v["bad"]) > 50 and v["lawful"] for v in expected.values())
    run_policy("LN-2021", tmp_path / "dirty", tmp_path / "out", validate=False)
    assert check(tmp_path / "out", expected) == []
    quarantine = (tmp_path / "out" / "quarantine.csv").read_text(encoding="utf-8").splitlines()
    (tmp_path / "out" / "quarantine.csv").write_text("\n".join(quarantine[:1] + quarantine[2:]) + "\n", encoding="utf-8")
    assert len(check(tmp_path / "out", expected)) == 1
