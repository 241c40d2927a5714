-- Reads: ledger_other_scheme, policy_schemes, region_facts, scheme_rate_arms, stg_prior_disbursements, unit_facts,
--        unit_size
-- Makes: unit_schemes
-- unit_schemes, one row per unit in scope: this policy's amount and its alternative scheme's, for the choice of one.
-- 内蒙古工作方案 二(二) "返还标准可按…或…": a standard in place of 二(一)'s, so one scheme per unit and year, the larger
-- (sql/40_decisions.sql decides OTHER_SCHEME_CHOSEN). Without an alternative_scheme the alternative columns are NULL.

CREATE OR REPLACE TABLE unit_schemes AS
WITH arms AS (  -- each scheme's first rate arm that holds; without a size class, the highest rate the unit could get
    SELECT f.uscc, a.policy_id,
           arg_min(a.rate, a.arm_no) FILTER (WHERE a.size_classes IS NULL OR list_contains(a.size_classes, s.size_class_used)) AS arm_rate,
           max(a.rate) AS max_rate,
           any_value(s.size_class_used) AS size_class_used
    FROM unit_facts f
    JOIN unit_size s USING (uscc)
    JOIN scheme_rate_arms a
      ON (a.industries IS NULL OR len(list_filter(a.industries, lambda p: starts_with(f.industry_code, p))) > 0)
     AND (a.paid_up_arrears IS NULL OR a.paid_up_arrears = f.paid_up_arrears)
    GROUP BY f.uscc, a.policy_id
), per_scheme AS (
    SELECT f.uscc, sc.policy_id, sc.is_self,
           CASE WHEN sc.amount_formula = 'premium_share'
                THEN CAST(floor(f.premium_base * CASE WHEN a.size_class_used IS NULL THEN a.max_rate ELSE a.arm_rate END) AS BIGINT)
                -- 内蒙古工作方案 二(二): months × the region's average monthly benefit × insured headcount, "或" where the
                -- scheme has it and the unit's premiums due are on file, months × its average monthly premium due: the larger
                WHEN sc.benefit_months * r.avg_monthly_benefit * f.headcount_ref
                     < premium_months_fen(sc.premium_months_alt, f.si_due_total_fen, f.si_due_months)
                THEN premium_months_fen(sc.premium_months_alt, f.si_due_total_fen, f.si_due_months)
                ELSE sc.benefit_months * r.avg_monthly_benefit * f.headcount_ref END AS amount_fen,
           -- the scheme's own conditions; the others are the same under both (POLICY_RULES.md IM-2020-DIFFICULTY)
           (NOT sc.difficulty_list_required OR coalesce(f.on_difficulty_list, false))
             AND (r.balance >= sc.reserve_months_min * r.monthly_expenditure OR (sc.adjustment_fund_allowed AND r.adjustment_approved))
             AS scheme_open
    FROM unit_facts f
    CROSS JOIN policy_schemes sc
    LEFT JOIN arms a ON a.uscc = f.uscc AND a.policy_id = sc.policy_id
    LEFT JOIN region_facts r ON r.region_code = f.region_code
), by_unit AS (
    SELECT s.uscc,
           max(s.amount_fen) FILTER (WHERE s.is_self) AS own_scheme_fen,
           any_value(s.policy_id) FILTER (WHERE NOT s.is_self) AS other_scheme,
           max(s.amount_fen) FILTER (WHERE NOT s.is_self) AS other_scheme_fen,
           coalesce(bool_or(s.scheme_open) FILTER (WHERE NOT s.is_self), false) AS other_scheme_open
    FROM per_scheme s
    GROUP BY s.uscc
)
SELECT v.*,
       -- paid under the other scheme, before this system (prior_disbursements) and by the other policy's own ledger
       -- (transforms/other_scheme.py): one scheme's money per unit in all
       CAST(coalesce((SELECT sum(b.amount) FROM stg_prior_disbursements b
                      WHERE b.uscc = v.uscc AND b.policy_id = v.other_scheme), 0)
            + CASE WHEN v.other_scheme IS NULL THEN 0
                   ELSE coalesce((SELECT sum(l.amount_fen) FROM ledger_other_scheme l WHERE l.uscc = v.uscc), 0) END AS BIGINT)
         AS other_scheme_paid_fen
FROM by_unit v;
