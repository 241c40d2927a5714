-- The floor: LN-2021 decisions as one plain DuckDB query, straight from the drop (Parquet or CSV). No row validation, no
-- ledger, no explanations beyond the reason codes, the policy's values written in (辽人社发〔2021〕7号 一(一)):
-- what the fastest hand-written query on one machine can do. bench/ times it against autogrant's facts and
-- decisions stages and checks that the two agree unit by unit. The sources (units, roster, payments, region_funds,
-- the optional lists dishonest, zombie, prior: each a name in braces) and the reference folder are filled in by bench/floor.py:
-- read_parquet of a Parquet drop, or read_csv of a CSV drop (GB18030 transcoded first, Chinese names renamed).
WITH
units AS (
    SELECT uscc, unit_name, region_code, unit_type, size_class, industry_code, status, bank_account, bank_code, account_name,
           CAST(employees AS BIGINT) AS employees,
           CAST(CAST(revenue AS DECIMAL(18, 2)) * 100 AS BIGINT) AS revenue,
           CAST(CAST(total_assets AS DECIMAL(18, 2)) * 100 AS BIGINT) AS total_assets
    FROM {units}
    WHERE region_code IN ('210100', '210200', '210300', '210400', '210500', '210600', '210700',
                          '210800', '210900', '211000', '211100', '211200', '211300', '211400')
),
heads AS (  -- distinct persons insured on 2019-12-31 (start of 2020) and on 2020-12-31 (end, and the reference date)
    SELECT uscc,
           count(DISTINCT person_id) FILTER (WHERE s <= DATE '2019-12-31' AND (e IS NULL OR e >= DATE '2019-12-31')) AS hs,
           count(DISTINCT person_id) FILTER (WHERE s <= DATE '2020-12-31' AND (e IS NULL OR e >= DATE '2020-12-31')) AS he
    FROM (SELECT uscc, person_id, CAST(start_date AS DATE) AS s, CAST(end_date AS DATE) AS e
          FROM {roster})
    GROUP BY uscc
),
premiums AS (  -- premiums of 2020 paid by the cut-off 2021-12-31 (issue 17 item 2); arrears of fee months up to 2020-12 at the cut-off 2021-12-31
    SELECT uscc,
           coalesce(sum(paid) FILTER (WHERE year(fm) = 2020 AND pd <= DATE '2021-12-31'), 0) AS base,
           coalesce(sum(due), 0) - coalesce(sum(paid) FILTER (WHERE pd <= DATE '2021-12-31'), 0) AS arrears
    FROM (SELECT uscc, strptime(replace(fee_month, '-', '') || '01', '%Y%m%d')::DATE AS fm, CAST(paid_date AS DATE) AS pd,
                 CAST((CAST(unit_due AS DECIMAL(18, 2)) + CAST(staff_due AS DECIMAL(18, 2))) * 100 AS BIGINT) AS due,
                 CAST((CAST(unit_paid AS DECIMAL(18, 2)) + CAST(staff_paid AS DECIMAL(18, 2))) * 100 AS BIGINT) AS paid
          FROM {payments})
    WHERE fm <= DATE '2020-12-31'
    GROUP BY uscc
),
funds AS (
    SELECT region_code,
           CAST(balance AS DECIMAL(18, 2)) >= 12 * CAST(monthly_expenditure AS DECIMAL(18, 2))
               OR lower(adjustment_approved) IN ('true', '1') AS reserve_ok
    FROM {region_funds} WHERE CAST(fund_year AS INTEGER) = 2020
),
dishonest AS (
    SELECT DISTINCT uscc FROM {dishonest}
    WHERE CAST(listed_date AS DATE) <= DATE '2021-12-31'
      AND (removed_date IS NULL OR CAST(removed_date AS DATE) > DATE '2021-12-31')
),
zombie AS (SELECT DISTINCT uscc FROM {zombie} WHERE CAST(listed_date AS DATE) <= DATE '2021-12-31'),
prior AS (
    SELECT uscc, sum(CAST(CAST(amount AS DECIMAL(18, 2)) * 100 AS BIGINT)) AS paid FROM {prior}
    WHERE policy_id = 'LN-2021' GROUP BY uscc
),
sectors AS (SELECT * FROM read_csv('{reference}/nbs_2017_sectors.csv', all_varchar = true)),
thresholds AS (SELECT * FROM read_csv('{reference}/nbs_2017_thresholds.csv')),
derived AS (  -- 国统字〔2017〕213号 for enterprises without a registered class
    SELECT uscc,
           CASE WHEN bool_or(tier = 0) THEN 'micro'
                WHEN bool_and(tier IS NOT NULL) THEN ['micro', 'small', 'medium', 'large'][min(tier) + 1] END AS size
    FROM (SELECT u.uscc,
                 CASE WHEN v IS NULL THEN NULL
                      WHEN v >= t.large_min * m THEN 3 WHEN v >= t.medium_min * m THEN 2
                      WHEN v >= t.small_min * m THEN 1 ELSE 0 END AS tier
          FROM units u
          JOIN (SELECT u2.uscc, arg_max(s.sector, length(coalesce(s.prefix, ''))) AS sector
                FROM units u2 JOIN sectors s ON starts_with(u2.industry_code, coalesce(s.prefix, ''))
                WHERE u2.unit_type = 'enterprise' AND u2.size_class IS NULL GROUP BY u2.uscc) us USING (uscc)
          JOIN thresholds t ON t.sector = us.sector
          CROSS JOIN LATERAL (SELECT CASE t.indicator WHEN 'employees' THEN u.employees WHEN 'revenue' THEN u.revenue
                                                      ELSE u.total_assets END AS v,
                                     CASE t.indicator WHEN 'employees' THEN 1 ELSE 100 END AS m))
    GROUP BY uscc
),
facts AS (
    SELECT u.*, coalesce(h.hs, 0) AS hs, coalesce(h.he, 0) AS he, CAST(coalesce(p.base, 0) AS BIGINT) AS base,
           CAST(greatest(coalesce(p.arrears, 0), 0) AS BIGINT) AS arrears, f.reserve_ok,
           CASE WHEN u.unit_type <> 'enterprise' THEN NULL ELSE coalesce(u.size_class, d.size) END AS size_used,
           u.uscc IN (SELECT uscc FROM dishonest) AS dishonest, u.uscc IN (SELECT uscc FROM zombie) AS zombie,
           CAST(coalesce(pr.paid, 0) AS BIGINT) AS already
    FROM units u
    JOIN funds f USING (region_code)
    LEFT JOIN heads h USING (uscc) LEFT JOIN premiums p USING (uscc)
    LEFT JOIN derived d USING (uscc) LEFT JOIN prior pr USING (uscc)
),
flags AS (
    SELECT *,
           unit_type = 'enterprise' AND size_used IS NULL AS size_missing,
           CASE WHEN unit_type = 'enterprise' AND size_used IS NULL THEN 0
                WHEN size_used = 'large' THEN base * 30 // 100 ELSE base * 60 // 100 END AS formula,
           greatest(hs - he, 0) AS layoff
    FROM facts
),
coded AS (
    SELECT uscc, formula, already,
           list_filter([
               CASE WHEN unit_type NOT IN ('enterprise', 'social_org', 'foundation', 'social_service_org', 'law_firm',
                                           'accounting_firm', 'individual_business') THEN 'UNIT_TYPE_INELIGIBLE' END,
               CASE WHEN status IN ('cancelled', 'revoked') THEN 'UNIT_INACTIVE' END,
               CASE WHEN NOT reserve_ok THEN 'REGION_RESERVE_INSUFFICIENT' END,
               CASE WHEN hs > 0 AND layoff * 100 > (CASE WHEN he <= 30 THEN 20 ELSE 6 END) * hs THEN 'LAYOFF_RATE_EXCEEDED' END,
               CASE WHEN arrears > 0 THEN 'ARREARS_OUTSTANDING' END,
               CASE WHEN base = 0 THEN 'NO_PREMIUM_PAID' END,
               CASE WHEN dishonest THEN 'DISHONEST_ENTITY' END,
               CASE WHEN zombie THEN 'ZOMBIE_ENTERPRISE' END,
               CASE WHEN formula > 0 AND already >= formula THEN 'ALREADY_PAID' END,
               CASE WHEN base > 0 AND formula = 0 AND NOT size_missing THEN 'AMOUNT_ZERO' END], lambda x: x IS NOT NULL) AS rejects,
           list_filter([
               CASE WHEN size_missing THEN 'SIZE_CLASS_MISSING' END,
               CASE WHEN bank_account IS NULL OR bank_code IS NULL THEN 'BANK_ACCOUNT_MISSING' END,
               CASE WHEN bank_account IS NOT NULL AND bank_code IS NOT NULL
                         AND coalesce(trim(translate(account_name, '（）　', '() ')), '') <> trim(translate(unit_name, '（）　', '() '))
                    THEN 'ACCOUNT_NAME_MISMATCH' END,
               -- above the auto-grant cap: paid on application (辽人社发〔2021〕7号 一(一)); nobody applied in the bench
               CASE WHEN he > 200 THEN 'APPLICATION_REQUIRED' END], lambda x: x IS NOT NULL) AS holds
    FROM flags
)
SELECT uscc,
       CASE WHEN len(rejects) > 0 THEN 'REJECT' WHEN len(holds) > 0 THEN 'HOLD' ELSE 'PAY' END AS decision,
       array_to_string(list_concat(rejects, holds), ';') AS reasons,
       CASE WHEN len(rejects) = 0 AND len(holds) = 0 THEN CAST(greatest(formula - already, 0) AS BIGINT) ELSE 0 END AS amount_fen
FROM coded
ORDER BY uscc
