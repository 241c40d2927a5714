"""The yearly 护航行动 report (人社厅发〔2017〕129号 三: each province reports the year's implementation to the
ministry by 31 January; 一(一) "两个全覆盖": every qualifying region and every qualifying unit; 二(一): regions whose
fund could pay a year and more but have not implemented, with the reason).

``autogrant annual-report --year Y --out DIR [--from OUT ...]`` reads each policy's run folder (OUT: manifest.json,
regions/<code>/decision_details.parquet, the ledger; by default DIR itself and the run folders under it) and writes
DIR/annual-report-Y.html, .csv, .xlsx (Chinese, or ``--lang en``) and .json. A folder counts for year Y when its policy's effective window meets Y, its last night's business date lies in
Y, or its ledger holds an entry dated in Y. Figures are set-based SQL (DuckDB) in integer fen:

- decisions: the last night's decision of every unit in scope (one row per unit);
- the ledger's payments and reversals entered up to 31 December of Y (paid, returned, net);
- eligible (应享): decided PAY or HOLD, or paid by this policy already (a unit paid in full is decided
  ALREADY_PAID on the nights after); rejected: decided REJECT and not paid;
- coverage 应享尽享 = units with a net payment ÷ units eligible, and net money paid ÷ money granted to them;
- a region with a reserve of 12 months and more that paid nothing is flagged (二(一)), with what stopped it;
- units eligible but unpaid, by what holds them (hold reason, or the ledger stage: notice, approval, release) and
  by age: days past the policy's pay-by date on the report's date (min(last night, 31 December of Y)).
"""

import datetime as dt
import json
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from autogrant.transforms import files, messages
from autogrant.transforms.errors import InputError
from autogrant.transforms.ledger import LEDGER_FILE, check_readable
from autogrant.transforms.policy import load

RESERVE_FLAG_MONTHS = 12  # 人社厅发〔2017〕129号 二(一) "具备一年以上支付能力"
AGE_BUCKETS = ((0, "not_due"), (30, "late_1_30"), (90, "late_31_90"), (365, "late_91_365"), (None, "late_over_365"))
AGE_LABELS = {
    "not_due": ("未到发放期限", "not yet due"), "late_1_30": ("逾期1-30天", "1-30 days late"),
    "late_31_90": ("逾期31-90天", "31-90 days late"), "late_91_365": ("逾期91-365天", "91-365 days late"),
    "late_over_365": ("逾期365天以上", "over 365 days late"),
}  # fmt: skip


@dataclass
class Source:
    out: Path
    manifest: dict
    ledger: Path
    policy_id: str
    title: str
    pay_by: dt.date
    last_night: dt.date
    effective_from: dt.date
    effective_to: dt.date
    reserve_months_min: int
    adjustment_fund_allowed: bool
    policy_regions: list[str] = field(default_factory=list)


@dataclass
class AnnualReport:
    year: int
    report_date: dt.date
    sources: list[Source]
    regions: list[dict] = field(default_factory=list)  # one per policy and region
    reasons: list[dict] = field(default_factory=list)  # held / rejected units by reason
    unpaid: list[dict] = field(default_factory=list)  # eligible units unpaid, by reason and age
    totals: dict = field(default_factory=dict)


def find_outs(sources: list[Path]) -> list[Path]:
    """Each --from is a run folder (with manifest.json) or a folder of them (searched two levels down)."""
    found: list[Path] = []
    for s in sources:
        s = Path(s)
        if (s / "manifest.json").is_file():
            found.append(s)
            continue
        if not s.is_dir():
            raise InputError(f"--from {s}: no such folder")
        more = sorted({p.parent for pattern in ("*/manifest.json", "*/*/manifest.json") for p in s.glob(pattern)
                       if _is_run_manifest(p)})  # fmt: skip
        if not more:
            raise InputError(f"--from {s}: no run folder (manifest.json) in it or below it")
        found += more
    return list(dict.fromkeys(p.resolve() for p in found))


def _is_run_manifest(path: Path) -> bool:
    """A run's manifest.json (not payments/manifest.json, which lists payment files)."""
    try:
        m = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(m, dict) and {"policy_id", "as_of", "today"} <= m.keys()


def _ledger_activity(ledger: Path, policy_id: str, year: int) -> bool:
    con = duckdb.connect(":memory:")
    try:
        con.execute("ATTACH ? AS l (READ_ONLY)", [str(ledger)])
        return bool(
            con.execute(
                """SELECT count(*) FROM (SELECT created_on AS d FROM l.claims WHERE policy_id = $1
                   UNION ALL SELECT entered_on FROM l.payments WHERE policy_id = $1) WHERE year(d) = $2""",
                [policy_id, year],
            ).fetchone()[0]
        )
    finally:
        con.close()


def select_sources(outs: list[Path], year: int, ledger: Path | None = None) -> list[Source]:
    """The run folders of year ``year``, one per policy (two folders of one policy are refused: which is right?)."""
    chosen: dict[str, Source] = {}
    for out in outs:
        manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
        loaded = load(manifest["policy_id"])
        r = loaded.rules
        lg = Path(ledger) if ledger else out / LEDGER_FILE
        if not lg.is_file():
            raise InputError(f"{out}: no ledger at {lg} (give --ledger FILE)")
        check_readable(lg)  # a damaged ledger: one line, exit 2
        src = Source(out, manifest, lg, loaded.id, loaded.policy.title,
                     loaded.pay_by(dt.date.fromisoformat(manifest["as_of"])), dt.date.fromisoformat(manifest["today"]),
                     r.effective_from.value, r.effective_to.value, r.reserve_months_min.value,
                     r.adjustment_fund_allowed.value, list(r.regions.value))  # fmt: skip
        in_year = (
            src.effective_from.year <= year <= src.effective_to.year
            or src.last_night.year == year
            or _ledger_activity(lg, src.policy_id, year)
        )
        if not in_year:
            continue
        if src.policy_id in chosen:
            raise InputError(f"{src.policy_id} has two run folders ({chosen[src.policy_id].out} and {out}): give one")
        chosen[src.policy_id] = src
    return [chosen[k] for k in sorted(chosen)]


def _load(con, sources: list[Source], cut: dt.date) -> None:
    """ar_sources, ar_decisions, ar_regions, ar_payments, ar_claims: every source's rows, tagged with its policy."""
    con.execute(
        """CREATE TEMP TABLE ar_sources (policy_id VARCHAR, title VARCHAR, pay_by DATE, report_date DATE,
           reserve_months_min INTEGER, adjustment_fund_allowed BOOLEAN)"""
    )
    con.execute("CREATE TEMP TABLE ar_scope (policy_id VARCHAR, region_code VARCHAR)")
    con.execute(
        """CREATE TEMP TABLE ar_funds (policy_id VARCHAR, region_code VARCHAR, balance BIGINT,
           monthly_expenditure BIGINT, adjustment_approved BOOLEAN)"""
    )
    details, ledgers = [], {}
    for s in sources:
        con.execute("INSERT INTO ar_sources VALUES (?, ?, ?, ?, ?, ?)",
                    [s.policy_id, s.title, s.pay_by, min(s.last_night, cut), s.reserve_months_min, s.adjustment_fund_allowed])  # fmt: skip
        # every region the policy covers (两个全覆盖 counts the regions never run too) and every region run
        regions = dict.fromkeys([*s.policy_regions, *s.manifest.get("regions", [])])
        con.executemany("INSERT INTO ar_scope VALUES (?, ?)", [[s.policy_id, r] for r in regions])
        for region, f in (s.manifest.get("region_funds") or {}).items():
            con.execute("INSERT INTO ar_funds VALUES (?, ?, ?, ?, ?)",
                        [s.policy_id, region, f.get("balance_fen"), f.get("monthly_expenditure_fen"), f.get("adjustment_approved")])  # fmt: skip
        details += [(s.policy_id, p.as_posix()) for p in sorted((s.out / "regions").glob("*/decision_details.parquet"))]
        ledgers.setdefault(s.ledger.resolve(), []).append(s.policy_id)
    cols = """policy_id, region_code, uscc, decision, reject_codes, hold_codes, amount_due,
              balance, monthly_expenditure, adjustment_approved"""
    if details:
        con.execute(
            f"""CREATE TEMP TABLE ar_decisions AS SELECT {cols} FROM read_parquet(?, union_by_name = true) d
                WHERE d.policy_id IN (SELECT policy_id FROM ar_sources)""",
            [[p for _, p in details]],
        )
    else:
        con.execute(
            """CREATE TEMP TABLE ar_decisions (policy_id VARCHAR, region_code VARCHAR, uscc VARCHAR, decision VARCHAR,
               reject_codes VARCHAR[], hold_codes VARCHAR[], amount_due BIGINT, balance BIGINT,
               monthly_expenditure BIGINT, adjustment_approved BOOLEAN)"""
        )
    parts_pay, parts_claims = [], []
    for i, (path, policies) in enumerate(ledgers.items()):
        con.execute(f"ATTACH ? AS ar_l{i} (READ_ONLY)", [str(path)])
        ids = ", ".join("'" + p.replace("'", "''") + "'" for p in policies)
        parts_pay.append(
            f"""SELECT policy_id, region_code, uscc, kind, amount_fen, entered_on FROM ar_l{i}.payments
                WHERE policy_id IN ({ids}) AND entered_on <= DATE '{cut.isoformat()}'"""
        )
        parts_claims.append(
            f"""SELECT c.policy_id, c.region_code, c.uscc, c.state, b.state AS batch_state, c.created_on
                FROM ar_l{i}.claims c LEFT JOIN ar_l{i}.batches b USING (batch_id)
                WHERE c.policy_id IN ({ids}) AND c.created_on <= DATE '{cut.isoformat()}'"""
        )
    con.execute("CREATE TEMP TABLE ar_payments AS " + " UNION ALL ".join(parts_pay))
    con.execute("CREATE TEMP TABLE ar_claims AS " + " UNION ALL ".join(parts_claims))
    # a region rerun alone (--region) leaves a manifest of that region: the others still count, from their
    # decisions and the ledger
    con.execute(
        """CREATE OR REPLACE TEMP TABLE ar_scope AS SELECT DISTINCT policy_id, region_code FROM (
               SELECT policy_id, region_code FROM ar_scope UNION ALL SELECT policy_id, region_code FROM ar_decisions
               UNION ALL SELECT policy_id, region_code FROM ar_payments UNION ALL SELECT policy_id, region_code FROM ar_claims)"""
    )


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
        _load(con, sources, cut)
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


FLAG_REASONS = {
    "no_units": ("本年度无单位作出决定", "no unit was decided this year"),
    "none_eligible": ("无符合条件单位", "no unit qualified"),
    "not_released": ("已公示或已制单，尚未拨付", "in notice or in batches, nothing released"),
    "all_held": ("符合条件单位均暂缓发放", "every qualifying unit is held"),
    "not_started": ("未启动公示与发放", "no notice and no payment started"),
}


def ratio(num: int, den: int) -> str:
    """A percentage to one decimal, by integer arithmetic (half up); '-' when nothing is due."""
    if not den:
        return "-"
    tenths = (num * 1000 * 2 + den) // (2 * den)
    return f"{tenths // 10}.{tenths % 10}%"


def reserve_text(r: dict) -> str:
    c = r.get("reserve_centimonths")
    return "-" if c is None else f"{c // 100}.{c % 100:02d}"


def write(report: AnnualReport, out_dir: Path, lang: str | None = None) -> list[Path]:
    """DIR/annual-report-Y.html, .csv, .xlsx (for people, in ``lang``) and .json (figures in fen, for machines)."""
    from autogrant.transforms import annual_files

    stem = Path(out_dir) / f"annual-report-{report.year}"
    paths = [stem.with_suffix(s) for s in (".html", ".csv", ".xlsx", ".json")]
    files.write_text(paths[0], annual_files.html_page(report, lang))
    files.write_text(paths[1], annual_files.csv_text(report, lang))
    annual_files.write_xlsx(report, paths[2], lang)
    files.write_text(paths[3], json.dumps(as_json(report), ensure_ascii=False, indent=2, default=str) + "\n")
    return paths


def as_json(report: AnnualReport) -> dict:
    return {
        "year": report.year,
        "report_date": report.report_date,
        "sources": [
            {"policy_id": s.policy_id, "out": str(s.out), "ledger": str(s.ledger), "pay_by": s.pay_by, "last_night": s.last_night}
            for s in report.sources
        ],  # fmt: skip
        "totals": report.totals,
        "regions": report.regions,
        "reasons": report.reasons,
        "unpaid": report.unpaid,
    }


def label(pair_map: dict, key: str, lang: str | None = None) -> str:
    return messages.pick(pair_map[key], lang) if key in pair_map else key
