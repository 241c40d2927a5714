"""DL-2020, DL-2018, IM-2020 and IM-2020-DIFFICULTY through the same engine, each at its own boundaries."""

import datetime as dt

from autogrant.data_samples.edge_cases import DropBuilder
from tests.conftest import run_builder


def test_dl2020_small_micro_with_at_most_10_insured(tmp_path):
    b = DropBuilder(y=2019)
    b.fund("210200")
    ten = b.unit("210200", start=10, size_class="micro")
    eleven = b.unit("210200", start=11, size_class="small")
    medium = b.unit("210200", start=8, size_class="medium")
    org = b.unit("210200", start=5, unit_type="social_org", size_class=None, industry=None)
    out = run_builder(b, tmp_path, policy="DL-2020")
    assert (out[ten]["decision"], out[ten]["rate"], out[ten]["amount"]) == ("PAY", "1.00", "2400.00")
    assert out[eleven]["reasons"] == "HEADCOUNT_OVER_CAP"
    assert out[medium]["reasons"] == "SIZE_CLASS_INELIGIBLE"
    assert out[org]["reasons"] == "UNIT_TYPE_INELIGIBLE"


def test_dl2018_decapacity_rates_region_rate_and_double_dip(tmp_path):
    b = DropBuilder(y=2017)
    b.fund("210200", unemployment_rate="0.05")
    steel_paid_up = b.unit("210200", industry="C3120", monthly_premium=0)
    for m in range(1, 13):
        b.pay(steel_paid_up, f"2017-{m:02d}", 100_00, 100_00, dt.date(2018, 3, 1) if m == 12 else dt.date(2017, m, 10))
    cement = b.unit("210200", industry="C3011")
    other = b.unit("210200", industry="C2211")
    at_rate = b.unit("210200", industry="C2211", start=100, end=95)  # 5% is not below 5%
    under = b.unit("210200", industry="C2211", start=100, end=96)
    dip = b.unit("210200", industry="C2211")
    b.other_subsidies.append({"uscc": dip, "subsidy_type": "si_subsidy_hard_to_employ", "year": "2017", "amount": "100.00"})
    out = run_builder(b, tmp_path, policy="DL-2018")
    # steel: 12 months of 2017 paid by the cut-off (December paid up in 2018 counts, issue 17 item 2) = 2400.00 x 60%
    assert (out[steel_paid_up]["rate"], out[steel_paid_up]["amount"]) == ("0.60", "1440.00")
    assert (out[cement]["rate"], out[cement]["amount"]) == ("0.70", "1680.00")
    assert (out[other]["rate"], out[other]["amount"]) == ("0.50", "1200.00")
    assert out[at_rate]["reasons"] == "LAYOFF_RATE_EXCEEDED"
    assert out[under]["decision"] == "PAY"
    assert out[dip]["reasons"] == "DOUBLE_DIP"


def test_im2020_top_up_pays_the_other_half(tmp_path):
    b = DropBuilder(y=2019)
    b.fund("150100")
    code = b.unit("150100")
    b.prior_disbursements.append({"uscc": code, "policy_id": "IM-2020", "amount": "1200.00", "paid_date": "2020-04-01"})
    row = run_builder(b, tmp_path, policy="IM-2020")[code]
    assert (row["rate"], row["amount_due"], row["already_paid"], row["amount"]) == ("1.00", "2400.00", "1200.00", "1200.00")


def test_im2020_difficulty_reserve_24_months_and_list(tmp_path):
    b = DropBuilder(y=2019)
    b.fund("150100", months=23.99)
    b.fund("150200", months=24, benefit="1550.00")
    short = b.unit("150100")
    listed = b.unit("150200", start=7)
    unlisted = b.unit("150200")
    for code in (short, listed):
        b.difficulty.append({"uscc": code, "recognised_date": "2020-05-20"})
    out = run_builder(b, tmp_path, policy="IM-2020-DIFFICULTY")
    assert out[short]["reasons"] == "REGION_RESERVE_INSUFFICIENT"
    # 6 months x 1550.00 x 7 insured = 65100.00; no rate
    assert (out[listed]["decision"], out[listed]["rate"], out[listed]["amount"]) == ("PAY", "", "65100.00")
    assert out[unlisted]["reasons"] == "NOT_IN_DIFFICULTY"
