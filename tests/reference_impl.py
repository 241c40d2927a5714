"""An independent reading of ../shared/CONTRACT.md and ../shared/POLICY_RULES.md (with the README's additions), row by row.

Plain Python and the csv module; it shares no code with autogrant (policy values are read from its YAML files).
``decide(drop, policy_id)`` gives every unit in scope of a decidable region: decision, reasons, headcounts, size class,
premium base, amounts in integer fen. Rule changes since POLICY_RULES.md: the premium base counts premiums of Y paid by
the cut-off (issue 17 item 2, README); AMOUNT_ZERO and the INVALID_INPUT scope are the README's additions; the
difficulty refund's second standard, 3 months of social-insurance premium due, from si_premiums_due.csv (issue 17 item 4);
the rules of the notices after 2021 (issue 16: tests/reference_after_2021.py).
"""

import datetime as dt
from fractions import Fraction
from pathlib import Path

import yaml

from tests import reference_after_2021 as later
from tests.reference_after_2021 import fold, signals_of
from tests.reference_read import FILES, read
from tests.reference_size import size_class

POLICY_DIR = Path(__file__).resolve().parents[1] / "autogrant" / "policies"
REJECTS = ["INVALID_INPUT", "UNIT_TYPE_INELIGIBLE", "UNIT_INACTIVE", "REGION_RESERVE_INSUFFICIENT", "SIZE_CLASS_INELIGIBLE",
           "HEADCOUNT_OVER_CAP", "LAYOFF_RATE_EXCEEDED", "ARREARS_OUTSTANDING", "NO_PREMIUM_PAID", "DISHONEST_ENTITY",
           "ZOMBIE_ENTERPRISE", "DOUBLE_DIP", "NOT_IN_DIFFICULTY", "ALREADY_PAID", "AMOUNT_ZERO"]  # fmt: skip
# README (issue 17): a unit above a cap the policy pays on application is held until it applies (none applies here);
# a unit eligible under both Inner Mongolia schemes is paid the larger, the other rejects it; listed last
HOLDS = ["SIZE_CLASS_MISSING", "BANK_ACCOUNT_MISSING", "ACCOUNT_NAME_MISMATCH", "APPLICATION_REQUIRED"]
# README (issue 16): PREMIUM_MONTHS_SHORT (REJECT) appended after OTHER_SCHEME_CHOSEN; the signals after it
LAST_REJECTS = ["OTHER_SCHEME_CHOSEN", "PREMIUM_MONTHS_SHORT"]
# README (issue 12): fraud signals, HOLDs listed after everything else: an account number registered for two or more
# units of the drop's register; an account (number and bank code given) in the name of another registered unit
SIGNALS = ["ACCOUNT_SHARED", "ACCOUNT_NAME_OTHER_UNIT"]


def headcount(spells: list[dict], day: dt.date) -> int:
    return len({s["person_id"] for s in spells if s["start_date"] <= day and (s["end_date"] is None or s["end_date"] >= day)})


class Policy:
    """The policy's values (autogrant/policies/<ID>.yaml) as POLICY_RULES.md names them."""

    def __init__(self, policy_id: str, as_of: dt.date | None, policy_dir: Path = POLICY_DIR):
        rules = yaml.safe_load((policy_dir / f"{policy_id}.yaml").read_text(encoding="utf-8"))["rules"]
        self.v = {k: (v["value"] if isinstance(v, dict) and "value" in v else v) for k, v in rules.items()}
        self.id = policy_id
        self.year = int(self.v["assessed_year"])
        self.cutoff = as_of or dt.date.fromisoformat(str(self.v["default_as_of"]))
        self.ref_date = dt.date.fromisoformat(str(self.v["reference_date"]))
        self.regions = set(self.v["regions"])
        self.layoff_from_region = self.v["layoff_rate_max"] == "region_registered_unemployment_rate"
        self.benefit = self.v["amount_formula"] == "benefit_months"
        self.by_application = (self.v.get("over_cap") or {}).get("route") == "apply"  # above the cap: on application
        # README, additions of issue 16 (tests/reference_after_2021.py); an unknown rule is refused, not guessed
        self.layoff_formula = self.v.get("layoff_formula", "net_decline")
        self.fallback = self.v.get("fallback_payee") == "contribution_account"
        self.size_by_avg = self.v.get("size_classification") == "avg_insured_headcount"
        if self.layoff_formula not in ("net_decline", "net_decline_excl_natural", "benefit_claims_over_avg_insured"):
            raise NotImplementedError(f"the reference does not implement {policy_id}'s layoff formula")
        if self.v.get("fallback_payee") not in (None, "contribution_account"):
            raise NotImplementedError(f"the reference does not implement {policy_id}'s fallback payee")
        # the size class matters where the rate or the eligibility depends on it (LN-2021, DL-2020, IM-2020)
        self.size_matters = bool(self.v.get("size_classes_covered")) or any(
            a.get("size_classes") for a in self.v.get("rate_arms") or []
        )

    def __getitem__(self, key):
        return self.v[key]

    def get(self, key, default=None):
        return self.v.get(key, default)


def load(drop: Path) -> dict:
    """Staged rows per file, quarantined rows per file (name + '!'), staged rows per USCC and the USCCs with a bad row."""
    data, bad_keys, by_uscc = {}, set(), {}
    for name in FILES:
        data[name], data[name + "!"] = read(Path(drop), name)
        if name != "contribution_accounts":  # README: a refused contribution account only loses the unit its fallback
            bad_keys |= {r["_key"] for r in data[name + "!"] if r["_key"]}
        for r in data[name]:
            if "uscc" in r:
                by_uscc.setdefault(r["uscc"], {}).setdefault(name, []).append(r)
    data["bad_keys"], data["by_uscc"] = bad_keys, by_uscc
    return data


def unit_facts(rows: dict[str, list], p: Policy) -> dict:
    """Headcounts, premium base, arrears and what was paid earlier, from the unit's staged rows."""
    y, cutoff = p.year, p.cutoff
    spells, pays = rows.get("roster", []), rows.get("payments", [])
    # premium base: fee months of Y paid by the cut-off (issue 17 item 2, README); late fees never count
    base = sum(
        m["unit_paid"] + m["staff_paid"] for m in pays if m["fee_month"][0] == y and m["paid_date"] and m["paid_date"] <= cutoff
    )
    upto_y = [m for m in pays if m["fee_month"][0] <= y]
    due = sum(m["unit_due"] + m["staff_due"] for m in upto_y)

    def arrears(day: dt.date) -> int:
        return due - sum(m["unit_paid"] + m["staff_paid"] for m in upto_y if m["paid_date"] and m["paid_date"] <= day)

    return {
        "headcount_ref": headcount(spells, p.ref_date),
        "headcount_start": headcount(spells, dt.date(y - 1, 12, 31)),
        "headcount_end": headcount(spells, dt.date(y, 12, 31)),
        "premium_base": base,
        "arrears_cutoff": arrears(cutoff),
        "paid_up_arrears": arrears(dt.date(y, 12, 31)) > 0 and arrears(cutoff) <= 0,
        "already_paid": sum(b["amount"] for b in rows.get("prior_disbursements", []) if b["policy_id"] == p.id),
        # what the unit and its staff owed for all social insurance, month by month of Y (si_premiums_due.csv)
        "si_due_by_month": {
            r["fee_month"]: r["unit_due"] + r["staff_due"] for r in rows.get("si_premiums_due", []) if r["fee_month"][0] == y
        },
        **later.after_2021_facts(rows, p),
    }


def difficulty_standard(p: Policy, fund: dict, facts: dict) -> int | None:
    """内蒙古工作方案 二(二): "可按不超过6个月的当地月人均失业保险金和参保职工人数确定，或按不超过3个月的企业及其职工应
    缴纳社会保险费确定". The first: months x the region's average monthly benefit x the insured; the second, where the
    policy reads it (README: the average month of the assessed year's premiums due on file, times 3, floored to the
    fen) and the unit has a month on file: the larger of the two is the refund. None without the benefit figure."""
    if fund["avg_monthly_benefit"] is None:
        return None
    first = int(p["benefit_months"]) * fund["avg_monthly_benefit"] * facts["headcount_ref"]
    months = facts["si_due_by_month"]
    if not p.get("premium_months_alt") or not months:
        return first
    average = Fraction(sum(months.values()), len(months))
    second = int(p["premium_months_alt"] * average)  # Fraction -> int truncates; never negative: the floor
    return max(first, second)


def rate_of(unit: dict, size: str | None, facts: dict, p: Policy) -> Fraction | None:
    """The first rate arm whose conditions hold; none where the size class matters and is unknown."""
    if p.benefit or (p.size_matters and unit["unit_type"] == "enterprise" and size is None):
        return None
    for arm in sorted(p["rate_arms"], key=lambda a: a.get("order", 0)):
        if arm.get("industries") and not (unit["industry_code"] or "").startswith(tuple(arm["industries"])):
            continue
        if arm.get("size_classes") and size not in arm["size_classes"]:
            continue
        if arm.get("paid_up_arrears") is not None and arm["paid_up_arrears"] != facts["paid_up_arrears"]:
            continue
        return Fraction(str(arm["rate"]))
    return None


def flags_of(unit: dict, rows: dict, facts: dict, fund: dict, size, formula: int | None, p: Policy, bad: bool) -> dict:
    """Every rule of POLICY_RULES.md for one unit (none short-circuits)."""
    cutoff, h_end = p.cutoff, facts["headcount_end"]
    small = p.get("small_unit_max_headcount") is not None and h_end <= int(p["small_unit_max_headcount"])
    if small:
        limit = Fraction(str(p["layoff_rate_max_small"]))
    else:
        limit = fund["registered_unemployment_rate"] if p.layoff_from_region else Fraction(str(p["layoff_rate_max"]))
    cap, covered = p.get("headcount_cap"), p.get("size_classes_covered")

    def listed(name, test) -> bool:
        return any(test(r) for r in rows.get(name, []))

    account = later.payee(unit, rows, p)
    has_account = bool(account["account"] and account["code"])
    months_min = p.get("months_paid_min")
    return {
        "INVALID_INPUT": bad,
        "UNIT_TYPE_INELIGIBLE": unit["unit_type"] not in p["eligible_unit_types"],
        "UNIT_INACTIVE": unit["status"] in p["inactive_statuses"],
        "REGION_RESERVE_INSUFFICIENT": fund["balance"] < int(p["reserve_months_min"]) * fund["monthly_expenditure"]
        and not (p["adjustment_fund_allowed"] and fund["adjustment_approved"]),
        "SIZE_CLASS_INELIGIBLE": bool(covered) and size is not None and size not in covered,
        "HEADCOUNT_OVER_CAP": cap is not None and facts["headcount_ref"] > int(cap) and not p.by_application,
        "APPLICATION_REQUIRED": cap is not None and facts["headcount_ref"] > int(cap) and p.by_application,
        "LAYOFF_RATE_EXCEEDED": later.layoff_exceeded(rows, facts, limit, p),
        "ARREARS_OUTSTANDING": bool(p["arrears_paid_up"]) and facts["arrears_cutoff"] > 0,
        "NO_PREMIUM_PAID": facts["premium_base"] == 0,
        "DISHONEST_ENTITY": bool(p["exclude_dishonest"]) and listed(
            "lists/dishonest", lambda r: r["listed_date"] <= cutoff and (r["removed_date"] is None or r["removed_date"] > cutoff)),
        "ZOMBIE_ENTERPRISE": bool(p["exclude_zombie"]) and listed("lists/zombie", lambda r: r["listed_date"] <= cutoff),
        "DOUBLE_DIP": listed("lists/other_subsidies", lambda r: r["year"] == p.year and r["subsidy_type"] in p["double_dip_subsidy_types"]),
        "NOT_IN_DIFFICULTY": bool(p["difficulty_list_required"])
        and not listed("lists/difficulty", lambda r: r["recognised_date"] <= cutoff),
        "ALREADY_PAID": bool(formula) and facts["already_paid"] >= formula,
        "AMOUNT_ZERO": facts["premium_base"] > 0 and formula == 0,
        "SIZE_CLASS_MISSING": p.size_matters and unit["unit_type"] == "enterprise" and size is None,
        "BANK_ACCOUNT_MISSING": not has_account,
        # a name is compared where there is an account to compare it with
        "ACCOUNT_NAME_MISMATCH": has_account and fold(account["name"]) != fold(unit["unit_name"]),
        "PREMIUM_MONTHS_SHORT": months_min is not None and facts["months_paid"] < int(months_min),
    }  # fmt: skip


def decide(drop: Path, policy_id: str, as_of: dt.date | None = None, policy_dir: Path = POLICY_DIR) -> dict[str, dict]:
    """Every unit in scope of a decidable region -> its decision (amounts in fen)."""
    p = Policy(policy_id, as_of, policy_dir)
    data = load(drop)
    units = {u["uscc"]: u for u in data["units"] if u["region_code"] in p.regions}
    staged_codes = {u["uscc"] for u in data["units"]}
    register_bad = {}  # README: a quarantined register row whose region is in scope is decided INVALID_INPUT alone
    for u in data["units!"]:
        if u["_key"] and u["region_code"] in p.regions and u["_key"] not in staged_codes:
            register_bad.setdefault(u["_key"], u)
    funds = {f["region_code"]: f for f in data["region_funds"] if f["fund_year"] == p.year}

    def decidable(region: str) -> bool:
        f = funds.get(region)
        return not (f is None or (p.layoff_from_region and f["registered_unemployment_rate"] is None)
                    or (p.benefit and f["avg_monthly_benefit"] is None))  # fmt: skip

    signals = signals_of(data["units"], data["by_uscc"], p)
    out = {}
    for code, unit in [*units.items(), *((k, None) for k in register_bad)]:
        region = unit["region_code"] if unit else register_bad[code]["region_code"]
        if not decidable(region):
            continue
        rows = data["by_uscc"].get(code, {})
        facts = unit_facts(rows, p)
        result = out[code] = {"region_code": region, "size_class": None, **facts}
        if unit is None:
            result.update(decision="REJECT", reasons=["INVALID_INPUT"], amount_due=0, amount=0, formula_fen=0,
                          payee_account="" if p.fallback else None)  # fmt: skip
            continue
        size = result["size_class"] = later.size_by_avg_insured(unit, facts, p) if p.size_by_avg else size_class(unit)
        result["payee_account"] = later.payee(unit, rows, p)["kind"] if p.fallback else None
        rate = rate_of(unit, size, facts, p)
        if p.benefit:
            formula = difficulty_standard(p, funds[region], facts)
        else:
            formula = None if rate is None else (facts["premium_base"] * rate.numerator) // rate.denominator
        flags = flags_of(unit, rows, facts, funds[region], size, formula, p, code in data["bad_keys"])
        other_paid = 0
        if p.get("alternative_scheme"):
            q = Policy(p["alternative_scheme"], as_of, policy_dir)
            other_paid = sum(b["amount"] for b in rows.get("prior_disbursements", []) if b["policy_id"] == q.id)
            flags["ALREADY_PAID"] = bool(formula) and facts["already_paid"] + other_paid >= formula
            rejects = [c for c in REJECTS if flags[c] and c not in ("ALREADY_PAID", "AMOUNT_ZERO")]
            flags["OTHER_SCHEME_CHOSEN"] = not rejects and other_scheme_wins(unit, rows, facts, funds[region], size, p, q)
        rejects = [c for c in REJECTS + LAST_REJECTS if flags.get(c)]
        holds = [c for c in HOLDS if flags[c]]
        flagged = signals.get(code, [])
        decision = "REJECT" if rejects else "HOLD" if holds or flagged else "PAY"
        formula = formula or 0
        result.update(
            decision=decision,
            reasons=[c for c in rejects if c not in LAST_REJECTS] + holds + [c for c in rejects if c in LAST_REJECTS] + flagged,
            formula_fen=formula,
            rate=rate,
            amount_due=0 if rejects and rejects != ["ALREADY_PAID"] else formula,
            amount=max(formula - facts["already_paid"] - other_paid, 0) if decision == "PAY" else 0,
        )
    return out


def scheme_amount(unit: dict, size, facts: dict, fund: dict, p: Policy) -> int:
    """A scheme's amount for comparison; without a size class where it matters, the highest rate the unit could get."""
    if p.benefit:
        return difficulty_standard(p, fund, facts) or 0
    rate = rate_of(unit, size, facts, p)
    if rate is None:
        rate = max(Fraction(str(a["rate"])) for a in p["rate_arms"])
    return (facts["premium_base"] * rate.numerator) // rate.denominator


def other_scheme_wins(unit: dict, rows: dict, facts: dict, fund: dict, size, p: Policy, q: Policy) -> bool:
    """内蒙古工作方案 二(二): the alternative scheme q is open to the unit (its list, its reserve) and grants more."""
    listed = any(r["recognised_date"] <= q.cutoff for r in rows.get("lists/difficulty", []))
    open_ = (not q["difficulty_list_required"] or listed) and (
        fund["balance"] >= int(q["reserve_months_min"]) * fund["monthly_expenditure"]
        or (q["adjustment_fund_allowed"] and fund["adjustment_approved"]))  # fmt: skip
    own, other = scheme_amount(unit, size, facts, fund, p), scheme_amount(unit, size, facts, fund, q)
    return open_ and other > 0 and (other > own or (other == own and q.id < p.id))


def undecidable_regions(drop: Path, policy_id: str) -> set[str]:
    """Regions of the policy with units in the register but no fund position for Y (exit 4)."""
    p = Policy(policy_id, None)
    units, _ = read(Path(drop), "units")
    funds, _ = read(Path(drop), "region_funds")
    have = {f["region_code"] for f in funds if f["fund_year"] == p.year}
    return {u["region_code"] for u in units if u["region_code"] in p.regions} - have
