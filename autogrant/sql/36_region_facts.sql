-- Reads: policy, policy_regions, stg_region_funds
-- Makes: region_facts
-- region_facts, one row per region in scope:
-- the fund position of the assessed year, the reserve test, and what is missing for the policy to decide there.

CREATE OR REPLACE TABLE region_facts AS
SELECT r.region_code,
       f.balance, f.monthly_expenditure, f.adjustment_approved, f.registered_unemployment_rate, f.avg_monthly_benefit,
       -- reserve months = balance ÷ monthly_expenditure, compared exactly: balance >= months × expenditure
       f.balance >= p.reserve_months_min * f.monthly_expenditure AS reserve_sufficient,
       CASE WHEN f.region_code IS NULL THEN 'region_funds.csv has no row for fund_year ' || p.assessed_year
            WHEN p.layoff_rate_max_from_region AND f.registered_unemployment_rate IS NULL
                 THEN 'region_funds.csv lacks registered_unemployment_rate for fund_year ' || p.assessed_year
            WHEN p.amount_formula = 'benefit_months' AND f.avg_monthly_benefit IS NULL
                 THEN 'region_funds.csv lacks avg_monthly_benefit for fund_year ' || p.assessed_year
       END AS missing
FROM policy_regions r
CROSS JOIN policy p
LEFT JOIN stg_region_funds f ON f.region_code = r.region_code AND f.fund_year = p.assessed_year;
