"""The reference's reading of the rules the notices after 2021 brought (issue 16), from the policy files' clauses and
the README's "Additions to the input contract (issue 16)", written apart from autogrant's SQL:

- the layoff rate: ``net_decline`` and ``net_decline_excl_natural`` (POLICY_RULES.md), and
  ``benefit_claims_over_avg_insured``: distinct persons whose benefit claim dated in Y names the unit, over the average
  monthly insured headcount of Y (Σ over the 12 months of the persons insured on some day of the month, ÷ 12), compared
  exactly (claimants × 12 against the limit × Σ);
- ``months_paid_min``: fee months of Y whose premium due (unit + staff, > 0) is paid in full by the cut-off;
- ``fallback_payee: contribution_account``: a unit without a usable register account (account or CNAPS code empty)
  is paid to its one staged row of contribution_accounts.csv, the account name compared as a register one;
- ``size_classification: avg_insured_headcount``: an enterprise is large from ``large_min_avg_insured`` insured on
  average (Σ ≥ 12 × N), else ``sme``; the registered class does not count;
- the fraud signals (README, issue 12) with the contribution account where it is the one paid.
"""

import datetime as dt
from fractions import Fraction

NATURAL_ENDS = ("retirement", "death")  # POLICY_RULES.md: net_decline_excl_natural leaves these spells out


def fold(name: str | None) -> str:
    """Trim, and fold full-width forms (U+FF01..U+FF5E, the ideographic space) to half-width."""
    out = []
    for ch in name or "":
        o = ord(ch)
        out.append(chr(o - 0xFEE0) if 0xFF01 <= o <= 0xFF5E else " " if ch == "\u3000" else ch)
    return "".join(out).strip(" ")


def month_bounds(year: int, month: int) -> tuple[dt.date, dt.date]:
    first = dt.date(year, month, 1)
    last = (dt.date(year + month // 12, month % 12 + 1, 1)) - dt.timedelta(days=1)
    return first, last


def insured_month_total(spells: list[dict], year: int) -> int:
    """Σ over the 12 months of Y of the distinct persons insured with the unit on at least one day of the month."""
    total = 0
    for month in range(1, 13):
        first, last = month_bounds(year, month)
        total += len(
            {s["person_id"] for s in spells if s["start_date"] <= last and (s["end_date"] is None or s["end_date"] >= first)}
        )
    return total


def claimants(claims: list[dict], year: int) -> int:
    """Distinct persons with a benefit claim dated in Y naming the unit (the file's staged rows)."""
    return len({c["person_id"] for c in claims if c["claim_date"].year == year})


def layoff_exceeded(rows: dict, facts: dict, limit: Fraction, p) -> bool:
    """LAYOFF_RATE_EXCEEDED under the policy's formula; "不高于" (at_most) passes a rate equal to the limit."""
    at_most = p["layoff_comparison"] != "below"
    if p.layoff_formula == "benefit_claims_over_avg_insured":
        left = Fraction(12 * facts["benefit_claimants"])
        right = limit * facts["insured_month_total"]
    else:
        h_start, h_end = facts["headcount_start"], facts["headcount_end"]
        decline = h_start - h_end
        if p.layoff_formula == "net_decline_excl_natural":
            decline -= facts["natural_exits"]
        left, right = (Fraction(max(0, decline), h_start) if h_start else Fraction(0)), limit
    return left > right if at_most else left >= right


def natural_exits(spells: list[dict], year: int) -> int:
    """Spells of the unit ending in Y by retirement or death (POLICY_RULES.md, net_decline_excl_natural)."""
    return sum(1 for s in spells if s["end_date"] and s["end_date"].year == year and s["end_reason"] in NATURAL_ENDS)


def months_paid_in_full(payments: list[dict], year: int, cutoff: dt.date) -> int:
    """Fee months of Y with something due, whose due (unit + staff) is paid in full by the cut-off."""
    due: dict[int, int] = {}
    paid: dict[int, int] = {}
    for m in payments:
        if m["fee_month"][0] != year:
            continue
        month = m["fee_month"][1]
        due[month] = due.get(month, 0) + m["unit_due"] + m["staff_due"]
        if m["paid_date"] and m["paid_date"] <= cutoff:
            paid[month] = paid.get(month, 0) + m["unit_paid"] + m["staff_paid"]
    return sum(1 for month, owed in due.items() if owed > 0 and paid.get(month, 0) >= owed)


def after_2021_facts(rows: dict, p) -> dict:
    """The facts the later rules read, from the unit's staged rows."""
    spells = rows.get("roster", [])
    return {
        "benefit_claimants": claimants(rows.get("benefit_claims", []), p.year),
        "insured_month_total": insured_month_total(spells, p.year),
        "natural_exits": natural_exits(spells, p.year),
        "months_paid": months_paid_in_full(rows.get("payments", []), p.year, p.cutoff),
    }


def size_by_avg_insured(unit: dict, facts: dict, p) -> str | None:
    """README: large when Σ monthly insured ÷ 12 ≥ large_min_avg_insured, else sme; enterprises only."""
    if unit["unit_type"] != "enterprise":
        return None
    return "large" if facts["insured_month_total"] >= 12 * int(p["large_min_avg_insured"]) else "sme"


def payee(unit: dict, rows: dict, p) -> dict:
    """The account the unit would be paid to: its register account where number and CNAPS code are given; else, under
    a policy with ``fallback_payee: contribution_account``, its staged contribution account; else none (the register's
    partial data kept for the fraud signals)."""
    if unit["bank_account"] and unit["bank_code"]:
        return {"kind": "register", "account": unit["bank_account"], "code": unit["bank_code"], "name": unit["account_name"]}
    accounts = rows.get("contribution_accounts", []) if p.fallback else []
    if len(accounts) == 1:
        a = accounts[0]
        return {"kind": "contribution_account", "account": a["bank_account"], "code": a["bank_code"], "name": a["account_name"]}
    return {"kind": "", "account": unit["bank_account"], "code": unit["bank_code"], "name": unit["account_name"]}


def signals_of(register: list[dict], by_uscc: dict, p) -> dict[str, list[str]]:
    """USCC -> its fraud signals, over every staged register row of the drop (all regions): an account number
    registered for two or more units of the register (reference/account_signals.yaml) and the unit would be paid into
    it (ACCOUNT_SHARED: a contribution account is not registered, but a unit paid into another's registered account is
    flagged); the account the unit would be paid to (number and code given) in the name of another registered unit
    (ACCOUNT_NAME_OTHER_UNIT)."""
    accounts = {u["uscc"]: payee(u, by_uscc.get(u["uscc"], {}), p) for u in register}
    holders: dict[str, set[str]] = {}
    names: dict[str, set[str]] = {}
    for u in register:
        if u["bank_account"]:
            holders.setdefault(u["bank_account"], set()).add(u["uscc"])
        names.setdefault(fold(u["unit_name"]), set()).add(u["uscc"])
    out = {}
    for u in register:
        a = accounts[u["uscc"]]
        own = fold(u["unit_name"])
        named = fold(a["name"]) if a["name"] else None
        has_account = bool(a["account"] and a["code"])
        out[u["uscc"]] = [code for code, hit in (
            ("ACCOUNT_SHARED", bool(a["account"]) and len(holders.get(a["account"], ())) > 1),
            ("ACCOUNT_NAME_OTHER_UNIT", has_account and named is not None and named != own
             and bool(names.get(named, set()) - {u["uscc"]})),
        ) if hit]  # fmt: skip
    return out
