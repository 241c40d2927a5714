"""decide.compute_decisions: sql/40_decisions.sql runs with preserve_insertion_order off for the night's connection
alone (the other cursors, the region files' threads among them, keep theirs), and the setting comes back after the
step, also when it fails."""

import duckdb
import pytest

from autogrant.transforms import decide, sqlsteps


def setting(con) -> bool:
    return con.execute("SELECT current_setting('preserve_insertion_order')").fetchall()[0][0]


@pytest.mark.parametrize("fails", [False, True])
def test_insertion_order_is_off_for_step_40_on_this_connection_only(monkeypatch, fails):
    con = duckdb.connect(":memory:")
    other = con.cursor()
    seen = {}

    def run(c, step):
        seen[step] = (setting(c), setting(other))
        if fails and step == "40_decisions.sql":
            raise duckdb.CatalogException("unit_facts does not exist")

    monkeypatch.setattr(sqlsteps, "run", run)
    monkeypatch.setattr(decide, "trim_decisions_out", lambda con, has: None)
    if fails:
        with pytest.raises(duckdb.CatalogException):
            decide.compute_decisions(con)
    else:
        con.execute(
            "CREATE VIEW unit_rules AS SELECT 1 AS x; CREATE VIEW unit_flags AS SELECT 1 AS x; CREATE TABLE policy AS SELECT NULL AS fallback_payee"
        )
        decide.compute_decisions(con)
    assert seen["40_decisions.sql"] == (False, True)
    if not fails:
        assert seen["41_decisions_out.sql"] == (True, True)
    assert setting(con) and setting(other)
