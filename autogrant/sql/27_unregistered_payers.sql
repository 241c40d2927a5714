-- Reads: policy, stg_payments, stg_units, units_quarantined
-- Makes: unregistered_payers
-- unregistered_payers, one row per USCC the tax bureau
-- collected premiums from that has no row in the unit register (not even a quarantined one), for the agency to register.
-- 辽人社发〔2017〕14号 一 (after 人社厅发〔2017〕129号) "两个全覆盖…符合条件的企业全覆盖": a payer missing from the register is decided nowhere.

CREATE OR REPLACE TABLE unregistered_payers AS
SELECT m.uscc,
       count(*) AS payment_rows,
       -- as the premium base counts it (sql/30_unit_facts.sql): fee months of Y paid by the cut-off, late fees never
       CAST(coalesce(sum(m.unit_paid + m.staff_paid) FILTER (WHERE year(m.fee_month) = p.assessed_year AND m.paid_date <= p.as_of), 0)
            AS BIGINT) AS premium_paid_fen,
       strftime(min(m.fee_month), '%Y-%m') AS first_fee_month,
       strftime(max(m.fee_month), '%Y-%m') AS last_fee_month
FROM stg_payments m CROSS JOIN policy p
WHERE m.uscc NOT IN (SELECT uscc FROM stg_units)
  AND m.uscc NOT IN (SELECT uscc FROM units_quarantined WHERE uscc IS NOT NULL)
GROUP BY m.uscc
ORDER BY m.uscc;
