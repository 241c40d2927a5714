"""Policies after 2021 (issue 16): the nightly picks the policy in force, benefit_claims.csv and the figures built on it."""

import datetime as dt
from pathlib import Path

import duckdb
import pytest

from autogrant.data_samples.drop_files import write_drop
from autogrant.data_samples.edge_cases import DropBuilder, make_person_id
from autogrant.flows.nightly import policies_in_force
from autogrant.transforms.errors import InputError
from autogrant.transforms.policy import available, load
from autogrant.transforms.run import run_policy
from tests.conftest import REGION, read_decisions

NEW = ("LN-2022", "CN-2023", "CN-2024", "CN-2025")


def _window(pid: str) -> tuple[dt.date, dt.date]:
    r = load(pid).rules
    return r.effective_from.value, r.effective_to.value


def test_the_new_policies_are_shipped_one_per_premium_year():
    years = {load(pid).rules.assessed_year.value: pid for pid in NEW}
    assert years == {2021: "LN-2022", 2022: "CN-2023", 2023: "CN-2024", 2024: "CN-2025"}
    assert set(NEW) <= set(available())


def test_the_nightly_picks_the_newest_policy_on_a_date_inside_its_window():
    newest = max(available(), key=lambda pid: _window(pid)[1])
    start, end = _window(newest)
    middle = start + (end - start) / 2
    for day in (start, middle, end):
        assert policies_in_force(day) == [newest], day
    assert newest not in policies_in_force(end + dt.timedelta(days=1))
    assert newest not in policies_in_force(start - dt.timedelta(days=1))


@pytest.mark.parametrize("pid", NEW)
def test_each_new_policy_is_the_one_in_force_inside_its_own_window(pid):
    start, end = _window(pid)
    assert policies_in_force(start + (end - start) / 2) == [pid]


def _drop(tmp_path: Path, b: DropBuilder, claims: list[dict] | None) -> Path:
    tables = b.tables()
    data = tmp_path / "drop"
    write_drop(tables, data)
    if claims is not None:
        lines = ["公民身份号码,统一社会信用代码,申领日期"] + [f"{c['person_id']},{c['uscc']},{c['claim_date']}" for c in claims]
        (data / "benefit_claims.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return data


def _builder() -> DropBuilder:
    b = DropBuilder(y=2023)
    b.fund(REGION, months=24)
    return b


def test_a_policy_that_needs_benefit_claims_stops_on_a_drop_without_them(tmp_path):
    b = _builder()
    b.unit(REGION)
    data = _drop(tmp_path, b, None)
    with pytest.raises(InputError, match=r"^benefit_claims\.csv is missing from the data drop"):
        run_policy("CN-2024", data, tmp_path / "out", validate=False)
    # a drop without the file under a policy that measures layoffs by net decline runs as before
    old = DropBuilder(y=2021)
    old.fund(REGION, months=24)
    code = old.unit(REGION)
    run_policy("LN-2022", _drop(tmp_path / "old", old, None), tmp_path / "out-ln", validate=False)
    assert read_decisions(tmp_path / "out-ln")[code]["decision"] == "PAY"


def test_claims_count_distinct_persons_of_the_year_over_the_average_monthly_insured(tmp_path):
    b = _builder()
    steady = b.unit(REGION, start=10, end=10)  # 10 insured every month: Σ 120
    growing = b.unit(REGION, start=10, end=12)  # 2 join on 1 April: 3 × 10 + 9 × 12 = 138
    shrinking = b.unit(REGION, start=100, end=94)  # 6 leave on 30 June: 6 × 100 + 6 × 94 = 1164
    person = iter(range(7_000_000, 7_000_100))
    twice = make_person_id(next(person))
    claims = [
        {"person_id": twice, "uscc": steady, "claim_date": "2023-03-01"},
        {"person_id": twice, "uscc": steady, "claim_date": "2023-09-01"},  # the same person again: one claimant
        {"person_id": make_person_id(next(person)), "uscc": steady, "claim_date": "2022-12-31"},  # the year before
        {"person_id": make_person_id(next(person)), "uscc": steady, "claim_date": "2024-01-01"},  # the year after
        {"person_id": make_person_id(next(person)), "uscc": steady, "claim_date": "2023-12-31"},
    ]
    claims += [{"person_id": make_person_id(next(person)), "uscc": shrinking, "claim_date": "2023-07-15"} for _ in range(6)]
    noisy = b.unit(REGION)
    claims.append({"person_id": make_person_id(next(person)), "uscc": noisy, "claim_date": "2023-05-02"})
    claims.append(dict(claims[-1]))  # a line sent twice: quarantined after its first line
    claims.append({"person_id": make_person_id(next(person)), "uscc": noisy, "claim_date": "2023-02-30"})  # no such day
    data = _drop(tmp_path, b, claims)
    out = tmp_path / "out"
    run_policy("CN-2024", data, out, validate=False)
    con = duckdb.connect()
    facts = {
        r[0]: r[1:]
        for r in con.execute(
            "SELECT uscc, benefit_claimants, insured_month_total, layoff_count FROM read_parquet(?)",
            [str(out / "regions" / REGION / "decision_details.parquet")],
        ).fetchall()
    }
    assert facts[steady] == (2, 120, 2)
    assert facts[growing] == (0, 138, 0)
    assert facts[shrinking] == (6, 1164, 6)
    assert facts[noisy][0] == 1
    quarantined = con.execute(
        "SELECT count(*) FROM read_csv(?, all_varchar = true) WHERE file = 'benefit_claims.csv'", [str(out / "quarantine.csv")]
    ).fetchall()[0][0]
    assert quarantined == 2
    decisions = read_decisions(out)
    # 10 insured is a small unit (30 or fewer): 2 × 12 = 24 is exactly 20% of Σ 120, not above it;
    # 94 at the year's end is not: 6 × 12 = 72 > 5.5% × 1164 = 64.02
    assert (decisions[steady]["decision"], decisions[steady]["reasons"]) == ("PAY", "")
    assert decisions[shrinking]["reasons"] == "LAYOFF_RATE_EXCEEDED"
    assert decisions[growing]["decision"] == "PAY"
    assert decisions[noisy]["reasons"] == "INVALID_INPUT"  # no decision on a unit whose claims are incomplete


def test_twelve_fee_months_paid_in_full_by_the_cut_off(tmp_path):
    b = _builder()
    full = b.unit(REGION)
    short = b.unit(REGION)
    b.payments = [p for p in b.payments if not (p["uscc"] == short and p["fee_month"] == "2023-03")]
    b.pay(short, "2023-03", 100_00, 50_00, dt.date(2023, 3, 15))  # half of March paid: 11 months in full, arrears
    late = b.unit(REGION)
    b.payments = [p for p in b.payments if not (p["uscc"] == late and p["fee_month"] == "2023-03")]
    b.pay(late, "2023-03", 100_00, 100_00, dt.date(2024, 6, 1))  # March paid in 2024, before the cut-off 2024-12-31
    data = _drop(tmp_path, b, [])
    run_policy("CN-2024", data, tmp_path / "out", validate=False)
    d = read_decisions(tmp_path / "out")
    assert (d[full]["decision"], d[full]["reasons"]) == ("PAY", "")
    assert d[short]["reasons"] == "ARREARS_OUTSTANDING;PREMIUM_MONTHS_SHORT"
    assert (d[late]["decision"], d[late]["reasons"]) == ("PAY", "")


def test_autogrant_policies_on_a_date_marks_the_policy_in_force():
    import os
    import subprocess
    import sys

    exe = Path(sys.executable).parent / "autogrant"
    env = os.environ | {"COLUMNS": "400", "AUTOGRANT_LANG": "en"}
    proc = subprocess.run([str(exe), "policies", "--on", "2024-09-02"], capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr
    marked = [
        line.split("│")[1].strip() for line in proc.stdout.splitlines() if line.startswith("│") and " *" in line.split("│")[1]
    ]
    assert marked == ["CN-2024 *"]
    assert "2024-05-08 … 2024-12-31" in proc.stdout
    bad = subprocess.run([str(exe), "policies", "--on", "2024-02-30"], capture_output=True, text=True, env=env, timeout=120)
    assert bad.returncode == 2 and bad.stderr.strip().splitlines() == [
        "autogrant: error: --on '2024-02-30' is not a date YYYY-MM-DD"
    ]


def test_explain_shows_the_claimants_over_the_average_insured_and_the_months_paid():
    from autogrant.transforms.explain import explain_from_drop
    from autogrant.transforms.paths import PACKAGE

    # the CN-2024 sample's first case unit of 200 insured all year with 11 claimants (tests/policies/CN-2024.yaml)
    claims = (PACKAGE / "data_samples" / "cn2024" / "benefit_claims.csv").read_text(encoding="utf-8").splitlines()
    uscc = claims[1].split(",")[1].strip('"')
    text = explain_from_drop("CN-2024", PACKAGE / "data_samples" / "cn2024", uscc, None)
    assert "11/(2400÷12) = 5.5000%" in text
    assert ">= 12" in text
