"""What-if: the baseline policy and a scenario (values changed with --set) decided on the same ingested data.

Nothing is paid from a scenario: no ledger is opened and no payment file is written, only the comparison.
"""

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from autogrant.transforms import decide, files, ingest
from autogrant.transforms.errors import InputError
from autogrant.transforms.policy import LoadedPolicy, load

COMPARE_SQL = """
CREATE OR REPLACE TEMP TABLE scenario_diff AS
SELECT region_code,
       count(*) AS units,
       count(*) FILTER (WHERE b.decision = 'PAY') AS pay_before,
       count(*) FILTER (WHERE s.decision = 'PAY') AS pay_after,
       count(*) FILTER (WHERE b.decision <> 'PAY' AND s.decision = 'PAY') AS gained,
       count(*) FILTER (WHERE b.decision = 'PAY' AND s.decision <> 'PAY') AS lost,
       count(*) FILTER (WHERE b.decision = 'PAY' AND s.decision = 'PAY' AND b.amount <> s.amount) AS amount_changed,
       CAST(sum(b.amount) AS BIGINT) AS money_before_fen,
       CAST(sum(s.amount) AS BIGINT) AS money_after_fen,
       CAST(sum(s.amount) - sum(b.amount) AS BIGINT) AS difference_fen
FROM sim_baseline b JOIN sim_scenario s USING (region_code, uscc)
GROUP BY region_code
ORDER BY region_code
"""


@dataclass
class Scenario:
    baseline: LoadedPolicy
    scenario: LoadedPolicy
    settings: dict[str, str]


def parse_settings(items: list[str]) -> dict[str, str]:
    out = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise InputError(f"--set '{item}': write it as name=value, e.g. headcount_cap=300")
        out[name.strip()] = value.strip()
    return out


def prepare(policy_id: str, settings: list[str]) -> Scenario:
    """Load baseline and scenario; an unknown name or a wrong type is refused here, before any data is read."""
    if not settings:
        raise InputError("simulate needs at least one --set name=value")
    parsed = parse_settings(settings)
    return Scenario(load(policy_id), load(policy_id, overrides=parsed), parsed)


def _decide(con, loaded: LoadedPolicy, regions: list[str], as_of: dt.date | None, into: str) -> None:
    _, errors = decide.decide(con, loaded, regions, as_of)
    if errors:
        raise InputError(errors[0].message)
    con.execute(f"CREATE OR REPLACE TEMP TABLE {into} AS SELECT region_code, uscc, decision, amount FROM decision_details")


def simulate(scenario: Scenario, data: Path, csv_out: Path, regions: list[str] | None = None, as_of: dt.date | None = None):
    """Rows per region (dicts) and a TOTAL row; the same written to ``csv_out``."""
    from autogrant.transforms.run_state import connect

    con = connect()
    try:
        ingest.ingest(con, Path(data))
        scope = decide.scope_regions(scenario.baseline, regions)
        _decide(con, scenario.baseline, scope, as_of, "sim_baseline")
        _decide(con, scenario.scenario, scope, as_of, "sim_scenario")
        con.execute(COMPARE_SQL)
        files.copy_query(
            con,
            """SELECT region_code, units, pay_before, pay_after, gained, lost, amount_changed,
                      yuan(money_before_fen) AS money_before, yuan(money_after_fen) AS money_after,
                      yuan(difference_fen) AS difference
               FROM (SELECT * FROM scenario_diff UNION ALL
                     SELECT 'TOTAL', sum(units), sum(pay_before), sum(pay_after), sum(gained), sum(lost), sum(amount_changed),
                            sum(money_before_fen), sum(money_after_fen), sum(difference_fen) FROM scenario_diff)""",
            csv_out,
        )
        cols = [d[0] for d in con.execute("SELECT * FROM scenario_diff").description]
        rows = [dict(zip(cols, r, strict=False)) for r in con.execute("SELECT * FROM scenario_diff").fetchall()]
    finally:
        con.close()
    total = {"region_code": "TOTAL"} | {c: sum(int(r[c]) for r in rows) for c in cols if c != "region_code"}
    return rows + [total]
