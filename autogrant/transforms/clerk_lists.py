"""Two lists for the agency's clerks (issue 17 items 1 and 7), written by every night:

OUT/applications/<region>.csv   units above the auto-grant cap that the policy pays on application
                                (APPLICATION_REQUIRED), with what each would get: the clerks invite them to apply
                                (辽人社发〔2021〕7号 一(一) "可在2021年12月31日前申请"); `autogrant apply` records one.
OUT/unregistered_payers.csv     USCCs with premium records (payments.csv) but no row in the unit register: decided
                                nowhere until registered (两个全覆盖, 辽人社发〔2017〕14号 一). sql/27_unregistered_payers.sql.
"""

from pathlib import Path

from autogrant.transforms import files

APPLICATION_HEADER = ("统筹地区", "统一社会信用代码", "单位名称", "参保人数(基准日)", "应返还金额(元)", "申请截止日期", "依据")

APPLICATIONS_SQL = """
SELECT d.region_code, d.uscc, coalesce(d.unit_name, '') AS unit_name, d.headcount_ref, yuan(d.amount_due) AS amount_due,
       ?::VARCHAR AS apply_by, ?::VARCHAR AS cite
FROM decision_details d
WHERE d.region_code = ? AND list_contains(d.hold_codes, 'APPLICATION_REQUIRED')
ORDER BY d.uscc
"""


def write_applications(con, out: Path, loaded, region: str) -> int:
    """OUT/applications/<region>.csv (UTF-8 with BOM, Chinese headers; replaced every run, removed when empty)."""
    path = Path(out) / "applications" / f"{region}.csv"
    over_cap = loaded.rules.over_cap
    if over_cap is None or over_cap.value.route != "apply":
        path.unlink(missing_ok=True)
        return 0
    rows = con.execute(APPLICATIONS_SQL, [str(over_cap.value.apply_by), over_cap.cite, region]).fetchall()
    return files.write_clerk_csv(path, APPLICATION_HEADER, rows)


def write_unregistered(con, out: Path) -> dict:
    """OUT/unregistered_payers.csv (uscc, payment_rows, premium_paid in yuan, first/last fee month); the totals.
    The list is made with the drop's facts (sql/27_unregistered_payers.sql: decide.compute_facts, the drop cache, or
    for a night whose regions were decided on workers, run.absorb)."""
    files.copy_query(
        con,
        """SELECT uscc, payment_rows, yuan(premium_paid_fen) AS premium_paid, first_fee_month, last_fee_month
           FROM unregistered_payers ORDER BY uscc""",
        Path(out) / "unregistered_payers.csv",
    )
    n, fen, y = con.execute(
        "SELECT count(*), coalesce(sum(premium_paid_fen), 0), (SELECT assessed_year FROM policy) FROM unregistered_payers"
    ).fetchall()[0]
    return {"units": int(n), "premium_paid_fen": int(fen), "assessed_year": int(y)}


def listed_unregistered(con, limit: int) -> list[tuple]:
    """The first unregistered payers, for the report."""
    return con.execute(
        """SELECT uscc, payment_rows, premium_paid_fen, first_fee_month, last_fee_month
           FROM unregistered_payers ORDER BY premium_paid_fen DESC, uscc LIMIT ?""",
        [limit],
    ).fetchall()
