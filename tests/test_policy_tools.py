"""The policy linter, the what-if simulator, the pay-by date, and each policy's bundled sample drop."""

import csv
import datetime as dt
import shutil
from pathlib import Path

import pytest
import yaml

from autogrant.transforms.errors import InputError
from autogrant.transforms.lint import lint
from autogrant.transforms.paths import POLICY_DIR, SAMPLES_DIR
from autogrant.transforms.policy import load
from autogrant.transforms.run import run_policy
from autogrant.transforms.simulate import prepare, simulate
from autogrant.transforms.workdays import add_working_days

SAMPLES = SAMPLES_DIR


def test_shipped_policies_lint_clean():
    ids, findings = lint()
    assert len(ids) == 9  # LN-2021, DL-2020, DL-2018, IM-2020, IM-2020-DIFFICULTY; after 2021 LN-2022, CN-2023/2024/2025
    assert findings == []


def _copy_policies(tmp_path: Path) -> Path:
    d = tmp_path / "policies"
    shutil.copytree(POLICY_DIR, d)
    return d


def _edit(d: Path, pid: str, edit) -> None:
    path = d / f"{pid}.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    edit(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")


def test_lint_finds_unordered_overlapping_arms_shadowed_arms_and_dates(tmp_path):
    d = _copy_policies(tmp_path)

    def arms(p):
        for a in p["rules"]["rate_arms"]:
            a.pop("order", None)
        p["rules"]["effective_to"]["value"] = dt.date(2020, 12, 31)  # before effective_from 2021-01-01

    _edit(d, "LN-2021", arms)

    def shadow(p):  # a first arm for all of sections B, C and D leaves the de-capacity arms nothing
        p["rules"]["rate_arms"].insert(0, {"name": "all_bcd", "industries": ["B", "C", "D"], "rate": 0.5, "cite": "test clause"})
        for i, a in enumerate(p["rules"]["rate_arms"]):
            a["order"] = i + 1

    _edit(d, "DL-2018", shadow)
    _, findings = lint(d)
    text = "\n".join(map(str, findings))
    assert "LN-2021: rate_arms.large/sme_and_other_units: both arms can match the same unit" in text
    assert "LN-2021: effective_from: 2021-01-01 is after effective_to 2020-12-31" in text
    assert "DL-2018: rate_arms.decapacity: never applies: arm all_bcd before it" in text
    assert "IM-2020" not in text


def test_lint_finds_two_policies_for_one_region_year_and_scheme(tmp_path):
    d = _copy_policies(tmp_path)
    shutil.copy(d / "IM-2020.yaml", d / "IM-2020-COPY.yaml")
    _edit(d, "IM-2020-COPY", lambda p: p.update(policy_id="IM-2020-COPY"))
    _, findings = lint(d)
    assert any("region 150100, assessed year 2019, scheme general_refund is already ruled by IM-2020" in str(f) for f in findings)


def test_pay_by_counts_china_working_days_with_make_up_days():
    # 2020-09-27 (Sun) and 2020-10-10 (Sat) were make-up working days around the National Day holiday
    assert add_working_days(dt.date(2020, 9, 25), 1) == dt.date(2020, 9, 27)
    assert add_working_days(dt.date(2020, 9, 30), 1) == dt.date(2020, 10, 9)
    assert add_working_days(dt.date(2020, 10, 9), 1) == dt.date(2020, 10, 10)
    # DL-2020: 5 working days after the cut-off 2020-12-31 (New Year's Day 2021-01-01 is a holiday)
    assert load("DL-2020").pay_by(dt.date(2020, 12, 31)) == dt.date(2021, 1, 8)
    assert load("LN-2021").pay_by(dt.date(2021, 12, 31)) == dt.date(2021, 11, 20)  # 4 months from the notice (2021-07-20)


def test_pay_by_beyond_the_calendar_is_a_clear_error():
    with pytest.raises(InputError, match="no data for 2099"):
        add_working_days(dt.date(2099, 1, 1), 1)


def test_simulate_refuses_unknown_names_and_wrong_types_before_reading_data():
    with pytest.raises(InputError, match="--set cap: unknown policy value"):
        prepare("LN-2021", ["cap=300"])
    with pytest.raises(InputError, match="headcount_cap.value: Input should be a valid integer"):
        prepare("LN-2021", ["headcount_cap=many"])
    with pytest.raises(InputError, match="name=value"):
        prepare("LN-2021", ["headcount_cap"])


def test_simulate_cap_300_gains_the_units_between_201_and_300(tmp_path, builder):
    from autogrant.data_samples.drop_files import write_drop
    from tests.conftest import REGION

    b = builder
    b.unit(REGION, start=200)
    b.unit(REGION, start=201)
    b.unit(REGION, start=300)
    b.unit(REGION, start=301)
    write_drop(b.tables(), tmp_path / "drop")
    rows = simulate(prepare("LN-2021", ["headcount_cap=300"]), tmp_path / "drop", tmp_path / "sim.csv")
    total = rows[-1]
    assert (total["pay_before"], total["pay_after"], total["gained"], total["lost"]) == (1, 3, 2, 0)
    assert total["difference_fen"] == 2 * 1440_00
    with (tmp_path / "sim.csv").open(encoding="utf-8") as fh:
        last = list(csv.DictReader(fh))[-1]
    assert (last["region_code"], last["difference"]) == ("TOTAL", "2880.00")
    assert not (tmp_path / "payments").exists()


@pytest.mark.parametrize(
    "policy, folder",
    [
        ("DL-2020", "dl2020"),
        ("DL-2018", "dl2018"),
        ("IM-2020", "im2020"),
        ("IM-2020-DIFFICULTY", "im2020_difficulty"),
        ("LN-2021", "ln2021"),
        ("CN-2024", "cn2024"),
    ],
)
def test_each_policy_runs_on_its_sample_drop_and_meets_its_rules(tmp_path, policy, folder):
    run_policy(policy, SAMPLES / folder, tmp_path / "out", validate=False)
    with (tmp_path / "out" / "decisions.csv").open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    seen = {code for r in rows for code in r["reasons"].split(";") if code}
    single_region = len(load(policy).rules.regions.value) == 1
    expected = {c for c in load(policy).policy.rule_codes() if not (single_region and c == "REGION_RESERVE_INSUFFICIENT")}
    assert expected <= seen, f"{policy} sample does not exercise {sorted(expected - seen)}"
    assert any(r["decision"] == "PAY" for r in rows)
