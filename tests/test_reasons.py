"""The reason registry (reference/reasons.yaml) against what it is derived from and what derives from it: the
contract's list, the two lists of sql/40_decisions.sql, the clauses of every policy."""

import re
from pathlib import Path

import pytest

from autogrant.transforms import reasons, schema
from autogrant.transforms.paths import SQL_DIR
from autogrant.transforms.policy import available, load

CONTRACT = Path(__file__).resolve().parents[2] / "shared" / "CONTRACT.md"


def contract_codes() -> list[tuple[str, str]]:
    text = CONTRACT.read_text(encoding="utf-8")
    section = text[text.index("### Reason codes") :]
    return re.findall(r"^\| ([A-Z_]+) \| (REJECT|HOLD) \|", section, flags=re.M)


@pytest.mark.skipif(not CONTRACT.is_file(), reason="shared/CONTRACT.md lies beside the repository")
def test_the_registry_keeps_every_contract_code_with_its_decision_in_the_contracts_order():
    listed = contract_codes()
    assert len(listed) == 19
    reg = reasons.by_code()
    assert [(c, reg[c].decision) for c, _ in listed] == listed
    pos = reasons.position()
    assert [c for c, _ in listed] == sorted((c for c, _ in listed), key=pos.get)
    # what the contract does not list was added to it, and says by what
    assert all(e.added_by for e in reasons.registry() if e.code not in dict(listed))


def test_the_sql_raises_each_code_in_the_list_of_its_decision():
    sql = (SQL_DIR / "40_decisions.sql").read_text(encoding="utf-8")
    rejects = sql[sql.index("ELSE list_filter([") : sql.index("AS reject_codes")]
    holds = sql[sql.index("AS reject_codes") : sql.index("AS hold_codes")]
    raised = {c: "REJECT" for c in re.findall(r"THEN '([A-Z_]+)'", rejects)} | {
        c: "HOLD" for c in re.findall(r"THEN '([A-Z_]+)'", holds)
    }
    assert raised == {e.code: e.decision for e in reasons.registry()}


def test_codes_and_labels_derive_from_the_registry():
    assert schema.REASON_CODES == tuple(e.code for e in reasons.registry())
    from autogrant.transforms import messages

    for e in reasons.registry():
        assert messages.reason(e.code, "zh") == f"{e.zh} ({e.code})" and e.zh and e.en


@pytest.mark.parametrize("policy_id", available())
def test_every_code_a_policy_can_raise_has_its_clause(policy_id):
    p = load(policy_id).policy
    cites = p.cites()
    operational = [e.code for e in reasons.registry() if e.cite or e.signal or e.code in ("ALREADY_PAID", "AMOUNT_ZERO")]
    for code in p.rule_codes() + operational:
        assert len(cites[code]) > 10, (policy_id, code)


def test_the_payment_channel_is_reference_data_at_its_boundary():
    """reference/payment_channels.yaml: HVPS above the limit, BEPS up to it (one place, cited)."""
    import duckdb

    from autogrant.transforms import reference

    limit = reference.hvps_above_fen()
    assert limit.value == 5_000_000 and "大额实时支付系统" in limit.cite and limit.assumed
    con = duckdb.connect()
    reference.define_macros(con)
    got = con.execute("SELECT payment_channel(?), payment_channel(?)", [limit.value, limit.value + 1]).fetchall()[0]
    assert got == ("BEPS", "HVPS")
