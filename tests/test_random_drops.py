"""Random drops over the whole input contract, decided by autogrant (the CLI, in a subprocess) and by an independent
row-by-row reference (tests/reference_impl.py); they must agree unit by unit (issue 11, "What must work").

    .venv/bin/python -m pytest -q -n 0 tests/test_random_drops.py            # a handful of seeds
    .venv/bin/python -m pytest -q -n 0 -m slow tests/test_random_drops.py    # many more
"""

import csv
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests import random_drop_generate, reference_impl

CLI = Path(sys.executable).with_name("autogrant")
FIELDS = ("decision", "reasons", "headcount_ref", "headcount_start", "headcount_end", "size_class", "premium_base",
          "amount_due", "already_paid", "amount")  # fmt: skip
# (policy, seed) pairs of the default test; the slow test runs many more per policy.
# seed 6 sends a control.csv declaring one payment row more than sent: exit 2 before any decision (quick).
# CN-2024 seed 2: a policy after 2021 (claims over average insured, 12 months paid, contribution accounts), 43 units.
DEFAULT_CASES = [("LN-2021", 1), ("IM-2020-DIFFICULTY", 4), ("LN-2021", 6), ("CN-2024", 2)]
SLOW_SEEDS = [*range(100, 110), 75]  # 75: control.csv declares a row too many
# Seeds autogrant decides against the contract (see the report of issue 11); kept out of the default test.
KNOWN_DISAGREEMENTS: set[tuple[str, int]] = set()


def yuan(fen: int) -> str:
    return f"{'-' if fen < 0 else ''}{abs(fen) // 100}.{abs(fen) % 100:02d}"


def expected_rows(drop: Path, policy_id: str, as_of=None) -> dict[str, dict[str, str]]:
    """The reference's decisions, spelt as decisions.csv spells them."""
    out = {}
    for code, d in reference_impl.decide(drop, policy_id, as_of).items():
        out[code] = {
            "region_code": d["region_code"], "decision": d["decision"], "reasons": ";".join(d["reasons"]),
            "headcount_ref": str(d["headcount_ref"]), "headcount_start": str(d["headcount_start"]),
            "headcount_end": str(d["headcount_end"]), "size_class": d["size_class"] or "",
            "premium_base": yuan(d["premium_base"]), "amount_due": yuan(d["amount_due"]),
            "already_paid": yuan(d["already_paid"]), "amount": yuan(d["amount"]),
        }  # fmt: skip
        if d.get("payee_account") is not None:  # README (issue 16): under fallback_payee, the account paid
            out[code]["payee_account"] = d["payee_account"]
    return out


def compare(actual: dict[str, dict[str, str]], expected: dict[str, dict[str, str]]) -> list[str]:
    """One line per unit where the two sides differ: the USCC, each differing field with both values."""
    problems = []
    for code in sorted(set(actual) | set(expected)):
        a, e = actual.get(code), expected.get(code)
        if a is None or e is None:
            problems.append(f"{code}: only in {'the reference' if a is None else 'autogrant'} ({(a or e)['decision']})")
            continue
        fields = FIELDS + (("payee_account",) if "payee_account" in e else ())
        diff = [f"{f}: autogrant {a.get(f)!r} reference {e[f]!r}" for f in fields if a.get(f) != e[f]]
        if diff:
            problems.append(f"{code} ({e['decision']} {e['reasons'] or '-'}): " + "; ".join(diff))
    return problems


def run_cli(drop: Path, out: Path, policy_id: str, as_of=None) -> subprocess.CompletedProcess:
    env = dict(os.environ, AUTOGRANT_PROGRESS="0", AUTOGRANT_LANG="en")
    env.pop("PREFECT_API_URL", None)
    cmd = [str(CLI), "run", "--policy", policy_id, "--data", str(drop), "--out", str(out), "--today", "2026-11-20"]
    cmd += ["--as-of", as_of.isoformat()] if as_of else []
    return subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300)


def read_decisions(path: Path) -> dict[str, dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return {row["uscc"]: row for row in csv.DictReader(fh)}


def check_seed(tmp_path: Path, policy_id: str, seed: int) -> int:
    drop = tmp_path / f"drop-{policy_id}-{seed}"
    meta = random_drop_generate.generate(drop, seed, policy_id)
    proc = run_cli(drop, tmp_path / f"out-{policy_id}-{seed}", policy_id, meta["as_of"])
    assert "Traceback" not in proc.stderr, proc.stderr
    assert proc.returncode == meta["exit"], f"seed {seed}: exit {proc.returncode}, expected {meta['exit']}\n{proc.stderr}"
    if meta["exit"] == 2:  # an incomplete extract or a file the policy needs missing: one line naming it, nothing decided
        named = [n for n in ("control.csv" if meta["control"] == "wrong" else None, meta["missing_file"]) if n]
        assert any(n in proc.stderr.strip().splitlines()[-1] for n in named), proc.stderr
        assert not (tmp_path / f"out-{policy_id}-{seed}" / "decisions.csv").exists()
        return 0
    assert reference_impl.undecidable_regions(drop, policy_id) == ({meta["missing_region"]} - {None})
    expected = expected_rows(drop, policy_id, meta["as_of"])
    actual = read_decisions(tmp_path / f"out-{policy_id}-{seed}" / "decisions.csv")
    problems = compare(actual, expected)
    assert not problems, f"{policy_id} seed {seed}: {len(problems)} of {len(expected)} units differ\n" + "\n".join(problems)
    return len(expected)


@pytest.mark.parametrize(("policy_id", "seed"), [c for c in DEFAULT_CASES if c not in KNOWN_DISAGREEMENTS])
def test_random_drop_agrees_with_reference(tmp_path, policy_id, seed):
    assert check_seed(tmp_path, policy_id, seed) >= (0 if seed == 6 else 25)


@pytest.mark.slow
@pytest.mark.parametrize("policy_id", random_drop_generate.POLICIES)
def test_many_random_drops_agree(tmp_path, policy_id):
    seeds = [s for s in SLOW_SEEDS if (policy_id, s) not in KNOWN_DISAGREEMENTS]
    counts = [check_seed(tmp_path, policy_id, seed) for seed in seeds]
    stopped = sum(1 for n in counts if n == 0)  # exit 2 before any decision (control.csv, a file the policy needs)
    print(f"{policy_id}: {sum(counts)} units over {len(seeds)} seeds agree ({stopped} drops stopped before deciding)")


def test_comparison_reports_a_changed_amount_and_a_missing_unit(tmp_path):
    drop = tmp_path / "drop"
    random_drop_generate.generate(drop, 11, "LN-2021")
    expected = expected_rows(drop, "LN-2021")
    assert compare({k: dict(v) for k, v in expected.items()}, expected) == []
    code = next(c for c, row in expected.items() if row["decision"] == "PAY")
    changed = {k: dict(v) for k, v in expected.items()}
    changed[code]["amount"] = yuan(int(changed[code]["amount"].replace(".", "")) + 1)
    del changed[next(c for c in expected if c != code)]
    problems = compare(changed, expected)
    assert len(problems) == 2
    assert any(p.startswith(code) and "amount: autogrant" in p for p in problems)
    assert any("only in the reference" in p for p in problems)


@pytest.mark.slow
@pytest.mark.parametrize("seed", [7, 101, 105])
def test_size_by_average_insured_agrees_with_reference(tmp_path, seed):
    """README: size_classification avg_insured_headcount (no shipped policy uses it): a copy of CN-2024 with the rule
    decided in-process (the CLI reads the shipped policies only) against the reference, on a random CN-2024 drop."""
    import yaml

    from autogrant.transforms.decide import decide_drop
    from autogrant.transforms.policy import load
    from autogrant.transforms.run_state import connect

    folder = tmp_path / "policies"
    folder.mkdir()
    data = yaml.safe_load((reference_impl.POLICY_DIR / "CN-2024.yaml").read_text(encoding="utf-8"))
    rule = {"cite": "a province's implementing notice (test copy)", "assumed": True, "confirm": "the notice"}
    data["rules"]["size_classification"] = {"value": "avg_insured_headcount", **rule}
    data["rules"]["large_min_avg_insured"] = {"value": 20, **rule}  # small drops: 20 insured on average is large
    (folder / "CN-2024.yaml").write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    meta = random_drop_generate.generate(tmp_path / "drop", seed, "CN-2024")
    if meta["exit"] == 2:
        pytest.skip("a drop that stops before deciding")
    con = connect()
    decide_drop(con, load("CN-2024", folder), tmp_path / "drop", None, meta["as_of"])
    cols = "uscc, decision, reasons, coalesce(size_class_used, ''), amount_due, amount, coalesce(payee_account, '')"
    actual = {r[0]: r[1:] for r in con.execute(f"SELECT {cols} FROM decision_details").fetchall()}
    expected = {
        code: (d["decision"], ";".join(d["reasons"]), d["size_class"] or "", d["amount_due"], d["amount"], d["payee_account"])
        for code, d in reference_impl.decide(tmp_path / "drop", "CN-2024", meta["as_of"], folder).items()
    }
    assert {d[2] for d in expected.values()} >= {"large", "sme"}
    problems = [f"{c}: autogrant {actual.get(c)} reference {expected.get(c)}" for c in sorted(set(actual) | set(expected))
                if actual.get(c) != expected.get(c)]  # fmt: skip
    assert not problems, "\n".join(problems)
