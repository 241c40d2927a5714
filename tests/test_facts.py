"""Facts behind the rules: layoff formulas and size classes (国统字〔2017〕213号)."""

import shutil

import yaml

from autogrant.data_samples.drop_files import write_drop
from autogrant.data_samples.edge_cases import DropBuilder
from autogrant.transforms import policy
from autogrant.transforms.paths import POLICY_DIR
from autogrant.transforms.run import run_policy
from tests.conftest import REGION, read_decisions, run_builder


def test_size_class_derived_from_the_2017_table(builder, tmp_path):
    # 工业: large needs >= 1000 employees AND >= 4亿 revenue; micro needs only one indicator below the small bound
    large = builder.unit(REGION, size_class=None, industry="C3110", employees=1000, revenue=400_000_000_00)
    medium = builder.unit(REGION, size_class=None, industry="C3110", employees=1000, revenue=399_999_999_99)
    micro = builder.unit(REGION, size_class=None, industry="C3110", employees=19, revenue=None)
    unknown = builder.unit(REGION, size_class=None, industry="C3110", employees=500, revenue=None)
    other = builder.unit(REGION, size_class=None, industry="R8810", employees=99)  # 其他未列明行业: employees only
    out = run_builder(builder, tmp_path)
    assert [out[c]["size_class"] for c in (large, medium, micro, other)] == ["large", "medium", "micro", "small"]
    assert (out[unknown]["decision"], out[unknown]["reasons"]) == ("HOLD", "SIZE_CLASS_MISSING")
    assert out[large]["rate"] == "0.30" and out[medium]["rate"] == "0.60"


def test_layoff_formula_excluding_natural_exits(tmp_path):
    b = DropBuilder(y=2020)
    b.fund(REGION)
    # 100 -> 90: 10% net decline; 5 of the 10 leavers retired: 5% without natural exits
    code = b.unit(REGION, start=100, end=90, natural_exits=5)
    assert run_builder(b, tmp_path / "a")[code]["reasons"] == "LAYOFF_RATE_EXCEEDED"
    pdir = tmp_path / "policies"
    pdir.mkdir()
    shutil.copy(POLICY_DIR / "LN-2021.yaml", pdir / "LN-2021.yaml")
    data = yaml.safe_load((pdir / "LN-2021.yaml").read_text(encoding="utf-8"))
    data["rules"]["layoff_formula"]["value"] = "net_decline_excl_natural"
    (pdir / "LN-2021.yaml").write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    write_drop(b.tables(), tmp_path / "drop")
    run_policy("LN-2021", tmp_path / "drop", tmp_path / "b", loaded=policy.load("LN-2021", pdir), validate=False)
    assert read_decisions(tmp_path / "b")[code]["decision"] == "PAY"
