-- Reads: policy, scope_units, stg_benefit_claims, stg_roster
-- Makes: unit_claims, unit_headcounts, unit_insured_months
-- Every figure read from a person's ID number, counted per unit of scope: after this step no table the night reads
-- holds an ID number (the roster and the benefit claims are read here alone). What it makes, with the drop's staged
-- files less those two, is what transforms/drop_cache.py keeps for the next night on the same drop. The figures are
-- used by 30_unit_facts.sql (headcounts) and 31_claims_and_months.sql (claimants, months). Tables, not temporary
-- tables: drop_cache.keep reads them on a connection of its own.

-- H(D): distinct persons insured on day D (start_date <= D and end_date empty or >= D). A person counts once
-- however many of their spells with the unit cover D: one row per (unit, person) first, then counts per unit. A
-- person is their person_key, the ID number's 17 digits as one integer (sql/00_macros.sql): the same persons as by
-- the text, grouped faster.
CREATE OR REPLACE TABLE unit_headcounts AS
SELECT uscc,
       count(*) FILTER (WHERE on_start) AS headcount_start,
       count(*) FILTER (WHERE on_end) AS headcount_end,
       count(*) FILTER (WHERE on_ref) AS headcount_ref,
       CAST(sum(natural_exits) AS BIGINT) AS natural_exits
FROM (
    SELECT s.uscc, s.person_key,
           bool_or(s.start_date <= p.year_start - 1 AND (s.end_date IS NULL OR s.end_date >= p.year_start - 1)) AS on_start,
           bool_or(s.start_date <= p.year_end AND (s.end_date IS NULL OR s.end_date >= p.year_end)) AS on_end,
           bool_or(s.start_date <= p.reference_date AND (s.end_date IS NULL OR s.end_date >= p.reference_date)) AS on_ref,
           -- spells ending in Y by retirement or death: natural decline, left out by formula net_decline_excl_natural
           count(*) FILTER (WHERE s.end_date BETWEEN p.year_start AND p.year_end AND s.end_reason IN ('retirement', 'death')) AS natural_exits
    FROM stg_roster s CROSS JOIN policy p
    WHERE s.uscc IN (SELECT uscc FROM scope_units)
    GROUP BY s.uscc, s.person_key
)
GROUP BY uscc;

CREATE OR REPLACE TABLE unit_claims AS
SELECT c.uscc, count(DISTINCT c.person_key) AS benefit_claimants
FROM stg_benefit_claims c CROSS JOIN policy p
WHERE p.layoff_formula = 'benefit_claims_over_avg_insured'
  AND c.claim_date BETWEEN p.year_start AND p.year_end
  AND c.uscc IN (SELECT uscc FROM scope_units)
GROUP BY c.uscc;

CREATE OR REPLACE TABLE unit_insured_months AS
WITH months AS (
    SELECT CAST(m AS DATE) AS month_start, CAST(m + INTERVAL 1 MONTH - INTERVAL 1 DAY AS DATE) AS month_end
    FROM policy p, range(CAST(p.year_start AS TIMESTAMP), CAST(p.year_end AS TIMESTAMP), INTERVAL 1 MONTH) t(m)
    -- also the size rule by average insured headcount (35_size_by_avg_insured.sql)
    WHERE p.layoff_formula = 'benefit_claims_over_avg_insured' OR p.size_classification = 'avg_insured_headcount'
), per_month AS (
    SELECT s.uscc, m.month_start, count(DISTINCT s.person_key) AS insured
    FROM stg_roster s JOIN months m ON s.start_date <= m.month_end AND (s.end_date IS NULL OR s.end_date >= m.month_start)
    WHERE s.uscc IN (SELECT uscc FROM scope_units)
    GROUP BY s.uscc, m.month_start
)
SELECT uscc, CAST(sum(insured) AS BIGINT) AS insured_month_total FROM per_month GROUP BY uscc;
