"""Where the independent reference (tests/reference_impl.py) and autogrant disagreed on random drops of the policies
after 2021 (issue 16, "Hidden drops for the new schemes"), the smallest drops that show which side the README backs."""

from autogrant.data_samples.edge_cases import DropBuilder, make_person_id
from autogrant.data_samples.generate import write_drop
from autogrant.transforms.run import run_policy
from tests.conftest import REGION, read_decisions


def _run(tmp_path, b: DropBuilder, claims: list[str], accounts: list[str] | None = None) -> dict:
    data = tmp_path / "drop"
    write_drop(b.tables(), data)
    (data / "benefit_claims.csv").write_text("\n".join(["person_id,uscc,claim_date", *claims]) + "\n", encoding="utf-8")
    if accounts is not None:
        lines = ["uscc,bank_account,bank_code,account_name", *accounts]
        (data / "contribution_accounts.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    run_policy("CN-2024", data, tmp_path / "out", validate=False)
    return read_decisions(tmp_path / "out")


def test_a_claimant_of_a_unit_that_insured_nobody_in_the_year_exceeds_the_layoff_limit(tmp_path):
    """README (benefit_claims_over_avg_insured): claimants × 12 compared exactly against limit × Σ monthly insured;
    with nobody insured in Y (Σ = 0) one claimant is 12 > 0: LAYOFF_RATE_EXCEEDED, not a rate of 0."""
    b = DropBuilder(y=2023)
    b.fund(REGION, months=24)
    empty_claimed = b.unit(REGION, start=0, end=0)
    empty_quiet = b.unit(REGION, start=0, end=0)
    b.unit(REGION)  # insured staff elsewhere in the drop
    d = _run(tmp_path, b, [f"{make_person_id(7_100_001)},{empty_claimed},2023-05-02"])
    assert "LAYOFF_RATE_EXCEEDED" in d[empty_claimed]["reasons"].split(";")
    assert d[empty_claimed]["decision"] == "REJECT"
    assert "LAYOFF_RATE_EXCEEDED" not in d[empty_quiet]["reasons"].split(";")  # no claimant: 0 ≤ 0


def test_a_contribution_account_without_a_name_is_refused(tmp_path):
    """README (contribution_accounts.csv): uscc, bank_account, bank_code, account_name "all required"; a row with an
    empty account name is quarantined and only leaves the unit without a fallback account."""
    b = DropBuilder(y=2023)
    b.fund(REGION, months=24)
    nameless = b.unit(REGION, name="鞍山恒泰五金商行", account=False)
    named = b.unit(REGION, name="鞍山恒泰建材商行", account=False)
    d = _run(
        tmp_path, b, [], [f"{nameless},6217000012345678,105222000019,", f"{named},6217000012349999,105222000019,鞍山恒泰建材商行"]
    )
    assert (d[nameless]["decision"], d[nameless]["reasons"], d[nameless]["payee_account"]) == ("HOLD", "BANK_ACCOUNT_MISSING", "")
    assert (d[named]["decision"], d[named]["payee_account"]) == ("PAY", "contribution_account")


def test_a_unit_whose_register_row_is_refused_gets_no_size_class_by_average_insured(tmp_path):
    """README (size_classification avg_insured_headcount): enterprises are classed large or sme; a unit whose register
    row is quarantined has no known type (it is decided INVALID_INPUT alone), so no class, not sme."""
    from autogrant.transforms.decide import decide_drop
    from autogrant.transforms.policy import load
    from autogrant.transforms.run_state import connect
    from tests.test_size_by_avg_insured import _policy_dir

    b = DropBuilder(y=2023)
    b.fund(REGION, months=24)
    refused = b.unit(REGION, start=5, unit_type="corporation")  # not a unit type of the contract: row quarantined
    kept = b.unit(REGION, start=5)
    write_drop(b.tables(), tmp_path / "drop")
    (tmp_path / "drop" / "benefit_claims.csv").write_text("person_id,uscc,claim_date\n", encoding="utf-8")
    con = connect()
    decide_drop(con, load("CN-2024", _policy_dir(tmp_path)), tmp_path / "drop", None, None)
    rows = dict(con.execute("SELECT uscc, size_class_used FROM decision_details").fetchall())
    assert rows == {refused: None, kept: "sme"}
