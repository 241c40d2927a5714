"""Runs tests/policies/<POLICY>.yaml: each case's unit decided in one drop per policy, compared with its expectation."""

from pathlib import Path

import pytest

from autogrant.data_samples.drop_files import write_drop
from autogrant.data_samples.policy_cases import build_drop, drops, load_cases
from autogrant.transforms.policy import available, load
from autogrant.transforms.run import run_policy
from tests.conftest import read_decisions

CASES_DIR = Path(__file__).resolve().parent / "policies"
FILES = sorted(CASES_DIR.glob("*.yaml"))
CASES = [(f, i, c["name"]) for f in FILES for i, c in enumerate(load_cases(f)["cases"])]


@pytest.fixture(scope="module")
def decided(tmp_path_factory):
    """Each case file's drops decided once: {file: (spec, {case index: decisions row})}."""
    cache = {}

    def get(path: Path):
        if path not in cache:
            spec, rows = load_cases(path), {}
            for indices in drops(spec):
                b, codes = build_drop(spec, indices)
                root = tmp_path_factory.mktemp(path.stem)
                write_drop(b.tables(), root / "drop")
                run_policy(spec["policy"], root / "drop", root / "out", validate=False)
                decisions = read_decisions(root / "out")
                rows |= {i: decisions[code] for i, code in zip(indices, codes, strict=False)}
            cache[path] = (spec, rows)
        return cache[path]

    return get


@pytest.mark.parametrize("path, index, name", CASES, ids=[f"{f.stem}: {n}" for f, _, n in CASES])
def test_case(decided, path, index, name):
    spec, rows = decided(path)
    case, row = spec["cases"][index], rows[index]
    got = {k: row[k] for k in case["expect"]}
    assert got == {k: str(v) for k, v in case["expect"].items()}, f"{name} ({case.get('clause', '')})"


def test_every_policy_has_cases():
    assert sorted(f.stem for f in FILES) == available()


@pytest.mark.parametrize("path", FILES, ids=[f.stem for f in FILES])
def test_each_rule_has_a_passing_and_a_failing_case(path):
    spec = load_cases(path)
    assert spec["policy"] == path.stem
    missing = []
    for code in load(spec["policy"]).policy.rule_codes():
        cases = [c for c in spec["cases"] if c.get("rule") == code]
        fails = [c for c in cases if code in str(c["expect"]["reasons"]).split(";")]
        passes = [c for c in cases if code not in str(c["expect"]["reasons"]).split(";")]
        if not fails or not passes:
            missing.append(code)
    assert not missing, f"{path.name}: rules without both a passing and a failing case: {missing}"
    assert all(c.get("clause") for c in spec["cases"]), "every case names the clause it covers"
