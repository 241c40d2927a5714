"""LN-2021 (辽人社发〔2021〕7号 一(一)) at each boundary, on a drop built in code.

Expected figures come from the rule text: 60% of the premium paid (30% for large firms), floored to the fen.
"""

import datetime as dt

import pytest

from autogrant.data_samples.edge_cases import boundary_units
from tests.conftest import REGION, run_builder


@pytest.fixture(scope="module")
def decided(tmp_path_factory):
    from autogrant.data_samples.edge_cases import DropBuilder

    b = DropBuilder(y=2020)
    b.fund(REGION, months=24)
    units = boundary_units(b, REGION)
    out = run_builder(b, tmp_path_factory.mktemp("ln"))
    return {name: out[code] for name, code in units.items()}


def reasons(row) -> list[str]:
    return row["reasons"].split(";") if row["reasons"] else []


@pytest.mark.parametrize(
    "name, decision, codes",
    [
        ("cap_200", "PAY", []),
        ("cap_201", "HOLD", ["APPLICATION_REQUIRED"]),  # 一(一) 可在2021年12月31日前申请: paid on application
        ("layoff_6pct", "PAY", []),  # 6/100 = 6%: 不高于6% passes
        ("layoff_7pct", "REJECT", ["LAYOFF_RATE_EXCEEDED"]),
        ("small30_20pct", "PAY", []),  # 30 insured at year end: the 20% limit
        ("small31_general", "REJECT", ["LAYOFF_RATE_EXCEEDED"]),  # 31: the general 6% limit
        ("small_exact_20pct", "PAY", []),
        ("small_over_20pct", "REJECT", ["LAYOFF_RATE_EXCEEDED"]),
        ("leave_dec31", "PAY", []),
        ("arrears_paid_up", "PAY", []),
        ("arrears_outstanding", "REJECT", ["ARREARS_OUTSTANDING"]),
        ("dishonest_removed", "PAY", []),
        ("dishonest_listed", "REJECT", ["DISHONEST_ENTITY"]),
        ("fullwidth_account", "PAY", []),
        ("account_mismatch", "HOLD", ["ACCOUNT_NAME_MISMATCH"]),
        ("no_account", "HOLD", ["BANK_ACCOUNT_MISSING"]),
        ("size_missing", "HOLD", ["SIZE_CLASS_MISSING"]),
        ("social_org", "PAY", []),
        ("public_institution", "REJECT", ["UNIT_TYPE_INELIGIBLE"]),
        ("cancelled", "REJECT", ["UNIT_INACTIVE"]),
        ("zombie", "REJECT", ["ZOMBIE_ENTERPRISE"]),
        ("no_premium", "REJECT", ["NO_PREMIUM_PAID"]),
        ("already_paid", "REJECT", ["ALREADY_PAID"]),
        ("top_up", "PAY", []),
        ("double_dip", "PAY", []),  # LN-2021 names no subsidy that excludes the refund
    ],
)
def test_decision_at_boundary(decided, name, decision, codes):
    row = decided[name]
    assert (row["decision"], reasons(row)) == (decision, codes)
    if decision != "PAY":
        assert row["amount"] == "0.00"


def test_spell_ending_on_31_december_counts_at_year_end(decided):
    row = decided["leave_dec31"]
    assert (row["headcount_start"], row["headcount_end"]) == ("50", "50")


def test_layoff_rate_shown_with_four_decimals(decided):
    assert decided["layoff_6pct"]["layoff_rate"] == "0.0600"
    assert decided["small_exact_20pct"]["layoff_rate"] == "0.2000"


def test_late_fee_never_in_the_base(decided):
    # 12 months x (500.00 + 500.00); the 12.34 late fee is not premium
    assert decided["late_fee"]["premium_base"] == "12000.00"


def test_back_payment_of_an_earlier_year_not_in_the_base(decided):
    assert decided["back_payment"]["premium_base"] == "2400.00"


def test_premium_of_the_year_paid_after_year_end_counts_in_the_base(decided):
    # December paid in February of the next year, before the cut-off: 12 months x 600.00 in the base
    # (辽人社发〔2017〕14号 二 "在补缴后符合条件的，要发放", issue 17 item 2)
    assert decided["arrears_paid_up"]["premium_base"] == "7200.00"


def test_amount_floored_to_the_fen(decided):
    # 3333.84 x 0.60 = 2000.304 -> 2000.30; 3335.76 x 0.60 = 2001.456 -> 2001.45 (rounding would give 2001.46)
    assert decided["floor_fen"]["amount"] == "2000.30"
    assert decided["floor_round_up"]["premium_base"] == "3335.76"
    assert decided["floor_round_up"]["amount"] == "2001.45"


def test_large_firm_rate_registered_and_derived(decided):
    for name in ("large", "size_derived_large"):
        row = decided[name]
        assert (row["size_class"], row["rate"], row["amount"]) == ("large", "0.30", "720.00")


def test_top_up_pays_exactly_the_difference(decided):
    row = decided["top_up"]
    assert (row["amount_due"], row["already_paid"], row["amount"]) == ("1440.00", "720.00", "720.00")


def test_every_decision_cites_a_clause(decided):
    assert all(row["citations"] for row in decided.values())
    assert "可在2021年12月31日前申请" in decided["cap_201"]["citations"]  # held for its application (issue 17 item 1)


def test_unit_outside_policy_regions_is_out_of_scope(builder, tmp_path):
    inside = builder.unit(REGION)
    outside = builder.unit("130100")
    out = run_builder(builder, tmp_path)
    assert inside in out and outside not in out


def test_region_option_restricts_scope(builder, tmp_path):
    builder.fund("210200", months=24)
    a = builder.unit(REGION)
    b = builder.unit("210200")
    out = run_builder(builder, tmp_path, regions=["210200"])
    assert b in out and a not in out


def test_reserve_under_a_year_rejects_unless_adjustment_fund(tmp_path):
    from autogrant.data_samples.edge_cases import DropBuilder

    b = DropBuilder(y=2020)
    b.fund("210100", months=11.99)
    b.fund("210200", months=11.99, adjustment=True)
    b.fund("210300", months=12)
    short, adjusted, exact = b.unit("210100"), b.unit("210200"), b.unit("210300")
    out = run_builder(b, tmp_path)
    assert out[short]["reasons"] == "REGION_RESERVE_INSUFFICIENT"
    assert out[adjusted]["decision"] == "PAY"
    assert out[exact]["decision"] == "PAY"


def test_region_without_fund_position_stops_alone(tmp_path):
    from autogrant.data_samples.edge_cases import DropBuilder
    from autogrant.transforms.run import run_policy

    b = DropBuilder(y=2020)
    b.fund("210300")
    ok, missing = b.unit("210300"), b.unit("210400")
    from autogrant.data_samples.drop_files import write_drop

    write_drop(b.tables(), tmp_path / "d")
    result = run_policy("LN-2021", tmp_path / "d", tmp_path / "o", validate=False)  # the gate: test_gate_and_files.py
    assert [e.region_code for e in result.region_errors] == ["210400"]
    assert "fund_year 2020" in result.region_errors[0].message
    from tests.conftest import read_decisions

    out = read_decisions(tmp_path / "o")
    assert ok in out and missing not in out


def test_as_of_moves_the_cut_off(tmp_path):
    from autogrant.data_samples.edge_cases import DropBuilder

    b = DropBuilder(y=2020)
    b.fund(REGION)
    code = b.unit(REGION)
    b.dishonest.append({"uscc": code, "listed_date": "2021-03-01", "removed_date": "2021-09-01"})
    assert run_builder(b, tmp_path / "a", as_of=dt.date(2021, 6, 30))[code]["reasons"] == "DISHONEST_ENTITY"
    assert run_builder(b, tmp_path / "b")[code]["decision"] == "PAY"


def test_invalid_roster_row_makes_its_unit_invalid_input(builder, tmp_path):
    code = builder.unit(REGION)
    builder.roster[-1]["start_date"] = "2019-13-01"
    row = run_builder(builder, tmp_path)[code]
    assert (row["decision"], row["reasons"]) == ("REJECT", "INVALID_INPUT")


def test_over_the_cap_shows_what_it_would_get_on_application(decided):
    # 辽人社发〔2021〕7号 一(一): above 200 insured the unit is paid on its application; held until then, the amount shown
    row = decided["cap_201"]
    assert row["amount"] == "0.00" and row["amount_due"] == decided["cap_200"]["amount_due"] != "0.00"
    assert "可在2021年12月31日前申请" in row["citations"]
