"""Size by average insured headcount (issue 16): a province without the statistical size data may class an enterprise
as large by its average monthly insured headcount of the year (a local page on the 2023 refund: 平均参保人数300人及以上
30%, below it 60%). No shipped policy uses the rule (none was found for Liaoning): a copy of CN-2024 with it is decided."""

import pytest
import yaml

from autogrant.data_samples.drop_files import write_drop
from autogrant.data_samples.edge_cases import DropBuilder
from autogrant.transforms.decide import decide_drop
from autogrant.transforms.errors import InputError
from autogrant.transforms.paths import POLICY_DIR
from autogrant.transforms.policy import load
from autogrant.transforms.run_state import connect
from tests.conftest import REGION

RULE = {"value": "avg_insured_headcount", "cite": "a province's implementing notice (test copy)", "assumed": True,
        "confirm": "the province's notice"}  # fmt: skip


def _policy_dir(tmp_path, large_min: int | None = 300):
    data = yaml.safe_load((POLICY_DIR / "CN-2024.yaml").read_text(encoding="utf-8"))
    data["rules"]["size_classification"] = RULE
    if large_min is not None:
        data["rules"]["large_min_avg_insured"] = {"value": large_min, "cite": RULE["cite"], "assumed": True, "confirm": "it"}
    folder = tmp_path / "policies"
    folder.mkdir()
    (folder / "CN-2024.yaml").write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return folder


def test_the_rule_needs_its_threshold(tmp_path):
    with pytest.raises(InputError, match="avg_insured_headcount and large_min_avg_insured go together"):
        load("CN-2024", _policy_dir(tmp_path, large_min=None))


def test_an_enterprise_is_large_from_an_average_of_300_insured(tmp_path):
    loaded = load("CN-2024", _policy_dir(tmp_path))
    assert "SIZE_CLASS_MISSING" not in loaded.policy.rule_codes()
    b = DropBuilder(y=2023)
    b.fund(REGION, months=24)
    u = {
        "avg_300": b.unit(REGION, start=300, size_class="small"),  # Σ 3600: large whatever the register says
        "avg_299": b.unit(REGION, start=299, size_class="large"),  # Σ 3588: SME
        "no_class": b.unit(REGION, start=10, size_class=None, industry=None),  # no NBS data needed
        "law_firm": b.unit(REGION, start=400, unit_type="law_firm", size_class=None),  # other units: the SME rate
    }
    write_drop(b.tables(), tmp_path / "drop")
    (tmp_path / "drop" / "benefit_claims.csv").write_text("person_id,uscc,claim_date\n", encoding="utf-8")
    con = connect()
    decide_drop(con, loaded, tmp_path / "drop", None, None)
    rows = {r[0]: r[1:] for r in con.execute("SELECT uscc, decision, size_class_used, rate FROM decision_details").fetchall()}
    got = {k: (rows[c][0], rows[c][1], float(rows[c][2])) for k, c in u.items()}
    assert got == {
        "avg_300": ("PAY", "large", 0.30),
        "avg_299": ("PAY", "sme", 0.60),
        "no_class": ("PAY", "sme", 0.60),
        "law_firm": ("PAY", None, 0.60),
    }
