"""The Great Expectations suites of the gate: what must hold of a region's decisions and payment batch.

Row rules of the raw inputs are enforced at ingest (SQL, with quarantine); these suites check the unit-level
and aggregate tables a run produces, money as integer fen. Each suite is built in code so that its expectations
are reviewed with the code, and `EXPECTED_COUNTS` lets the gate assert every expectation was evaluated.
"""

import great_expectations as gx
from great_expectations.expectations.row_conditions import Column

from autogrant.transforms.schema import REASON_CODES

E = gx.expectations
PAY = Column("decision") == "PAY"
NOT_PAY = Column("decision") != "PAY"


def reasons_pattern() -> str:
    code = "(?:" + "|".join(REASON_CODES) + ")"
    return rf"^(?:{code}(?:;{code})*)?$"


def param(name: str) -> dict:
    """A value given per region when the checkpoint runs (``expectation_parameters``): the suite is built once a run."""
    return {"$PARAMETER": name}


def decisions_suite() -> gx.ExpectationSuite:
    """A region's decisions (CONTRACT.md section 3) against the contract and the policy's own limits.

    Parameter: units_in_scope, the units of the region the run decides."""
    s = gx.ExpectationSuite(name="decisions")
    for e in (
        E.ExpectTableRowCountToEqual(value=param("units_in_scope")),
        E.ExpectColumnValuesToNotBeNull(column="uscc"),
        E.ExpectColumnValuesToBeUnique(column="uscc"),
        E.ExpectColumnValuesToBeInSet(column="decision", value_set=["PAY", "HOLD", "REJECT"]),
        E.ExpectColumnValuesToMatchRegex(column="reasons", regex=reasons_pattern()),
        # every PAY has an account and an amount > 0; nothing but a PAY carries an amount
        E.ExpectColumnValuesToNotBeNull(column="bank_account", row_condition=PAY),
        E.ExpectColumnValuesToMatchRegex(column="bank_code", regex=r"^[0-9]{12}$", row_condition=PAY),
        E.ExpectColumnValuesToBeBetween(column="amount_fen", min_value=1, row_condition=PAY),
        E.ExpectColumnValuesToBeInSet(column="amount_fen", value_set=[0], row_condition=NOT_PAY),
        E.ExpectColumnValuesToBeInSet(column="reasons", value_set=[""], row_condition=PAY),
        # amount <= rate x premium_base (or months x benefit x headcount); never beyond what is due
        E.ExpectColumnPairValuesAToBeGreaterThanB(column_A="formula_max_fen", column_B="amount_fen", or_equal=True),
        # what autogrant pays never takes a unit beyond what is due; a unit paid more EARLIER than is due now is a
        # lawful situation the rules decide (REJECT, ALREADY_PAID, amount 0) and the overpayment list reports
        E.ExpectColumnPairValuesAToBeGreaterThanB(
            column_A="amount_due_fen", column_B="paid_after_fen", or_equal=True, row_condition=PAY
        ),
        # headcount_ref <= the auto-grant cap for every PAY
        E.ExpectColumnPairValuesAToBeGreaterThanB(
            column_A="headcount_cap", column_B="headcount_ref", or_equal=True, row_condition=PAY
        ),
    ):
        s.add_expectation(e)
    return s


def batch_suite() -> gx.ExpectationSuite:
    """The payments a region's approved batches release tonight, against tonight's decisions.

    Parameters: expected_count and expected_total_fen, from the decisions (never from the batch rows)."""
    s = gx.ExpectationSuite(name="payment_batch")
    for e in (
        E.ExpectTableRowCountToEqual(value=param("expected_count")),
        E.ExpectColumnValuesToBeUnique(column="payment_id"),
        E.ExpectColumnValuesToBeUnique(column="uscc"),
        E.ExpectColumnValuesToBeBetween(column="amount_fen", min_value=1),
        E.ExpectColumnValuesToNotBeNull(column="bank_account"),
        E.ExpectColumnValuesToMatchRegex(column="bank_code", regex=r"^[0-9]{12}$"),
        E.ExpectColumnPairValuesToBeEqual(column_A="amount_fen", column_B="decision_amount_fen"),
        E.ExpectColumnPairValuesToBeEqual(column_A="channel", column_B="channel_expected"),
        E.ExpectColumnPairValuesAToBeGreaterThanB(column_A="amount_due_fen", column_B="paid_after_fen", or_equal=True),
        # control total: the batch pays exactly what tonight's decisions grant its units
        E.ExpectColumnSumToBeBetween(
            column="amount_fen", min_value=param("expected_total_fen"), max_value=param("expected_total_fen")
        ),
    ):
        s.add_expectation(e)
    return s


SUITES = {"decisions": decisions_suite, "payment_batch": batch_suite}
EXPECTED_COUNTS = {"decisions": 13, "payment_batch": 10}
