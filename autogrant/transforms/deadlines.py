"""Deadlines the documents set, said aloud: 辽人社发〔2021〕7号 一(一) (4 months from the notice), 大人社发〔2020〕391号
十二 (5 working days from receipt), 辽人社发〔2017〕14号 五 (within 2018), 内蒙古工作方案 二(一) (补差 by the end of
June). How a date is derived from the documents is the policy's (its ``pay_by`` rule, ``LoadedPolicy.pay_by``);
everything here reaches it through ``pay_by`` below, the one function.

A unit's pay-by date: its policy's, given the day its data made it payable (its first night in public notice, from
the ledger; the cut-off for a unit not yet there) and whether it was paid in part before (补差)."""

import datetime as dt
import inspect

from autogrant.transforms import messages
from autogrant.transforms.policy import LoadedPolicy


def pay_by(loaded: LoadedPolicy, as_of: dt.date, data_in: dt.date | None = None, top_up: bool = False) -> dt.date:
    """The policy's pay-by date for a unit (``data_in``, ``top_up`` where the policy's rule takes them)."""
    takes = inspect.signature(loaded.pay_by).parameters
    extra = {k: v for k, v in (("data_in", data_in), ("top_up", top_up)) if k in takes}
    return loaded.pay_by(as_of, **extra)


def unit_pay_by(con, loaded: LoadedPolicy, as_of: dt.date, units: str, ledger_schema: str | None = "ledger") -> None:
    """TEMP TABLE unit_pay_by (uscc, pay_by) for every unit of ``units`` (a table or query with uscc and
    already_paid in fen). Set-based: one date per distinct (first night in notice, paid before) pair, joined back."""
    first = (
        f"""SELECT uscc, min(created_on) AS data_in FROM {ledger_schema}.claims
            WHERE policy_id = '{loaded.id.replace("'", "''")}' GROUP BY uscc"""
        if ledger_schema
        else "SELECT NULL::VARCHAR AS uscc, NULL::DATE AS data_in WHERE false"
    )
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE unit_data_in AS
            SELECT u.uscc, f.data_in, coalesce(u.already_paid, 0) > 0 AS top_up
            FROM ({units}) u LEFT JOIN ({first}) f USING (uscc)"""
    )
    pairs = con.execute("SELECT DISTINCT data_in, top_up FROM unit_data_in").fetchall()
    con.execute("CREATE OR REPLACE TEMP TABLE pay_by_dates (data_in DATE, top_up BOOLEAN, pay_by DATE)")
    if pairs:
        con.executemany("INSERT INTO pay_by_dates VALUES (?, ?, ?)",
                        [(d, t, pay_by(loaded, as_of, d, t)) for d, t in pairs])  # fmt: skip
    con.execute(
        """CREATE OR REPLACE TEMP TABLE unit_pay_by AS
           SELECT u.uscc, p.pay_by FROM unit_data_in u
           JOIN pay_by_dates p ON p.data_in IS NOT DISTINCT FROM u.data_in AND p.top_up = u.top_up"""
    )


def run_warning(loaded: LoadedPolicy, as_of: dt.date | None, today: dt.date, lang: str | None = None) -> str | None:
    """One line when the business date is past the policy's pay-by date or outside its effective window; else None."""
    r = loaded.rules
    as_of = as_of or r.default_as_of.value
    due = pay_by(loaded, as_of)
    parts = []
    if today > due:
        parts.append(messages.t("past_pay_by", lang, today=today, policy=loaded.id, pay_by=due, cite=r.pay_by.cite))
    if not r.effective_from.value <= today <= r.effective_to.value:
        parts.append(
            messages.t(
                "outside_window",
                lang,
                today=today,
                policy=loaded.id,
                start=r.effective_from.value,
                end=r.effective_to.value,
                cite=r.effective_to.cite,
            )  # fmt: skip
        )
    return ("；" if (lang or messages.current()) == "zh" else "; ").join(parts) or None


def overdue_units(con, loaded: LoadedPolicy, as_of: dt.date, today: dt.date) -> None:
    """TEMP TABLE overdue_units (region_code, uscc, unit_name, pay_by, days_late, owed_fen): every unit of tonight's
    decision_details decided PAY or HOLD and not paid in full (by its decision and by the ledger's payments) whose
    pay-by date is before ``today``."""
    con.execute(
        """CREATE OR REPLACE TEMP TABLE owed_units AS
           SELECT d.region_code, d.uscc, d.unit_name, d.amount_due,
                  greatest(coalesce(d.already_paid, 0), coalesce(p.net_fen, 0)) AS already_paid
           FROM decision_details d
           LEFT JOIN (SELECT uscc, sum(amount_fen) AS net_fen FROM ledger.payments WHERE policy_id = $1 GROUP BY uscc) p
             USING (uscc)
           WHERE d.decision IN ('PAY', 'HOLD') AND d.amount_due > greatest(coalesce(d.already_paid, 0), coalesce(p.net_fen, 0))""",
        [loaded.id],
    )
    unit_pay_by(con, loaded, as_of, "SELECT uscc, already_paid FROM owed_units")
    con.execute(
        """CREATE OR REPLACE TEMP TABLE overdue_units AS
           SELECT o.region_code, o.uscc, o.unit_name, p.pay_by, ($1::DATE - p.pay_by) AS days_late,
                  o.amount_due - o.already_paid AS owed_fen
           FROM owed_units o JOIN unit_pay_by p USING (uscc) WHERE p.pay_by < $1::DATE
           ORDER BY o.region_code, o.uscc""",
        [today],
    )
