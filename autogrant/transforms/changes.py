"""Run-to-run diff of a region: units added, dropped, whose decision or amount changed, with their reasons."""

from pathlib import Path

from autogrant.transforms import files

DIFF_SQL = """
CREATE OR REPLACE TEMP TABLE region_changes AS
SELECT coalesce(n.uscc, o.uscc) AS uscc, coalesce(n.unit_name, o.unit_name) AS unit_name,
       CASE WHEN o.uscc IS NULL THEN 'added' WHEN n.uscc IS NULL THEN 'dropped'
            WHEN o.decision <> n.decision THEN 'decision' ELSE 'amount' END AS change,
       o.decision AS decision_before, n.decision AS decision_after,
       o.amount AS amount_before, n.amount AS amount_after,
       o.reasons AS reasons_before, n.reasons AS reasons_after
-- the five columns compared, not the whole file: the CSV reader then leaves the other twelve unparsed (1.5 s -> 0.7 s
-- for a 300,000-unit night's regions, issue 13)
FROM (SELECT uscc, unit_name, decision, amount, reasons FROM read_csv(?, all_varchar = true)) o
FULL JOIN region_out n ON o.uscc = n.uscc
WHERE o.uscc IS NULL OR n.uscc IS NULL OR o.decision <> n.decision OR o.amount <> n.amount
   OR coalesce(o.reasons, '') <> coalesce(n.reasons, '')
ORDER BY uscc
"""


def region_changes(con, folder: Path) -> dict[str, int] | None:
    """Compare region_out with the region's previous decisions.csv (if any); write changes.csv; counts by change."""
    previous = Path(folder) / "decisions.csv"
    if not previous.exists():
        return None
    con.execute(DIFF_SQL, [previous.as_posix()])
    files.copy_query(con, "SELECT * FROM region_changes", Path(folder) / "changes.csv")
    counts = dict(con.execute("SELECT change, count(*) FROM region_changes GROUP BY ALL ORDER BY ALL").fetchall())
    # units that left HOLD since the last run (the outreach list's result, issue 15 item 3)
    left = con.execute(
        "SELECT count(*) FROM region_changes WHERE decision_before = 'HOLD' AND coalesce(decision_after, '') <> 'HOLD'"
    ).fetchall()[0][0]
    return counts | ({"left_hold": left} if left else {})
