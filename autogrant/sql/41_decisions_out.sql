-- Reads: decision_details
-- Makes: decisions_out
-- decisions_out, decisions.csv as CONTRACT.md section 3 defines it
-- (yuan with 2 decimals, layoff_rate with 4 for reading only), sorted by region_code, uscc.

CREATE OR REPLACE TABLE decisions_out AS  -- a table: formatted once, then cut by region
SELECT policy_id, region_code, uscc, unit_name, decision, reasons,
       headcount_ref, headcount_start, headcount_end,
       -- the ratio the decision compared (31_claims_and_months.sql): layoff_count ÷ headcount_start, or under
       -- benefit_claims_over_avg_insured 12 × claimants ÷ Σ monthly insured; '' where claimants left a unit that
       -- insured nobody in the year (no finite rate: the limit is exceeded)
       CASE WHEN layoff_denom = 0 AND layoff_numer > 0 THEN ''
            WHEN layoff_denom = 0 THEN '0.0000'
            ELSE printf('%d.%04d', ((layoff_numer * 20000 + layoff_denom) // (2 * layoff_denom)) // 10000,
                                   ((layoff_numer * 20000 + layoff_denom) // (2 * layoff_denom)) % 10000) END AS layoff_rate,
       coalesce(size_class_used, '') AS size_class,
       yuan(premium_base) AS premium_base,
       CASE WHEN rate IS NULL THEN ''
            WHEN rate * 100 = floor(rate * 100) THEN printf('%.2f', rate)
            ELSE printf('%.4f', rate) END AS rate,
       yuan(amount_due) AS amount_due,
       yuan(already_paid) AS already_paid,
       yuan(amount) AS amount,
       citations,
       -- appended (issue 16): register, contribution_account (the tax bureau's, fallback_payee), or '' (none)
       coalesce(payee_account, '') AS payee_account
FROM decision_details
ORDER BY region_code, uscc;
