-- Reads: policy, quarantine, scope_units, stg_difficulty, stg_dishonest, stg_other_subsidies, stg_payments,
--        stg_prior_disbursements, stg_zombie, unit_headcounts
-- Makes: unit_facts, unit_lists, unit_premiums
-- unit_facts, one row per unit in scope: headcounts, layoff figures, premium base, arrears, list hits, and
-- already_paid as the drop records it (prior_disbursements). Steps 28-37 read the drop and the policy alone, never
-- the ledger, so a night on the same drop can take their tables from transforms/drop_cache.py: what the ledger paid
-- is added where the decisions are taken (40_decisions.sql, ledger_paid).

-- 上年度实际缴纳失业保险费: unit + staff paid for fee months of Y, paid by the cut-off; late fees never count.
-- Arrears of Y settled after the year still count (辽人社发〔2017〕14号 二, 人社厅发〔2017〕129号 二(二): 补缴后…要发放).
-- Arrears at D: what was due for fee months up to December of Y less what was paid by D.
CREATE OR REPLACE TEMP TABLE unit_premiums AS
SELECT m.uscc,
       coalesce(sum(m.unit_paid + m.staff_paid) FILTER (WHERE year(m.fee_month) = p.assessed_year AND m.paid_date <= p.as_of), 0) AS premium_base,
       coalesce(sum(m.unit_due + m.staff_due), 0)
         - coalesce(sum(m.unit_paid + m.staff_paid) FILTER (WHERE m.paid_date <= p.year_end), 0) AS arrears_year_end_fen,
       coalesce(sum(m.unit_due + m.staff_due), 0)
         - coalesce(sum(m.unit_paid + m.staff_paid) FILTER (WHERE m.paid_date <= p.as_of), 0) AS arrears_as_of_fen
FROM stg_payments m CROSS JOIN policy p
WHERE m.fee_month <= p.year_end AND m.uscc IN (SELECT uscc FROM scope_units)
GROUP BY m.uscc;

CREATE OR REPLACE TEMP TABLE unit_lists AS
SELECT u.uscc,
       EXISTS (SELECT 1 FROM stg_dishonest d WHERE d.uscc = u.uscc AND d.listed_date <= p.as_of
               AND (d.removed_date IS NULL OR d.removed_date > p.as_of)) AS on_dishonest_list,
       EXISTS (SELECT 1 FROM stg_zombie z WHERE z.uscc = u.uscc AND z.listed_date <= p.as_of) AS on_zombie_list,
       (SELECT string_agg(DISTINCT o.subsidy_type, ',' ORDER BY o.subsidy_type) FROM stg_other_subsidies o
        WHERE o.uscc = u.uscc AND o.year = p.assessed_year AND list_contains(p.double_dip_subsidy_types, o.subsidy_type)) AS double_dip_subsidies,
       EXISTS (SELECT 1 FROM stg_difficulty f WHERE f.uscc = u.uscc AND f.recognised_date <= p.as_of) AS on_difficulty_list,
       coalesce((SELECT sum(b.amount) FROM stg_prior_disbursements b WHERE b.uscc = u.uscc AND b.policy_id = p.policy_id), 0) AS already_paid,
       -- each row once, by file and line (a row with several bad cells is in quarantine once a cell)
       (SELECT string_agg(r.file || ' line ' || r.line, ', ' ORDER BY r.file, r.line) FROM (
            SELECT DISTINCT q.file, q.line FROM quarantine q
            WHERE q.uscc = u.uscc AND q.file NOT LIKE 'bank_returns/%'
              -- a bad contribution account row only leaves the unit without a fallback account (33_payee_account.sql)
              AND q.file NOT LIKE 'contribution_accounts%') r) AS quarantined_rows
FROM scope_units u CROSS JOIN policy p;

CREATE OR REPLACE TABLE unit_facts AS
SELECT u.*,
       coalesce(h.headcount_start, 0) AS headcount_start,
       coalesce(h.headcount_end, 0) AS headcount_end,
       coalesce(h.headcount_ref, 0) AS headcount_ref,
       coalesce(h.natural_exits, 0) AS natural_exits,
       -- 净减员: the year's net decline in insured persons, less natural exits under net_decline_excl_natural
       greatest(coalesce(h.headcount_start, 0) - coalesce(h.headcount_end, 0)
                - CASE WHEN p.layoff_formula = 'net_decline_excl_natural' THEN coalesce(h.natural_exits, 0) ELSE 0 END, 0) AS layoff_count,
       CAST(coalesce(m.premium_base, 0) AS BIGINT) AS premium_base,  -- fen as BIGINT, never HUGEINT (Parquet: DOUBLE)
       CAST(greatest(coalesce(m.arrears_year_end_fen, 0), 0) AS BIGINT) AS arrears_year_end_fen,
       CAST(greatest(coalesce(m.arrears_as_of_fen, 0), 0) AS BIGINT) AS arrears_as_of_fen,
       coalesce(m.arrears_year_end_fen, 0) > 0 AND coalesce(m.arrears_as_of_fen, 0) <= 0 AS paid_up_arrears,
       l.on_dishonest_list, l.on_zombie_list, l.double_dip_subsidies, l.on_difficulty_list, CAST(l.already_paid AS BIGINT) AS already_paid,
       l.quarantined_rows
FROM scope_units u
CROSS JOIN policy p
LEFT JOIN unit_headcounts h USING (uscc)
LEFT JOIN unit_premiums m USING (uscc)
LEFT JOIN unit_lists l USING (uscc);
