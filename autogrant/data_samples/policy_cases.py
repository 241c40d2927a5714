"""Readable policy cases (tests/policies/<POLICY>.yaml) turned into a drop: one unit per case.

A case gives a unit's facts in the words of DropBuilder.unit, plus:
  region: the pooling region (default: the file's region)
  dishonest / zombie / difficulty: a list entry, e.g. {listed: 2020-06-01, removed: 2020-09-01}
  other_subsidy: {type: si_subsidy_hard_to_employ, year: 2017}
  prior_paid: yuan paid earlier under this policy (prior_disbursements)
  prior_paid_other: {policy: IM-2020-DIFFICULTY, amount: "1000.00"}: paid earlier under another policy
  december: paid_up (the December premium paid after the year, before the cut-off) or unpaid
  claims: n persons who left the unit and claimed unemployment benefit in the assessed year (benefit_claims.csv)
  months_paid: n (the unit insured and paying only for the last n fee months of the year: nothing due before)
  si_due: social-insurance premiums due (si_premiums_due.csv), yuan per fee month: {monthly: "20000.00", months: 12}
    (the last n months of the year), or a list of yuan for the last months of the year in order
  contribution_account: true, or {name: ...}: the account the unit pays its contributions from, as the tax bureau
    holds it (contribution_accounts.csv), in the unit's name unless another is given
``claims_file: true`` at the top writes benefit_claims.csv even when no case claims (a policy that needs it);
``defaults`` at the top are facts every case's unit has unless it says otherwise (null removes one);
and beside ``unit`` an optional ``fund`` (e.g. {months: 11.99}): the case's region has that fund position,
in a drop of its own (for policies of a single region);
and ``expect``: decision, reasons (exactly, ';'-separated, '' for none), and optionally amount and rate.
"""

import datetime as dt
from decimal import Decimal
from pathlib import Path

import yaml

from autogrant.data_samples.edge_cases import DropBuilder, make_person_id, make_uscc

UNIT_KEYS = {"name", "unit_type", "size_class", "industry", "employees", "revenue", "total_assets", "status", "start",
             "end", "natural_exits", "monthly_premium", "account", "account_name"}  # fmt: skip


def load_cases(path: Path) -> dict:
    spec = yaml.safe_load(path.read_text(encoding="utf-8"))
    for c in spec["cases"]:
        c["unit"] = (spec.get("defaults") or {}) | (c.get("unit") or {})
        c["expect"].setdefault("reasons", "")
    return spec


def _date(v) -> str:
    return v.isoformat() if isinstance(v, dt.date) else str(v)


def drops(spec: dict) -> list[list[int]]:
    """Case indices by drop: the cases without a ``fund`` of their own share one, each other fund gets its own."""
    groups: dict[str, list[int]] = {}
    for i, case in enumerate(spec["cases"]):
        groups.setdefault(repr(sorted((case.get("fund") or {}).items())), []).append(i)
    return list(groups.values())


def build_drop(spec: dict, indices: list[int], serial: int = 900_000_000) -> tuple[DropBuilder, list[str]]:
    """The drop holding the given cases' units; returns the builder and each case's USCC in order."""
    y = spec["assessed_year"]
    b = DropBuilder(y=y, serial=serial)
    own = spec["cases"][indices[0]].get("fund")
    funds = spec.get("funds") or {spec["region"]: {}}
    for region, f in funds.items():
        b.fund(str(region), **(own if own is not None else (f or {})))
    codes = []
    for case in (spec["cases"][i] for i in indices):
        facts = dict(case["unit"])
        region = str(facts.pop("region", spec["region"]))
        kwargs = {k: facts.pop(k) for k in list(facts) if k in UNIT_KEYS}
        december = facts.pop("december", None)
        if december:
            kwargs.setdefault("monthly_premium", 100_00)
        code = b.unit(region, **kwargs)
        if december:
            b.payments = [p for p in b.payments if not (p["uscc"] == code and p["fee_month"] == f"{y}-12")]
            paid_on = dt.date(y + 1, 3, 1) if december == "paid_up" else None
            b.pay(code, f"{y}-12", kwargs["monthly_premium"], kwargs["monthly_premium"] if paid_on else 0, paid_on)
        if d := facts.pop("dishonest", None):
            b.dishonest.append({"uscc": code, "listed_date": _date(d["listed"]),
                                "removed_date": _date(d["removed"]) if d.get("removed") else None})  # fmt: skip
        if z := facts.pop("zombie", None):
            b.zombie.append({"uscc": code, "listed_date": _date(z["listed"])})
        if f := facts.pop("difficulty", None):
            b.difficulty.append({"uscc": code, "recognised_date": _date(f["recognised"])})
        if o := facts.pop("other_subsidy", None):
            b.other_subsidies.append({"uscc": code, "subsidy_type": o["type"], "year": str(o["year"]), "amount": "1000.00"})
        if p := facts.pop("prior_paid", None):
            b.prior_disbursements.append(
                {"uscc": code, "policy_id": spec["policy"], "amount": str(p), "paid_date": f"{y + 1}-04-01"}
            )
        if o := facts.pop("prior_paid_other", None):  # paid earlier under another policy (an alternative scheme)
            b.prior_disbursements.append(
                {"uscc": code, "policy_id": o["policy"], "amount": str(o["amount"]), "paid_date": f"{y + 1}-04-01"}
            )
        if (n := facts.pop("months_paid", None)) is not None:
            first = f"{y}-{12 - n + 1:02d}"
            b.payments = [p for p in b.payments if not (p["uscc"] == code and p["fee_month"] < first)]
        for k in range(facts.pop("claims", 0) or 0):
            b.person += 1
            b.benefit_claims.append(
                {"person_id": make_person_id(b.person), "uscc": code, "claim_date": f"{y}-{k % 12 + 1:02d}-10"}
            )
        if (si := facts.pop("si_due", None)) is not None:
            amounts = si if isinstance(si, list) else [si["monthly"]] * int(si["months"])
            b.si_due(code, [int(Decimal(str(a)) * 100) for a in amounts])
        if ca := facts.pop("contribution_account", None):
            name = ca.get("name") if isinstance(ca, dict) else None
            unit_name = next(u["unit_name"] for u in b.units if u["uscc"] == code)
            b.contribution_accounts.append({"uscc": code, "bank_account": "621700001" + "".join(filter(str.isdigit, code))[-8:],
                                            "bank_code": "105222000019", "account_name": name or unit_name})  # fmt: skip
        if facts:
            raise ValueError(f"{case['name']}: unknown facts {sorted(facts)}")
        codes.append(code)
    if spec.get("claims_file") and not b.benefit_claims:  # the file present, its one claim for no unit of the drop
        b.person += 1
        b.benefit_claims.append({"person_id": make_person_id(b.person), "uscc": make_uscc(spec["region"], serial + 99_999),
                                 "claim_date": f"{y}-06-10"})  # fmt: skip
    return b, codes


def sample_cases(path: Path) -> DropBuilder:
    """The units of a case file that need no fund of their own, for a bundled sample drop (data_samples/generate.py)."""
    spec = load_cases(path)
    shared = [i for i, c in enumerate(spec["cases"]) if not c.get("fund")]
    return build_drop(spec, shared, serial=800_000_000)[0]
