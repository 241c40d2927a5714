-- Reads: chk_region_funds
-- Makes: chk_region_funds
-- chk_region_funds with the row rules added.
-- One position per region and year; reserve months divide by the monthly expenditure, which must be > 0.

UPDATE chk_region_funds SET errors = list_append(errors, {
        'column': 'monthly_expenditure', 'value': '0.00', 'reason': 'must be greater than 0'})
WHERE monthly_expenditure = 0;

UPDATE chk_region_funds SET errors = list_append(errors, {
        'column': 'region_code', 'value': chk_region_funds.region_code,
        'reason': 'has ' || d.n || ' rows for fund_year ' || d.fund_year || ': one position per region and year'})
FROM (SELECT region_code, fund_year, count(*) AS n FROM chk_region_funds
      WHERE region_code IS NOT NULL AND fund_year IS NOT NULL GROUP BY ALL HAVING count(*) > 1) d
WHERE chk_region_funds.region_code = d.region_code AND chk_region_funds.fund_year = d.fund_year;
