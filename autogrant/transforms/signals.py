"""Fraud signals before release (issue 12 item 5): reference/account_signals.yaml read and checked, its thresholds
as a table for sql/39_account_signals.sql, a clerk's clearance recorded in the ledger, and the clerks' list.

ACCOUNT_SHARED           one bank account registered (or noticed or paid) for more units than the threshold
ACCOUNT_CHANGED          the account differs from the one the unit's public notice was prepared with
ACCOUNT_NAME_OTHER_UNIT  the account is held in the name of another unit of the register

Each is a HOLD (decided in sql/40_decisions.sql) until `autogrant clear` records, for that unit, signal and account,
that a clerk checked it with the unit; the clearance is a ledger entry sealed in the hash chain.
"""

import datetime as dt
from functools import cache
from pathlib import Path

import duckdb
import yaml
from pydantic import BaseModel, ConfigDict

from autogrant.transforms import files
from autogrant.transforms.errors import InputError
from autogrant.transforms.paths import REFERENCE_DIR
from autogrant.transforms.policy_model import Cited

SIGNALS_FILE = REFERENCE_DIR / "account_signals.yaml"
CODES = ("ACCOUNT_SHARED", "ACCOUNT_CHANGED", "ACCOUNT_NAME_OTHER_UNIT")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Shared(_Strict):
    max_units_per_account: Cited[int]


class Changed(_Strict):
    after_notice: Cited[bool]


class OtherUnit(_Strict):
    match_other_unit_name: Cited[bool]


class Signals(_Strict):
    ACCOUNT_SHARED: Shared
    ACCOUNT_CHANGED: Changed
    ACCOUNT_NAME_OTHER_UNIT: OtherUnit

    def cites(self) -> dict[str, str]:
        return {
            "ACCOUNT_SHARED": self.ACCOUNT_SHARED.max_units_per_account.cite,
            "ACCOUNT_CHANGED": self.ACCOUNT_CHANGED.after_notice.cite,
            "ACCOUNT_NAME_OTHER_UNIT": self.ACCOUNT_NAME_OTHER_UNIT.match_other_unit_name.cite,
        }


@cache
def load(path: Path = SIGNALS_FILE) -> Signals:
    try:
        return Signals.model_validate(yaml.safe_load(Path(path).read_text(encoding="utf-8")))
    except (OSError, yaml.YAMLError, ValueError) as exc:
        raise InputError(f"{path}: {str(exc).splitlines()[0]}") from None


def load_table(con) -> None:
    """signal_rules, one row: the thresholds sql/39_account_signals.sql reads."""
    s = load()
    con.execute(
        """CREATE OR REPLACE TABLE signal_rules AS SELECT ?::BIGINT AS max_units_per_account,
           ?::BOOLEAN AS account_changed_after_notice, ?::BOOLEAN AS match_other_unit_name""",
        [s.ACCOUNT_SHARED.max_units_per_account.value, s.ACCOUNT_CHANGED.after_notice.value,
         s.ACCOUNT_NAME_OTHER_UNIT.match_other_unit_name.value],
    )  # fmt: skip


LIST_HEADER = ("统筹地区", "统一社会信用代码", "单位名称", "风险信号", "银行账号", "开户行行号", "账户名称", "说明", "依据")

LIST_SQL = """
SELECT d.region_code, d.uscc, coalesce(d.unit_name, ''), s.code, coalesce(d.bank_account, ''), coalesce(d.bank_code, ''),
       coalesce(d.account_name, ''),
       CASE s.code WHEN 'ACCOUNT_SHARED' THEN 'units on this account: ' || d.account_shared_units || ' (with '
                       || array_to_string(list_slice(d.account_shared_with, 1, 10), ', ')
                       || CASE WHEN len(d.account_shared_with) > 10 THEN ', …' ELSE '' END || ')'
                   WHEN 'ACCOUNT_CHANGED' THEN 'noticed with account ' || coalesce(d.noticed_account, '-')
                   ELSE 'account name is the name of unit ' || coalesce(d.account_name_unit, '-') END,
       p.cites[s.code]
FROM (SELECT * FROM decision_details  -- the region's held units first: unnest and cross join only over those
      WHERE region_code = ? AND list_has_any(hold_codes, ['ACCOUNT_SHARED', 'ACCOUNT_CHANGED', 'ACCOUNT_NAME_OTHER_UNIT'])) d,
     unnest(d.hold_codes) AS s(code), policy p
WHERE s.code IN ('ACCOUNT_SHARED', 'ACCOUNT_CHANGED', 'ACCOUNT_NAME_OTHER_UNIT')
ORDER BY d.uscc, s.code
"""


def write_list(con, out: Path, region: str) -> int:
    """OUT/signals/<region>.csv: the units a fraud signal holds tonight, with what raised it (replaced every run)."""
    rows = con.execute(LIST_SQL, [region]).fetchall()
    return files.write_clerk_csv(Path(out) / "signals" / f"{region}.csv", LIST_HEADER, rows)


def last_decision(out: Path, policy_id: str, uscc: str) -> tuple | None:
    """(region_code, reasons, bank_account, bank_code) of the unit in OUT's last night, or None."""
    parts = sorted(Path(out).glob("regions/*/decision_details.parquet"))
    if not parts:
        return None
    rows = duckdb.sql(
        """SELECT region_code, reasons, bank_account, bank_code FROM read_parquet($parts, union_by_name = true)
           WHERE policy_id = $policy AND uscc = $uscc""",
        params={"parts": [p.as_posix() for p in parts], "policy": policy_id, "uscc": uscc},
    ).fetchall()
    return rows[0] if rows else None


def record_clearance(out: Path, policy_id: str, uscc: str, code: str, by: str, note: str, today: dt.date,
                     ledger: Path | None = None) -> dict:  # fmt: skip
    """A clerk (resolve role for the unit's region) clears one signal of a unit for the account it was raised on.
    Refused (InputError) unless OUT's last night held the unit with that signal. A second clearance of the same
    unit, signal and account returns the first."""
    from autogrant.transforms import chain, home, identities
    from autogrant.transforms import ledger as ledger_mod

    if code not in CODES:
        raise InputError(f"{code} is not a fraud signal (one of {', '.join(CODES)})")
    if not note.strip():
        raise InputError("--note is empty: say what was checked with the unit")
    out, led = home.locate(out, policy_id, ledger)
    decided = last_decision(out, policy_id, uscc)
    if decided is None:
        raise InputError(f"{uscc} has no decision under {policy_id} in {out} (not in scope, or no night has run)")
    region, reasons, account, bank_code = decided
    if code not in (reasons or "").split(";"):
        raise InputError(f"{uscc} is not held by {code} under {policy_id} (its reasons: {reasons or 'none, PAY'})")
    identities.load().require(by, "resolve", region)
    with ledger_mod.opened(led, write=True) as con:  # refused on a ledger whose chain was tampered with
        done = con.execute(
            """SELECT clearance_id, cleared_on FROM ledger.signal_clearances WHERE policy_id = ? AND uscc = ? AND code = ?
               AND bank_account IS NOT DISTINCT FROM ? AND bank_code IS NOT DISTINCT FROM ?""",
            [policy_id, uscc, code, account, bank_code],
        ).fetchall()
        if done:
            return {"clearance_id": done[0][0], "cleared_on": done[0][1], "new": False, "account": account}
        n = con.execute(
            "SELECT count(*) FROM ledger.signal_clearances WHERE policy_id = ? AND uscc = ?", [policy_id, uscc]
        ).fetchall()[0][0]
        clearance_id = f"{policy_id}-{uscc}-S{n + 1}"
        with chain.sealed(con):  # one entry of the ledger's hash chain
            con.execute(
                "INSERT INTO ledger.signal_clearances VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [clearance_id, policy_id, uscc, region, code, account, bank_code, by, today, note.strip()],
            )
    return {"clearance_id": clearance_id, "cleared_on": today, "new": True, "account": account}
