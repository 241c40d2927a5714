"""The overpayment list (追回): units paid more earlier, under this policy, than the policy grants them now.

A unit paid before (prior_disbursements or the ledger) and now rejected, or paid more than tonight's formula
grants, is a lawful situation the rules decide (REJECT with its reasons, ALREADY_PAID where it applies, amount 0);
it never stops the validation gate. The fund office recovers the excess: OUT/overpayments.csv lists each unit
(paid earlier, due now, excess, in yuan), the manifest counts them per region and report.html shows them.
"""

from pathlib import Path

from autogrant.transforms import files

OVERPAID = """
CREATE OR REPLACE TEMP TABLE overpaid AS
SELECT policy_id, region_code, uscc, unit_name, decision, reasons, already_paid, amount_due,
       already_paid - amount_due AS excess
FROM decision_details WHERE already_paid > amount_due
ORDER BY region_code, uscc
"""


def write_overpayments(con, out: Path) -> dict[str, dict]:
    """OUT/overpayments.csv over every region's last decisions; per region: units and excess in fen. Leaves the
    table ``overpaid`` (fen) for the report."""
    con.execute(OVERPAID)
    files.copy_query(
        con,
        """SELECT policy_id, region_code, uscc, unit_name, decision, reasons, yuan(already_paid) AS paid_earlier,
                  yuan(amount_due) AS due_now, yuan(excess) AS excess FROM overpaid ORDER BY region_code, uscc""",
        Path(out) / "overpayments.csv",
    )
    rows = con.execute(
        "SELECT region_code, count(*), CAST(sum(excess) AS BIGINT) FROM overpaid GROUP BY ALL ORDER BY ALL"
    ).fetchall()
    return {region: {"units": n, "excess_fen": int(excess)} for region, n, excess in rows}


def listed(con, limit: int) -> list[tuple]:
    """The first units of the list for the report: region, uscc, name, decision, paid earlier, due now, excess (fen)."""
    return con.execute(
        """SELECT region_code, uscc, unit_name, decision, already_paid, amount_due, excess
           FROM overpaid ORDER BY region_code, uscc LIMIT ?""",
        [limit],
    ).fetchall()
