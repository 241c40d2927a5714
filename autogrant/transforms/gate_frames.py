"""What the validation gate reads of a night and what it answers, without Great Expectations: the night's process
reads each region's rows and waits for the answers here, while the gate (gate.py) runs in a process of its own
(gate_process.py); a fan-out worker reads its region's rows here too.

    region_frames(con, units)      every region's decisions rows read in one query, cut by region (Arrow)
    region_frame(con, region)      one region's (a fan-out worker's)
    batch_frame(con)               tonight's released payments, and what the decisions say they must total
"""

from dataclasses import dataclass, field

import pyarrow.compute as pc

from autogrant.transforms.errors import GateFailed

DECISIONS_FRAME = """
SELECT d.uscc, d.decision, d.reasons, d.bank_account, d.bank_code,
       CAST(d.amount AS BIGINT) AS amount_fen, CAST(d.amount_due AS BIGINT) AS amount_due_fen,
       CAST(d.already_paid + d.amount AS BIGINT) AS paid_after_fen,
       CAST(d.headcount_ref AS BIGINT) AS headcount_ref,
       -- no cap for a unit above it that applied where the policy pays on application (over_cap route apply)
       CAST(CASE WHEN p.over_cap_by_application AND d.uscc IN (SELECT uscc FROM ledger_holds WHERE hold = 'APPLICATION_LODGED')
                 THEN 9223372036854775807 ELSE coalesce(p.headcount_cap, 9223372036854775807) END AS BIGINT) AS headcount_cap,
       -- the formula's own ceiling, recomputed: floor(rate x premium_base), or months x benefit x headcount, or where
       -- the policy has the premium standard and the unit premiums due on file, months x their monthly average if larger
       CAST(CASE WHEN p.amount_formula = 'premium_share' THEN coalesce(floor(d.rate * d.premium_base), 0)
                 ELSE greatest(coalesce(p.benefit_months * d.avg_monthly_benefit * d.headcount_ref, 0),
                               CASE WHEN p.premium_months_alt IS NOT NULL AND d.si_due_months > 0
                                    THEN (p.premium_months_alt * d.si_due_total_fen) // d.si_due_months ELSE 0 END) END AS BIGINT)
         AS formula_max_fen,
       d.region_code  -- to cut the frame of every region, read at once, by region; dropped before GX sees it
FROM {table} d CROSS JOIN policy p
WHERE {where}
ORDER BY {order}d.uscc
"""

BATCH_FRAME = """
SELECT payment_id, uscc, bank_account, bank_code, channel,
       payment_channel(amount_fen) AS channel_expected,
       CAST(amount_fen AS BIGINT) AS amount_fen, CAST(decision_amount_fen AS BIGINT) AS decision_amount_fen,
       CAST(paid_after_fen AS BIGINT) AS paid_after_fen, CAST(amount_due_fen AS BIGINT) AS amount_due_fen
FROM release_payments ORDER BY payment_id
"""


@dataclass
class GateResult:
    region: str
    suites: dict[str, int] = field(default_factory=dict)  # suite -> expectations evaluated
    failures: list[str] = field(default_factory=list)


def by_region(rows, regions: list[str]) -> dict:
    """Rows sorted by region_code, cut into each region's rows (a slice, no copy), region_code dropped: what
    ``region_frame`` reads of each region, read at once. ValueError for rows not sorted so, or of another region."""
    codes, start, cut = rows.column("region_code"), 0, {}
    for region in regions:
        n = pc.sum(pc.equal(codes, region)).as_py() or 0
        part = rows.slice(start, n)
        if n and pc.min_max(part.column("region_code")).as_py() != {"min": region, "max": region}:
            raise ValueError(f"the rows are not sorted by region_code ({region})")
        cut[region] = part.drop_columns(["region_code"])
        start += n
    if start != len(rows):
        raise ValueError(f"{len(rows) - start} rows of a region not asked for")
    return cut


def region_frames(con, units_in_scope: dict[str, int], table: str = "decision_details") -> dict:
    """Every region's decisions rows (DECISIONS_FRAME), read at once and cut by region."""
    regions = sorted(units_in_scope)
    query = DECISIONS_FRAME.format(table=table, where="d.region_code IN (SELECT unnest(?))", order="d.region_code, ")
    return by_region(con.sql(query, params=[regions]).to_arrow_table(), regions)


def region_frame(con, region: str, table: str = "decision_details"):
    query = DECISIONS_FRAME.format(table=table, where="d.region_code = ?", order="")
    return con.sql(query, params=[region]).to_arrow_table().drop_columns(["region_code"])


def batch_frame(con) -> tuple:
    """The payments tonight's release makes (BATCH_FRAME), and the batch suite's parameters: expected independently
    of the batch rows, from tonight's PAY amounts of the units of the approved claims."""
    total, count = con.execute(
        """SELECT coalesce(sum(d.amount), 0), count(*) FROM decision_details d
           WHERE d.decision = 'PAY' AND d.uscc IN (SELECT uscc FROM release_rows WHERE payable)"""
    ).fetchall()[0]
    return con.sql(BATCH_FRAME).to_arrow_table(), {"expected_total_fen": int(total), "expected_count": int(count)}


def raise_if_failed(result: GateResult) -> None:
    if result.failures:
        raise GateFailed(f"region {result.region}: " + "; ".join(result.failures))
