-- Reads: policy, stg_si_premiums_due, unit_facts
-- Makes: unit_facts, unit_facts_before_23, unit_si_due
-- unit_facts with the unit's social-insurance premiums due of the assessed year Y added (si_premiums_due.csv,
-- an optional file: 内蒙古工作方案 二(二) "企业及其职工应缴纳社会保险费", every insurance, unit and staff part):
--   si_due_total_fen  Σ (unit_due + staff_due) over the unit's rows with fee_month in Y, fen (NULL: no row of Y)
--   si_due_months     the fee months of Y the file has for the unit (0: none; one row per unit and month, 16_stage_si_premiums_due.sql)
-- The premium standard (00_macros.sql premium_months_fen) is months × si_due_total_fen ÷ si_due_months, floored.

CREATE OR REPLACE TEMP TABLE unit_si_due AS
SELECT s.uscc, CAST(sum(s.unit_due + s.staff_due) AS BIGINT) AS si_due_total_fen, count(*) AS si_due_months
FROM stg_si_premiums_due s CROSS JOIN policy p
WHERE year(s.fee_month) = p.assessed_year AND s.uscc IN (SELECT uscc FROM unit_facts)
GROUP BY s.uscc;

CREATE OR REPLACE TEMP TABLE unit_facts_before_23 AS SELECT * FROM unit_facts;

CREATE OR REPLACE TABLE unit_facts AS
SELECT f.*, d.si_due_total_fen, CAST(coalesce(d.si_due_months, 0) AS BIGINT) AS si_due_months
FROM unit_facts_before_23 f
LEFT JOIN unit_si_due d USING (uscc);

DROP TABLE unit_facts_before_23;
