"""The optional files of the notices after 2021 (README, additions of issue 16) in a random drop (tests/random_drops.py),
each drawn from its own seeded stream so that the rest of the drop stays what it was:

- ``benefit_claims.csv``: claimants of the unit's roster (leavers first) and persons it never insured, counts around
  the 5.5 % and 20 % limits, a person claiming twice, claims on the first and last day of Y and just outside it, claims
  of units the register does not know; now and then a line sent twice (its date spelt another way), a bad check digit,
  an impossible or empty date (the unit INVALID_INPUT). A policy measuring layoffs by claims gets the file with rows,
  header only, or (rarely) none: exit 2 at once. Under LN-2022 (which does not read it for the layoff rate) rows now
  and then.
- ``contribution_accounts.csv`` (policies with ``fallback_payee``): the tax bureau's account for most units without a
  usable register account and for some with one (the register wins); names equal, folded (full-width brackets, outer
  spaces), with an inner space, another name or another registered unit's name; an account number another unit also
  uses; malformed cells and USCCs on two lines (refused: the unit only loses its fallback); rows of unknown units.
"""

import datetime as dt
import random

from tests.random_drop_files import bad_check, person_id, valid_uscc

USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"


def add_claims(b, seed: int, modes: dict[str, str]) -> list[str]:
    """benefit_claims.csv for the drop b (a DropBuilder); returns the USCCs spoiled."""
    r, c, y = random.Random(f"{b.policy_id}:{seed}:benefit_claims"), b.cells, b.year
    needed = b.p.get("layoff_formula") == "benefit_claims_over_avg_insured"
    if needed:
        modes["benefit_claims"] = r.choice(["rows"] * 9 + ["header", "header", "missing"])
    elif b.policy_id == "LN-2022":
        modes["benefit_claims"] = r.choice(["rows", "missing", "missing"])
    else:
        modes["benefit_claims"] = "missing"
    if modes["benefit_claims"] != "rows":
        return []
    rows, spoiled = b.rows["benefit_claims"], []
    year_days = (dt.date(y, 12, 31) - dt.date(y, 1, 1)).days

    def claim(pid: str, code: str, day: dt.date) -> None:
        rows.append({"person_id": pid, "uscc": code, "claim_date": c.date(day)})

    for unit in b.units:
        code = unit["uscc"]
        spells = [s for s in b.rows["roster"] if s["uscc"] == code]
        persons = list(dict.fromkeys(s["person_id"] for s in spells))
        leavers = list(dict.fromkeys(s["person_id"] for s in spells if s["end_date"]))
        n = len(persons)
        count = r.choice([0] * 8 + [1, 1, 2, 3, n * 55 // 1000, n * 55 // 1000 + 1, n // 5, n // 5 + 1, r.randrange(0, n + 2)])
        pool = leavers + [p for p in persons if p not in leavers]
        for k in range(count):
            if k < len(pool) and r.random() < 0.9:
                pid = pool[k]
            else:  # a person the unit never insured (the claim still names it)
                b.persons += 1
                pid = person_id(r, b.persons)
            day = dt.date(y, 1, 1) + dt.timedelta(days=r.randrange(0, year_days + 1))
            claim(pid, code, day)
            if r.random() < 0.08:  # the same person again later in Y: counted once
                claim(pid, code, min(day + dt.timedelta(days=r.randrange(1, 200)), dt.date(y, 12, 31)))
        if r.random() < 0.15:  # on the year's edges: in Y (1 Jan, 31 Dec) or just outside it (not counted)
            pid = r.choice(persons) if persons else person_id(r, b.persons + 1)
            b.persons += 1
            claim(pid, code, r.choice([dt.date(y, 1, 1), dt.date(y, 12, 31), dt.date(y - 1, 12, 31), dt.date(y + 1, 1, 1),
                                       dt.date(y - 1, 6, 1), dt.date(y + 1, 3, 1)]))  # fmt: skip
        if unit is not b.units[0] and r.random() < 0.05:  # refused: the unit INVALID_INPUT
            spoiled.append(code)
            b.persons += 1
            kind = r.choice(["twice", "check", "date", "empty"])
            if kind == "twice" and rows and rows[-1]["uscc"] == code:
                again = dict(rows[-1])
                day = again["claim_date"].replace("-", "").replace("/", "")
                again["claim_date"] = f"{day[:4]}/{day[4:6]}/{day[6:]}" if r.random() < 0.5 else day
                rows.append(again)
            elif kind == "check":
                rows.append({"person_id": bad_check(person_id(r, b.persons), "0123456789X"), "uscc": code,
                             "claim_date": c.date(dt.date(y, 5, 5))})  # fmt: skip
            else:
                rows.append({"person_id": person_id(r, b.persons), "uscc": code,
                             "claim_date": f"{y}-02-30" if kind == "date" else ""})  # fmt: skip
    for _ in range(r.randrange(0, 3)):  # claims naming units the register does not know
        b.persons += 1
        ghost = valid_uscc(b.units[-1]["region_code"], 300_000_000 + r.randrange(10**5))
        claim(person_id(r, b.persons), ghost, dt.date(y, 7, 1))
    return spoiled


def account_name(r: random.Random, unit: dict, others: list[dict]) -> str:
    name, pick = unit["unit_name"], r.random()
    if pick < 0.55:
        return name
    if pick < 0.65:  # folds to the unit name: full-width and half-width brackets swapped
        return name.replace("（", "(").replace("）", ")") if "（" in name else name.replace("(", "（").replace(")", "）")
    if pick < 0.75:
        return r.choice(["\u3000", " "]) + name + r.choice(["\u3000", " ", ""])
    if pick < 0.82:
        return name[:2] + " " + name[2:]  # an inner space: another name
    if pick < 0.9:
        return r.choice(others)["unit_name"]  # another registered unit's name (a fraud signal)
    return "某某代理记账有限公司"


def add_contribution_accounts(b, seed: int, modes: dict[str, str]) -> None:
    """contribution_accounts.csv for a drop of a policy with fallback_payee (the tax bureau's contribution accounts)."""
    r = random.Random(f"{b.policy_id}:{seed}:contribution_accounts")
    if b.p.get("fallback_payee") != "contribution_account":
        modes["contribution_accounts"] = "missing"
        return
    modes["contribution_accounts"] = r.choice(["rows"] * 8 + ["header", "missing"])
    if modes["contribution_accounts"] != "rows":
        return
    rows = b.rows["contribution_accounts"]
    for unit in b.units:
        usable = bool(unit["bank_account"] and unit["bank_code"])
        if r.random() > (0.15 if usable else 0.8):
            continue
        account, code = str(r.randrange(10**9, 10**19)), str(r.randrange(10**11, 10**12))
        pick = r.random()
        if pick < 0.06 and any(u["bank_account"] for u in b.units):  # another unit's register account number
            account = r.choice([u["bank_account"] for u in b.units if u["bank_account"]])
        elif pick < 0.12 and rows:  # the account another unit pays its contributions from (an agent's)
            account = r.choice(rows)["bank_account"]
        row = {"uscc": unit["uscc"], "bank_account": account, "bank_code": code,
               "account_name": account_name(r, unit, b.units)}  # fmt: skip
        bad = r.random()
        if bad < 0.03:
            row["bank_account"] = "12345"  # under 6 digits
        elif bad < 0.06:
            row["bank_code"] = code[:11]
        elif bad < 0.08:
            row["account_name"] = r.choice(["", " "])
        elif bad < 0.1:
            row["bank_account"] = account[:4] + "-" + account[4:]
        elif bad < 0.12:
            row["uscc"] = bad_check(unit["uscc"], USCC_ALPHABET)
        rows.append(row)
        if r.random() < 0.05:  # the same USCC on a second line, the same account or another: every line refused
            rows.append(dict(row) if r.random() < 0.5 else dict(row, bank_account=str(r.randrange(10**9, 10**12))))
    for _ in range(r.randrange(0, 3)):  # accounts of units the register does not know
        ghost = valid_uscc(b.units[-1]["region_code"], 310_000_000 + r.randrange(10**5))
        rows.append({"uscc": ghost, "bank_account": str(r.randrange(10**9, 10**12)), "bank_code": "102221000012",
                     "account_name": "无登记单位"})  # fmt: skip
