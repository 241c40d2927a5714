"""The yearly 护航行动 report (人社厅发〔2017〕129号 三: each province reports the year's implementation to the
ministry by 31 January; 一(一) "两个全覆盖": every qualifying region and every qualifying unit; 二(一): regions whose
fund could pay a year and more but have not implemented, with the reason).

``autogrant annual-report --year Y --out DIR [--from OUT ...]`` reads each policy's run folder (OUT: manifest.json,
regions/<code>/decision_details.parquet, the ledger; by default DIR itself and the run folders under it) and writes
DIR/annual-report-Y.html, .csv, .xlsx (Chinese, or ``--lang en``) and .json. A folder counts for year Y when its
policy's effective window meets Y, its last night's business date lies in Y, or its ledger holds an entry dated in Y. Figures are set-based SQL (DuckDB) in integer fen:

- decisions: the last night's decision of every unit in scope (one row per unit);
- the ledger's payments and reversals entered up to 31 December of Y (paid, returned, net);
- eligible (应享): decided PAY or HOLD, or paid by this policy already (a unit paid in full is decided
  ALREADY_PAID on the nights after); rejected: decided REJECT and not paid;
- coverage 应享尽享 = units with a net payment ÷ units eligible, and net money paid ÷ money granted to them;
- a region with a reserve of 12 months and more that paid nothing is flagged (二(一)), with what stopped it;
- units eligible but unpaid, by what holds them (hold reason, or the ledger stage: notice, approval, release) and
  by age: days past the policy's pay-by date on the report's date (min(last night, 31 December of Y)).

The run folders read: transforms/annual_sources.py; the words and cells people read: transforms/annual_text.py;
the files written: transforms/annual_files.py.
"""

import datetime as dt
from dataclasses import dataclass, field

import duckdb

from autogrant.transforms.annual_sources import Source, load_rows

RESERVE_FLAG_MONTHS = 12  # 人社厅发〔2017〕129号 二(一) "具备一年以上支付能力"
AGE_BUCKETS = ((0, "not_due"), (30, "late_1_30"), (90, "late_31_90"), (365, "late_91_365"), (None, "late_over_365"))


@dataclass
class AnnualReport:
    year: int
    report_date: dt.date
    sources: list[Source]
    regions: list[dict] = field(default_factory=list)  # one per policy and region
    reasons: list[dict] = field(default_factory=list)  # held / rejected units by reason
    unpaid: list[dict] = field(default_factory=list)  # eligible units unpaid, by reason and age
    totals: dict = field(default_factory=dict)


FIGURES_SQL = """
-- per unit: the last decision, what the ledger paid and returned, whether it is eligible, paid, unpaid and why
CREATE OR REPLACE TEMP TABLE ar_paid AS
SELECT policy_id, uscc, any_value(region_code) AS region_code,
       coalesce(sum(amount_fen) FILTER (WHERE kind = 'payment'), 0) AS paid_fen,
       coalesce(-sum(amount_fen) FILTER (WHERE kind = 'reversal'), 0) AS returned_fen,
       coalesce(sum(amount_fen), 0) AS net_fen
FROM ar_payments GROUP BY ALL;

CREATE OR REPLACE TEMP TABLE ar_stage AS   -- a payable unit's live claim: where it waits in the ledger
SELECT policy_id, uscc,
       CASE WHEN bool_or(state = 'in_notice') THEN 'IN_NOTICE'
            WHEN bool_or(state = 'batched' AND batch_state = 'awaiting_approval') THEN 'AWAITING_APPROVAL'
            WHEN bool_or(state = 'batched') THEN 'AWAITING_RELEASE' END AS stage
FROM ar_claims WHERE state IN ('in_notice', 'batched') GROUP BY ALL;

CREATE OR REPLACE TEMP TABLE ar_units AS
SELECT coalesce(d.policy_id, p.policy_id) AS policy_id, coalesce(d.region_code, p.region_code) AS region_code,
       coalesce(d.uscc, p.uscc) AS uscc, d.decision, coalesce(d.reject_codes, []) AS reject_codes,
       coalesce(d.hold_codes, []) AS hold_codes,
       coalesce(p.paid_fen, 0) AS paid_fen, coalesce(p.returned_fen, 0) AS returned_fen, coalesce(p.net_fen, 0) AS net_fen,
       d.decision IN ('PAY', 'HOLD') OR coalesce(p.net_fen, 0) > 0 AS eligible,
       coalesce(p.net_fen, 0) > 0 AS paid,
       -- what the policy grants an eligible unit: its amount due, or what was paid where tonight's decision grants nothing
       CASE WHEN d.decision IN ('PAY', 'HOLD') OR coalesce(p.net_fen, 0) > 0
            THEN greatest(coalesce(d.amount_due, 0), coalesce(p.net_fen, 0)) ELSE 0 END AS granted_fen,
       s.stage
FROM ar_decisions d
FULL JOIN ar_paid p ON p.policy_id = d.policy_id AND p.uscc = d.uscc
LEFT JOIN ar_stage s ON s.policy_id = coalesce(d.policy_id, p.policy_id) AND s.uscc = coalesce(d.uscc, p.uscc);

CREATE OR REPLACE TEMP TABLE ar_unpaid AS   -- eligible, not yet paid in full: one row per unit and what holds it
SELECT u.policy_id, u.region_code, u.uscc, u.granted_fen - u.net_fen AS unpaid_fen,
       CASE WHEN u.decision = 'HOLD' THEN u.hold_codes ELSE [coalesce(u.stage, 'NOT_YET_IN_NOTICE')] END AS why,
       (src.report_date - src.pay_by) AS days_late
FROM ar_units u JOIN ar_sources src USING (policy_id)
WHERE u.eligible AND u.net_fen < u.granted_fen;

CREATE OR REPLACE TEMP TABLE ar_region_funds AS   -- the fund position: from the decisions, else the manifest
SELECT sc.policy_id, sc.region_code,
       coalesce(any_value(d.balance), any_value(f.balance)) AS balance,
       coalesce(any_value(d.monthly_expenditure), any_value(f.monthly_expenditure)) AS monthly_expenditure,
       coalesce(any_value(d.adjustment_approved), any_value(f.adjustment_approved)) AS adjustment_approved
FROM ar_scope sc
LEFT JOIN ar_decisions d ON d.policy_id = sc.policy_id AND d.region_code = sc.region_code
LEFT JOIN ar_funds f ON f.policy_id = sc.policy_id AND f.region_code = sc.region_code
GROUP BY ALL;

CREATE OR REPLACE TEMP TABLE ar_regions AS
SELECT sc.policy_id, sc.region_code, rf.balance, rf.monthly_expenditure, rf.adjustment_approved,
       -- reserve months = balance ÷ monthly expenditure, to the hundredth, floored; compared exactly below
       CASE WHEN rf.monthly_expenditure > 0 THEN (rf.balance * 100) // rf.monthly_expenditure END AS reserve_centimonths,
       rf.balance >= src.reserve_months_min * rf.monthly_expenditure AS reserve_sufficient,
       (rf.balance >= src.reserve_months_min * rf.monthly_expenditure)
           OR (src.adjustment_fund_allowed AND coalesce(rf.adjustment_approved, false)) AS qualifies,
       rf.balance >= 12 * rf.monthly_expenditure AS reserve_one_year,
       EXISTS (SELECT 1 FROM ar_claims c WHERE c.policy_id = sc.policy_id AND c.region_code = sc.region_code) AS implemented,
       count(u.uscc) FILTER (WHERE u.decision IS NOT NULL) AS units_decided,
       count(u.uscc) FILTER (WHERE u.decision = 'PAY') AS units_pay,
       count(u.uscc) FILTER (WHERE u.decision = 'HOLD') AS units_hold,
       count(u.uscc) FILTER (WHERE u.eligible) AS units_eligible,
       count(u.uscc) FILTER (WHERE u.paid) AS units_paid,
       count(u.uscc) FILTER (WHERE u.decision = 'HOLD' AND NOT u.paid) AS units_held,
       count(u.uscc) FILTER (WHERE u.decision = 'REJECT' AND NOT u.eligible) AS units_rejected,
       count(u.uscc) FILTER (WHERE u.eligible AND u.net_fen < u.granted_fen) AS units_unpaid,
       coalesce(sum(u.granted_fen), 0)::BIGINT AS granted_fen,
       coalesce(sum(u.paid_fen), 0)::BIGINT AS paid_fen,
       coalesce(sum(u.returned_fen), 0)::BIGINT AS returned_fen,
       coalesce(sum(u.net_fen), 0)::BIGINT AS net_fen
FROM ar_scope sc
JOIN ar_sources src USING (policy_id)
LEFT JOIN ar_region_funds rf ON rf.policy_id = sc.policy_id AND rf.region_code = sc.region_code
LEFT JOIN ar_units u ON u.policy_id = sc.policy_id AND u.region_code = sc.region_code
GROUP BY ALL ORDER BY sc.policy_id, sc.region_code;
"""

REASONS_SQL = """
SELECT policy_id, region_code, 'HOLD' AS kind, code, count(*) AS units
FROM (SELECT policy_id, region_code, unnest(hold_codes) AS code FROM ar_units WHERE decision = 'HOLD' AND NOT paid)
GROUP BY ALL
UNION ALL
SELECT policy_id, region_code, 'REJECT', code, count(*)
FROM (SELECT policy_id, region_code, unnest(reject_codes) AS code FROM ar_units WHERE decision = 'REJECT' AND NOT eligible)
GROUP BY ALL
ORDER BY 1, 2, 3, 4
"""

UNPAID_SQL = """
SELECT policy_id, region_code, code,
       CASE WHEN days_late <= 0 THEN 'not_due' WHEN days_late <= 30 THEN 'late_1_30' WHEN days_late <= 90 THEN 'late_31_90'
            WHEN days_late <= 365 THEN 'late_91_365' ELSE 'late_over_365' END AS age,
       count(*) AS units, sum(unpaid_fen)::BIGINT AS unpaid_fen
FROM (SELECT *, unnest(why) AS code FROM ar_unpaid)
GROUP BY ALL ORDER BY 1, 2, 3, 4
"""


def _rows(con, sql: str) -> list[dict]:
    cur = con.execute(sql)
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]


def compute(sources: list[Source], year: int) -> AnnualReport:
    cut = dt.date(year, 12, 31)
    report = AnnualReport(year, min([s.last_night for s in sources] + [cut]), sources)
    con = duckdb.connect(":memory:")
    try:
        load_rows(con, sources, cut)
        con.execute(FIGURES_SQL)
        report.regions = _rows(con, "SELECT * FROM ar_regions")
        report.reasons = _rows(con, REASONS_SQL)
        report.unpaid = _rows(con, UNPAID_SQL)
        report.totals = _rows(
            con,
            """SELECT count(*) AS regions, count(*) FILTER (WHERE qualifies) AS regions_qualifying,
                      count(*) FILTER (WHERE implemented) AS regions_implemented,
                      count(*) FILTER (WHERE qualifies AND implemented) AS regions_covered,
                      count(*) FILTER (WHERE reserve_one_year AND net_fen = 0) AS regions_flagged,
                      sum(units_decided)::BIGINT AS units_decided, sum(units_eligible)::BIGINT AS units_eligible,
                      sum(units_paid)::BIGINT AS units_paid, sum(units_held)::BIGINT AS units_held,
                      sum(units_rejected)::BIGINT AS units_rejected, sum(units_unpaid)::BIGINT AS units_unpaid,
                      sum(granted_fen)::BIGINT AS granted_fen, sum(paid_fen)::BIGINT AS paid_fen,
                      sum(returned_fen)::BIGINT AS returned_fen, sum(net_fen)::BIGINT AS net_fen
               FROM ar_regions""",
        )[0]
    finally:
        con.close()
    for r in report.regions:
        r["flagged"] = bool(r["reserve_one_year"]) and r["net_fen"] == 0
        r["flag_reason"] = _flag_reason(r) if r["flagged"] else ""
    return report


def _flag_reason(r: dict) -> str:
    """What stopped a region that could pay a year and more (二(一) asks for the reason)."""
    if r["units_decided"] == 0:
        return "no_units"
    if r["units_eligible"] == 0:
        return "none_eligible"
    if r["implemented"]:
        return "not_released"
    if r["units_hold"] and not r["units_pay"]:
        return "all_held"
    return "not_started"
