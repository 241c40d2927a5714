-- Reads: policy, stg_payments, unit_claims, unit_facts, unit_insured_months
-- Makes: unit_facts, unit_facts_before_22, unit_full_months
-- unit_facts with the figures of the 2023-on notices added (issue 16), each computed only where the policy asks:
--   benefit_claimants      distinct persons whose unemployment-benefit claim in Y names the unit (benefit_claims.csv)
--   insured_month_total    Σ over the 12 months of Y of the persons insured with the unit on some day of the month
--   (the average monthly insured headcount is insured_month_total ÷ 12)
--   full_months_paid       fee months of Y whose premium due (unit + staff) was paid in full by the cut-off
--   layoff_numer, layoff_denom  the layoff rate as an exact ratio for sql/40_decisions.sql:
--   net_decline*: layoff_count ÷ headcount_start;
--   benefit_claims_over_avg_insured: benefit_claimants ÷ (insured_month_total ÷ 12) = claimants × 12 ÷ insured_month_total
-- Under benefit_claims_over_avg_insured, layoff_count is the claimant count (what explain and the report show).

-- 足额缴纳: a fee month counts when something was due for it and all of it was paid by the cut-off
CREATE OR REPLACE TEMP TABLE unit_full_months AS
SELECT uscc, count(*) FILTER (WHERE due > 0 AND paid >= due) AS full_months_paid
FROM (
    SELECT m.uscc, m.fee_month, sum(m.unit_due + m.staff_due) AS due,
           coalesce(sum(m.unit_paid + m.staff_paid) FILTER (WHERE m.paid_date <= p.as_of), 0) AS paid
    FROM stg_payments m CROSS JOIN policy p
    WHERE p.months_paid_min IS NOT NULL AND year(m.fee_month) = p.assessed_year
      AND m.uscc IN (SELECT uscc FROM unit_facts)
    GROUP BY m.uscc, m.fee_month
)
GROUP BY uscc;

CREATE OR REPLACE TEMP TABLE unit_facts_before_22 AS SELECT * FROM unit_facts;

CREATE OR REPLACE TABLE unit_facts AS
SELECT f.* REPLACE (CASE WHEN p.layoff_formula = 'benefit_claims_over_avg_insured'
                         THEN coalesce(c.benefit_claimants, 0) ELSE f.layoff_count END AS layoff_count),
       coalesce(c.benefit_claimants, 0) AS benefit_claimants,
       coalesce(i.insured_month_total, 0) AS insured_month_total,
       coalesce(fm.full_months_paid, 0) AS full_months_paid,
       CASE WHEN p.layoff_formula = 'benefit_claims_over_avg_insured' THEN 12 * coalesce(c.benefit_claimants, 0)
            ELSE f.layoff_count END AS layoff_numer,
       CASE WHEN p.layoff_formula = 'benefit_claims_over_avg_insured' THEN coalesce(i.insured_month_total, 0)
            ELSE f.headcount_start END AS layoff_denom
FROM unit_facts_before_22 f
CROSS JOIN policy p
LEFT JOIN unit_claims c USING (uscc)
LEFT JOIN unit_insured_months i USING (uscc)
LEFT JOIN unit_full_months fm USING (uscc);

DROP TABLE unit_facts_before_22;
