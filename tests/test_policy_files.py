"""Policy files: every value cited, unknown keys and wrong types refused with the file and key named."""

import re
import shutil

import pytest
import yaml

from autogrant.transforms import policy, policy_model
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
        for name in policy_model.Rules.model_fields:
            value = getattr(p.rules, name)
            if isinstance(value, policy_model.Cited):
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
    text = re.sub(r"\b[A-Z]{2}-[0-9]{4}(-[A-Z]+)?\b", "POLICY_ID", text)  # a policy named in a comment is no value
    for literal in ("0.06", "200", "0.20", "2020-12-31", "2021-12-31", "0.60", "0.30", "2020"):
        assert not re.search(rf"(?<![\d.]){re.escape(literal)}(?![\d])", text), literal


def test_a_pay_by_rule_takes_exactly_the_fields_of_its_kind(policy_dir):
    edit(policy_dir, lambda d: d["rules"]["pay_by"]["value"].pop("from_date"))
    with pytest.raises(InputError, match=r"rules.pay_by.value: Value error, kind months_after_document takes n, from_date"):
        policy.load("LN-2021", policy_dir)


# Values the seeds do not give (issue 17 item 5): each policy's, by key ("rate_arms.<name>" for an arm)
NOT_IN_THE_SEEDS = {
    "LN-2021": {"effective_from", "layoff_formula", "size_classification", "pay_by", "notice_days"},
    "DL-2020": {"assessed_year", "reference_date", "default_as_of", "effective_to", "layoff_formula", "layoff_rate_max",
                "layoff_comparison", "small_unit_max_headcount", "layoff_rate_max_small", "size_classification",
                "premium_base", "amount_formula", "double_dip_subsidy_types", "notice_days", "pay_by",
                "rate_arms.small_and_micro"},
    "DL-2018": {"reference_date", "layoff_formula", "layoff_rate_max", "layoff_comparison", "size_classification",
                "premium_base", "double_dip_subsidy_types", "notice_days", "rate_arms.decapacity",
                "rate_arms.decapacity_paid_up_arrears", "rate_arms.other_enterprises"},
    "IM-2020": {"regions", "reference_date", "layoff_formula", "layoff_rate_max", "layoff_comparison",
                "small_unit_max_headcount", "layoff_rate_max_small", "size_classification", "arrears_paid_up",
                "exclude_dishonest", "exclude_zombie", "notice_days", "pay_by", "rate_arms.large"},
    "IM-2020-DIFFICULTY": {"regions", "reference_date", "default_as_of", "effective_to", "layoff_formula",
                           "layoff_rate_max", "layoff_comparison", "small_unit_max_headcount", "layoff_rate_max_small",
                           "size_classification", "arrears_paid_up", "exclude_dishonest", "exclude_zombie",
                           "notice_days", "pay_by"},
}  # fmt: skip


@pytest.mark.parametrize("pid", sorted(NOT_IN_THE_SEEDS))
def test_values_the_seeds_do_not_give_are_assumed_and_listed(pid):
    p = policy.load(pid).policy
    listed = dict(policy.assumed_values(p))
    missing = NOT_IN_THE_SEEDS[pid] - set(listed)
    assert not missing, f"{pid}: not marked assumed: {sorted(missing)}"
    assert all(listed[k].strip() for k in NOT_IN_THE_SEEDS[pid]), "each says what to confirm it against"


def test_the_cli_lists_the_assumed_values():
    import subprocess
    import sys

    r = subprocess.run([sys.executable, "-m", "autogrant.flows.cli", "--lang", "en", "policies"], capture_output=True,
                       text=True, env={**__import__("os").environ, "COLUMNS": "400"})  # fmt: skip
    assert r.returncode == 0, r.stderr
    for key in ("ASSUMED layoff_formula", "ASSUMED reference_date", "ASSUMED pay_by", "ASSUMED layoff_rate_max"):
        assert key in r.stdout, key


def test_lint_wants_a_value_citing_no_seed_document_marked_assumed(tmp_path):
    from autogrant.transforms.lint import lint

    d = tmp_path / "policies"
    shutil.copytree(POLICY_DIR, d)
    path = d / "DL-2018.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["rules"]["reference_date"].update(assumed=False)  # cites POLICY_RULES.md only
    data["rules"]["rate_arms"][-1].update(assumed=False)  # cites 人社部发〔2014〕76号 only
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    _, findings = lint(d)
    got = {(f.policy, f.where) for f in findings if "cites none of the documents in the seeds" in f.message}
    assert got == {("DL-2018", "reference_date"), ("DL-2018", "rate_arms.other_enterprises")}
