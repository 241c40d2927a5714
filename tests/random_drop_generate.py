"""One seeded random drop written for a policy (tests/random_drops.py builds it) with what it should produce:
the exit code, the regions that cannot be decided, the files left out or spoiled.

    python -m tests.random_drop_generate OUT_DIR --seed 7 [--policy LN-2021]
"""

import argparse
import datetime as dt
import random
from pathlib import Path

from tests import random_drop_files, random_drop_later
from tests.random_drop_files import add_priors, spoil, write_control
from tests.random_drops import OPTIONAL, POLICIES, build, write


def generate(out: Path, seed: int, policy_id: str = "LN-2021") -> dict:
    """Write the drop for (seed, policy) under out; return the expected exit code and undecidable regions."""
    from tests import reference_impl

    b = build(seed, policy_id)
    modes = {name: b.rng.choice(["rows", "rows", "rows", "header", "missing"]) for name in OPTIONAL}
    if b.p.get("difficulty_list_required") and b.rng.random() < 0.85:
        modes["lists/difficulty"] = "rows"
    # si_premiums_due.csv: Inner Mongolia drops only; benefit claims and contribution accounts: the policies after 2021
    spoiled = spoil(b, modes) + random_drop_files.add_si_premiums(b, seed, modes)
    spoiled += random_drop_later.add_claims(b, seed, modes)
    random_drop_later.add_contribution_accounts(b, seed, modes)
    # a policy measuring layoffs by benefit claims cannot run without the file: exit 2 before any decision
    no_claims = b.p.get("layoff_formula") == "benefit_claims_over_avg_insured" and modes["benefit_claims"] == "missing"
    # now and then a cut-off other than the policy's (--as-of), drawn apart so that the drop stays the same
    pick = random.Random(seed * 7919 + 1).random()
    as_of = None if pick < 0.75 else b.cutoff + dt.timedelta(days=-1 if pick < 0.83 else -120 if pick < 0.92 else 45)
    out.mkdir(parents=True, exist_ok=True)
    write(b, out, modes)
    formula = {u: d["formula_fen"] for u, d in reference_impl.decide(out, policy_id, as_of).items()}
    if modes["prior_disbursements"] == "rows":
        add_priors(b, formula, POLICIES)
    write(b, out, modes)
    control = write_control(b, out, modes, random.Random(seed * 7919 + 2).random())
    exit_code = 2 if control == "wrong" or no_claims else 4 if b.missing_region else 0
    return {"policy": policy_id, "seed": seed, "exit": exit_code, "missing_region": b.missing_region, "as_of": as_of,
            "control": control, "missing_file": "benefit_claims.csv" if no_claims else None, "spoiled": spoiled,
            "optional": modes}  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out", type=Path)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--policy", default="LN-2021", choices=POLICIES)
    args = ap.parse_args()
    print(generate(args.out, args.seed, args.policy))


if __name__ == "__main__":
    main()
