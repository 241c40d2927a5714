"""Policy files: every value cited, unknown keys and wrong types refused with the file and key named."""

import re
import shutil

import pytest
import yaml

from autogrant.transforms import policy
from autogrant.transforms.errors import InputError
from autogrant.transforms.paths import POLICY_DIR


@pytest.fixture
def policy_dir(tmp_path):
    shutil.copy(POLICY_DIR / "LN-2021.yaml", tmp_path / "LN-2021.yaml")
    return tmp_path


def edit(policy_dir, change):
    path = policy_dir / "LN-2021.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")


def test_every_policy_file_loads_and_cites_every_value():
    for pid in policy.available():
        p = policy.load(pid).policy
        for name in policy.Rules.model_fields:
            value = getattr(p.rules, name)
            if isinstance(value, policy.Cited):
                assert value.cite.strip(), f"{pid} {name}"
        assert all(arm.cite for arm in p.rules.rate_arms)


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda d: d["rules"]["layoff_rate_max"].pop("cite"), "rules.layoff_rate_max.cite: is required"),
        (
            lambda d: d["rules"].update(layoff_rate_maximum={"value": 0.06, "cite": "x 一"}),
            "rules.layoff_rate_maximum: unknown key",
        ),
        (lambda d: d["rules"]["headcount_cap"].update(value="two hundred"), "rules.headcount_cap.value"),
        (lambda d: d["rules"]["layoff_rate_max"].update(value=1.5), "rules.layoff_rate_max.value"),
        (
            lambda d: d["rules"]["notice_days"].pop("confirm"),
            "rules.notice_days: Value error, an assumed value must say what to confirm",
        ),
        (lambda d: d["rules"]["eligible_unit_types"]["value"].append("company"), "rules.eligible_unit_types.value.7"),
    ],
)
def test_bad_policy_file_is_refused_naming_file_and_key(policy_dir, change, message):
    edit(policy_dir, change)
    with pytest.raises(InputError) as exc:
        policy.load("LN-2021", policy_dir)
    assert str(exc.value).startswith("policies/LN-2021.yaml: ")
    assert message in str(exc.value)


def test_policy_values_reach_sql_as_data_not_text():
    from autogrant.transforms.paths import SQL_DIR

    text = "\n".join(p.read_text(encoding="utf-8") for p in SQL_DIR.glob("*.sql"))
    for literal in ("0.06", "200", "0.20", "2020-12-31", "2021-12-31", "0.60", "0.30", "2020"):
        assert not re.search(rf"(?<![\d.]){re.escape(literal)}(?![\d])", text), literal
