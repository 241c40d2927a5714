"""`autogrant queue`: what awaits a clerk, per policy and region, read from the ledger and the last decisions.

Sections (人社厅发〔2017〕129号 二(三) 主动对接: the agency, not the firm, chases what is missing):
    batches awaiting approval, notices open (公示) and their end dates, open objections, held units by reason,
    returned payments awaiting a new account, units still unpaid past their pay-by date.
Each section is one SQL query over the ledger (and OUT/decisions.parquet); nothing is written.
"""

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path

from autogrant.transforms import deadlines, ledger, messages
from autogrant.transforms.money import yuan
from autogrant.transforms.policy import load


@dataclass
class Section:
    key: str  # of TITLES
    columns: list[str]  # keys of COLUMN_LABELS
    rows: list[tuple]

    def title(self, lang: str | None = None) -> str:
        return messages.pick(TITLES[self.key], lang)

    @staticmethod
    def label(column: str, lang: str | None = None) -> str:
        return messages.pick(COLUMN_LABELS[column], lang)

    @staticmethod
    def cell(column: str, value, lang: str | None = None) -> str:
        """As ``cell``, with regions named and reason codes explained in the clerk's language."""
        if value is not None and column == "region_code":
            return messages.region(str(value), lang)
        if value is not None and column == "reason":
            return messages.reason(str(value), lang)
        return cell(column, value)


COLUMN_LABELS = {
    "policy_id": ("政策", "policy"), "region_code": ("统筹地区", "region"), "batch_id": ("批次", "batch"),
    "units": ("单位数", "units"), "total": ("金额(元)", "total (yuan)"), "prepared_by": ("制单人", "preparer"),
    "since": ("制单日期", "since"), "notice_id": ("公示编号", "notice"), "notice_start": ("公示开始", "notice start"),
    "notice_end": ("公示截止", "notice end"), "objection_id": ("异议编号", "objection"), "uscc": ("统一社会信用代码", "USCC"),
    "unit_name": ("单位名称", "unit"), "lodged_by": ("登记人", "lodged by"), "lodged_on": ("登记日期", "lodged on"),
    "reason": ("原因", "reason"), "amount": ("金额(元)", "amount (yuan)"), "returned_on": ("退回日期", "returned on"),
    "pay_by": ("应发放日期", "pay by"), "days_late": ("逾期天数", "days late"),
}  # fmt: skip

TITLES = {
    "batches": ("待审批批次", "batches awaiting approval"),
    "notices": ("公示中", "notices open"),
    "objections": ("未处理异议", "open objections"),
    "held": ("暂缓发放单位(按原因)", "held units by reason"),
    "returned": ("银行退回、待更换账户", "returned payments awaiting a new account"),
    "overdue": ("逾期未发放单位", "units unpaid past their pay-by date"),
}

LEDGER_QUERIES = {
    "batches": (
        ["policy_id", "region_code", "batch_id", "units", "total", "prepared_by", "since"],
        """SELECT b.policy_id, b.region_code, b.batch_id, count(c.claim_id), coalesce(sum(c.amount_fen), 0),
                  b.prepared_by, b.prepared_on
           FROM ledger.batches b LEFT JOIN ledger.claims c USING (batch_id)
           WHERE b.state = 'awaiting_approval' GROUP BY ALL ORDER BY b.prepared_on, b.batch_id""",
    ),
    "notices": (
        ["policy_id", "region_code", "notice_id", "units", "total", "notice_start", "notice_end"],
        """SELECT policy_id, region_code, notice_id, count(*), sum(amount_fen), min(notice_start), max(notice_end)
           FROM ledger.claims WHERE state = 'in_notice' GROUP BY ALL ORDER BY 7, 3""",
    ),
    "objections": (
        ["policy_id", "objection_id", "uscc", "lodged_by", "lodged_on", "reason"],
        """SELECT policy_id, objection_id, uscc, lodged_by, lodged_on, reason
           FROM ledger.objections WHERE outcome IS NULL ORDER BY lodged_on, objection_id""",
    ),
    "returned": (
        ["policy_id", "region_code", "uscc", "unit_name", "amount", "returned_on"],
        """SELECT policy_id, region_code, uscc, unit_name, amount_fen, updated_on
           FROM ledger.claims WHERE state = 'returned' ORDER BY policy_id, region_code, uscc""",
    ),
}
MONEY_COLUMNS = {"total", "amount"}


def _decisions_sections(con, out: Path, today: dt.date) -> list[Section]:
    """Held units by reason, and units payable but unpaid past their pay-by date (the cut-off from OUT/manifest.json)."""
    parquet = out / "decisions.parquet"
    if not parquet.is_file():
        return []
    con.execute("CREATE TEMP TABLE q_decisions AS SELECT * FROM read_parquet(?)", [str(parquet)])
    held = con.execute(
        """SELECT policy_id, region_code, reason, count(*)
           FROM (SELECT policy_id, region_code, unnest(string_split(reasons, ';')) AS reason
                 FROM q_decisions WHERE decision = 'HOLD') GROUP BY ALL ORDER BY ALL"""
    ).fetchall()
    sections = [Section("held", ["policy_id", "region_code", "reason", "units"], held)]
    manifest = out / "manifest.json"
    facts = json.loads(manifest.read_text(encoding="utf-8")) if manifest.is_file() else {}
    overdue = []
    for policy_id in (r[0] for r in con.execute("SELECT DISTINCT policy_id FROM q_decisions ORDER BY 1").fetchall()):
        loaded = load(policy_id)
        as_of = dt.date.fromisoformat(facts["as_of"]) if facts.get("as_of") else loaded.rules.default_as_of.value
        overdue += _overdue(con, loaded, as_of, today)
    cols = ["policy_id", "region_code", "units", "pay_by", "days_late", "amount"]
    sections.append(Section("overdue", cols, overdue))
    return sections


def _overdue(con, loaded, as_of: dt.date, today: dt.date) -> list[tuple]:
    """Units PAY or HOLD not yet paid in full (by the decisions and by the ledger) whose pay-by date
    (deadlines.pay_by, per unit) is before ``today``: per region and pay-by date, with the money still owed."""
    con.execute(
        """CREATE OR REPLACE TEMP TABLE q_unpaid AS
           SELECT d.policy_id, d.region_code, d.uscc,
                  round(d.amount_due::DECIMAL(18, 2) * 100)::BIGINT AS due_fen,
                  greatest(round(d.already_paid::DECIMAL(18, 2) * 100)::BIGINT, coalesce(p.net_fen, 0)) AS already_paid
           FROM q_decisions d
           LEFT JOIN (SELECT uscc, sum(amount_fen) AS net_fen FROM ledger.payments WHERE policy_id = $1 GROUP BY uscc) p
             USING (uscc)
           WHERE d.policy_id = $1 AND d.decision IN ('PAY', 'HOLD')""",
        [loaded.id],
    )
    con.execute("DELETE FROM q_unpaid WHERE due_fen <= already_paid")
    deadlines.unit_pay_by(con, loaded, as_of, "SELECT uscc, already_paid FROM q_unpaid")
    return con.execute(
        """SELECT u.policy_id, u.region_code, count(*), CAST(p.pay_by AS VARCHAR), ?::DATE - p.pay_by,
                  sum(u.due_fen - u.already_paid)::BIGINT
           FROM q_unpaid u JOIN unit_pay_by p USING (uscc) WHERE p.pay_by < ?::DATE
           GROUP BY ALL ORDER BY 1, 2, 4""",
        [today, today],
    ).fetchall()


def clerk_queue(ledger_path: Path, out: Path, today: dt.date) -> list[Section]:
    """Every section of the queue, in the order a clerk works through them."""
    with ledger.opened(ledger_path) as con:
        sections = [Section(key, cols, con.execute(sql).fetchall()) for key, (cols, sql) in LEDGER_QUERIES.items()]
        return sections[:3] + _decisions_sections(con, out, today) + sections[3:]


def cell(column: str, value) -> str:
    """A cell as a clerk reads it: money in yuan, dates ISO, the rest as text."""
    if value is None:
        return ""
    if column in MONEY_COLUMNS:
        return yuan(int(value), grouping=True)
    return str(value)
