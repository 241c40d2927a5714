"""Deadlines said aloud: a run past its policy's pay-by date or window says so on its first line; report.html
(in Chinese) lists the units unpaid past their pay-by date; a unit's pay-by date comes from its policy's own
function, given the day its data made it payable."""

import datetime as dt
import html
import re
import subprocess
import sys

import duckdb
import pytest

from autogrant.transforms import deadlines
from autogrant.transforms.policy import load
from tests.conftest import NIGHT1, read_decisions


def autogrant(*args, env=None):
    return subprocess.run([sys.executable, "-m", "autogrant.flows.cli", *args], capture_output=True, text=True, env=env)


@pytest.mark.slow  # a whole night through the CLI: CI runs it (pytest -m slow)
def test_a_run_past_the_pay_by_date_says_so_first_and_the_report_lists_the_units(drop, tmp_path):
    out = tmp_path / "out"
    r = autogrant("run", "--policy", "LN-2021", "--data", str(drop.path), "--out", str(out), "--today", str(NIGHT1))
    assert r.returncode == 0, r.stderr
    loaded = load("LN-2021")
    due = deadlines.pay_by(loaded, dt.date(2021, 12, 31))
    first = r.stdout.splitlines()[0]
    assert first.startswith("注意") and str(due) in first and loaded.rules.pay_by.cite in first
    assert "有效期 2021-01-01 至 2021-12-31" in first  # 2026 is outside LN-2021's window too
    assert "鞍山市" in r.stdout and "决定" in r.stdout  # the run's tables in Chinese, regions named
    # progress on stderr, one line per stage and per region, never on stdout
    progress = r.stderr.splitlines()
    assert any("读取与校验数据完成" in line for line in progress) and any("210300 鞍山市 已处理" in line for line in progress)
    assert "进度" not in r.stdout

    page = (out / "report.html").read_text(encoding="utf-8")
    assert "lang='zh-CN'" in page and "逾期未发放单位" in page and "各统筹地区金额" in page
    owed = [u for u, d in read_decisions(out).items() if d["decision"] in ("PAY", "HOLD")]
    assert owed and all(u in page for u in owed)  # both units are in notice, unpaid, years past the pay-by
    days = (NIGHT1 - due).days
    assert len(re.findall(rf"<td>{due}</td><td>{days}</td>", page)) == len(owed)

    r = autogrant(
        "--lang", "en", "run", "--policy", "LN-2021", "--data", str(drop.path), "--out", str(out), "--today", str(NIGHT1)
    )
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith(f"NOTE: business date {NIGHT1} is past LN-2021's pay-by date {due}")
    page = html.unescape((out / "report.html").read_text(encoding="utf-8"))
    assert "lang='en'" in page and "Units unpaid past their pay-by date" in page


def test_no_warning_inside_the_window_before_the_pay_by_date():
    loaded = load("DL-2020")
    r = loaded.rules
    as_of = r.default_as_of.value
    due = deadlines.pay_by(loaded, as_of)
    inside = max(r.effective_from.value, min(due, r.effective_to.value))
    assert deadlines.run_warning(loaded, as_of, inside) is None
    assert "已超过" in deadlines.run_warning(loaded, as_of, due + dt.timedelta(days=1), "zh")
    assert "outside" in deadlines.run_warning(loaded, as_of, r.effective_to.value + dt.timedelta(days=1), "en")


class PerUnitPolicy:
    """A policy whose pay-by rule takes the day the unit's data came in (as helper law's rule kinds do)."""

    id = "LN-2021"

    def pay_by(self, as_of, data_in=None, top_up=False):
        return dt.date(2030, 1, 1) if top_up else (data_in or as_of) + dt.timedelta(days=5)


def test_each_unit_gets_its_own_pay_by_date_from_the_policys_function():
    con = duckdb.connect()
    con.execute("ATTACH ':memory:' AS ledger")
    con.execute("CREATE TABLE ledger.claims (policy_id VARCHAR, uscc VARCHAR, created_on DATE)")
    con.execute(
        "INSERT INTO ledger.claims VALUES ('LN-2021', 'A', DATE '2026-11-02'), ('LN-2021', 'A', DATE '2026-11-20'),"
        " ('LN-2021', 'B', DATE '2026-11-10'), ('DL-2020', 'C', DATE '2026-01-01')"
    )
    con.execute("CREATE TABLE u AS SELECT * FROM (VALUES ('A', 0), ('B', 0), ('C', 0), ('D', 100)) t(uscc, already_paid)")
    deadlines.unit_pay_by(con, PerUnitPolicy(), dt.date(2026, 10, 1), "SELECT * FROM u")
    got = dict(con.execute("SELECT uscc, pay_by FROM unit_pay_by").fetchall())
    assert got == {
        "A": dt.date(2026, 11, 7),  # its first night in notice + 5
        "B": dt.date(2026, 11, 15),
        "C": dt.date(2026, 10, 6),  # never in this policy's notice: from the cut-off
        "D": dt.date(2030, 1, 1),  # paid in part before (补差)
    }
    # LN-2021's rule takes neither the day nor a top-up: one date for every unit, the policy's own
    loaded = load("LN-2021")
    deadlines.unit_pay_by(con, loaded, dt.date(2021, 12, 31), "SELECT * FROM u")
    assert {d for (d,) in con.execute("SELECT pay_by FROM unit_pay_by").fetchall()} == {loaded.pay_by(dt.date(2021, 12, 31))}


# Each policy's pay-by as its clause says (issue 17 item 3); the value before in the comment.
@pytest.mark.parametrize(
    "pid, as_of, data_in, top_up, due",
    [
        # 辽人社发〔2021〕7号 一(一) 本通知下发之日起4个月内: from the notice (forwarded 2021-07-20), not effective_from
        # 2021-01-01 (was 2021-05-01) and not the cut-off
        ("LN-2021", dt.date(2021, 12, 31), None, False, dt.date(2021, 11, 20)),
        ("LN-2021", dt.date(2021, 9, 30), dt.date(2021, 9, 1), True, dt.date(2021, 11, 20)),
        # 大人社发〔2020〕391号 十二 于收到申报5个工作日内: from the day the unit's data made it payable
        ("DL-2020", dt.date(2020, 12, 31), dt.date(2020, 12, 1), False, dt.date(2020, 12, 8)),
        ("DL-2020", dt.date(2020, 12, 31), dt.date(2021, 2, 5), False, dt.date(2021, 2, 18)),  # 春节, 2-7 worked
        ("DL-2020", dt.date(2020, 12, 31), None, False, dt.date(2021, 1, 8)),  # not in notice yet: the cut-off
        # 辽人社发〔2017〕14号 五 2018年要做好…2017年度…发放工作: within 2018 (was 2019-04-27)
        ("DL-2018", dt.date(2018, 12, 31), None, False, dt.date(2018, 12, 31)),
        # 内蒙古工作方案 二(一) 补差…争取6月底补发到位: 2020-06-30 (was 2020-12-12, "6 months" from 2020-06-12)
        ("IM-2020", dt.date(2020, 12, 31), None, True, dt.date(2020, 6, 30)),
        ("IM-2020", dt.date(2020, 12, 31), dt.date(2020, 8, 3), False, dt.date(2020, 12, 31)),  # assumed
        ("IM-2020-DIFFICULTY", dt.date(2020, 12, 31), None, True, dt.date(2020, 12, 31)),  # 补差 is 二(一)'s only
    ],
)
def test_each_policys_pay_by_follows_its_clause(pid, as_of, data_in, top_up, due):
    assert deadlines.pay_by(load(pid), as_of, data_in, top_up) == due


def test_what_the_seeds_do_not_fix_of_a_pay_by_is_marked_assumed():
    for pid in ("LN-2021", "DL-2020", "IM-2020", "IM-2020-DIFFICULTY"):
        cited = load(pid).rules.pay_by
        assert cited.assumed and cited.confirm, pid
    assert not load("DL-2018").rules.pay_by.assumed  # "2018年要做好" is the text's own
    assert "十二" in load("DL-2020").rules.pay_by.cite and "二(一)" in load("IM-2020").rules.pay_by.cite


def _ledger(con, claims):
    con.execute("ATTACH ':memory:' AS ledger")
    con.execute("CREATE TABLE ledger.claims (policy_id VARCHAR, uscc VARCHAR, created_on DATE)")
    con.execute("CREATE TABLE ledger.payments (policy_id VARCHAR, uscc VARCHAR, amount_fen BIGINT)")
    if claims:
        con.executemany("INSERT INTO ledger.claims VALUES (?, ?, ?)", claims)


def test_dl2020_units_are_due_five_working_days_after_their_own_first_night():
    con = duckdb.connect()
    _ledger(con, [("DL-2020", "A", dt.date(2020, 12, 1)), ("DL-2020", "A", dt.date(2020, 12, 9)),
                  ("DL-2020", "B", dt.date(2021, 2, 5))])  # fmt: skip
    con.execute("CREATE TABLE u AS SELECT * FROM (VALUES ('A', 0), ('B', 0), ('C', 0)) t(uscc, already_paid)")
    deadlines.unit_pay_by(con, load("DL-2020"), dt.date(2020, 12, 31), "SELECT * FROM u")
    got = dict(con.execute("SELECT uscc, pay_by FROM unit_pay_by").fetchall())
    assert got == {"A": dt.date(2020, 12, 8), "B": dt.date(2021, 2, 18), "C": dt.date(2021, 1, 8)}


def test_im2020_top_up_units_are_overdue_after_june_the_others_not_yet():
    con = duckdb.connect()
    _ledger(con, [])
    con.execute(
        """CREATE TABLE decision_details AS SELECT * FROM (VALUES
             ('150100', 'T', '补差单位', 'PAY', 240000, 120000),
             ('150100', 'N', '新单位', 'PAY', 240000, 0),
             ('150100', 'R', '不予返还', 'REJECT', 0, 0))
           t(region_code, uscc, unit_name, decision, amount_due, already_paid)"""
    )
    deadlines.overdue_units(con, load("IM-2020"), dt.date(2020, 12, 31), dt.date(2020, 7, 15))
    rows = con.execute("SELECT uscc, pay_by, days_late, owed_fen FROM overdue_units").fetchall()
    assert rows == [("T", dt.date(2020, 6, 30), 15, 120000)]
    deadlines.overdue_units(con, load("IM-2020"), dt.date(2020, 12, 31), dt.date(2021, 1, 2))
    assert {r[0]: r[2] for r in con.execute("SELECT uscc, pay_by, days_late FROM overdue_units").fetchall()} == {
        "N": 2,
        "T": 186,
    }
