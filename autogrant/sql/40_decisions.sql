-- Reads: ledger_holds, ledger_paid, policy, policy_rate_arms, region_facts, unit_facts, unit_rate_arm,
--        unit_schemes, unit_signals, unit_size
-- Makes: decision_details, unit_flags, unit_rules
-- decision_details, one row per unit of a region that can be decided: every rule evaluated, reasons, amounts, clauses.
-- unit_rules and unit_flags are views: DuckDB reads them into decision_details in one pass, where as tables each
-- was a copy of every unit's hundred columns made only to be read once (issue 13).

CREATE OR REPLACE TEMP VIEW unit_rules AS
-- already_paid: what the drop records (30_unit_facts.sql) and what the ledger paid under this policy, net of
-- reversals, as it stands now: after a release, the ledger's state is loaded again and this view read again
SELECT f.* REPLACE (f.already_paid + coalesce(lp.amount_fen, 0) AS already_paid), s.size_class_used, s.size_source, r.balance, r.monthly_expenditure, r.adjustment_approved,
       r.reserve_sufficient, r.registered_unemployment_rate, r.avg_monthly_benefit,
       a.name AS rate_arm, a.cite AS rate_arm_cite,
       us.own_scheme_fen, us.other_scheme, us.other_scheme_fen, us.other_scheme_open, coalesce(us.other_scheme_paid_fen, 0) AS other_scheme_paid_fen,
       sg.account_shared_units, sg.account_shared_with, sg.noticed_account, sg.account_name_unit,
       sg.account_shared, sg.account_changed, sg.account_name_other_unit,
       -- layoff_rate_applied, the unit's limit: layoff_rate_max_small for a small unit where the policy has one, else
       -- layoff_rate_max, or the region's registered unemployment rate where layoff_rate_max names it
       CASE WHEN p.small_unit_max_headcount IS NOT NULL AND f.headcount_end <= p.small_unit_max_headcount
            THEN 'small_unit' WHEN p.layoff_rate_max_from_region THEN 'region_rate' ELSE 'general' END AS layoff_rate_applied_kind,
       CASE WHEN p.small_unit_max_headcount IS NOT NULL AND f.headcount_end <= p.small_unit_max_headcount
            THEN p.layoff_rate_max_small WHEN p.layoff_rate_max_from_region THEN r.registered_unemployment_rate
            ELSE p.layoff_rate_max END AS layoff_rate_applied,
       p.size_class_matters AND f.unit_type = 'enterprise' AND s.size_class_used IS NULL AS size_class_missing,
       -- 内蒙古工作方案 二(二) "返还标准可按…或…": a benefit_months refund's two standards, in fen (the second NULL where
       -- the policy has none or the unit no premium due on file: 32_si_premiums.sql)
       CASE WHEN p.amount_formula = 'benefit_months' THEN p.benefit_months * r.avg_monthly_benefit * f.headcount_ref END
         AS benefit_standard_fen,
       CASE WHEN p.amount_formula = 'benefit_months' THEN premium_months_fen(p.premium_months_alt, f.si_due_total_fen, f.si_due_months) END
         AS premium_standard_fen,
       CASE WHEN p.amount_formula = 'premium_share' AND NOT (p.size_class_matters AND f.unit_type = 'enterprise' AND s.size_class_used IS NULL)
            THEN a.rate END AS rate
FROM unit_facts f
CROSS JOIN policy p
JOIN region_facts r ON r.region_code = f.region_code AND r.missing IS NULL
LEFT JOIN ledger_paid lp USING (uscc)  -- one row a unit (22_ledger_state.sql)
JOIN unit_size s USING (uscc)
LEFT JOIN unit_rate_arm ua USING (uscc)
LEFT JOIN policy_rate_arms a ON a.arm_no = ua.arm_no
LEFT JOIN unit_schemes us USING (uscc)
JOIN unit_signals sg USING (uscc);

CREATE OR REPLACE TEMP VIEW unit_flags AS
SELECT u.*,
       -- the standard paid: the larger where the text allows a choice (a tie: the first the text names, the benefit one)
       CASE WHEN p.amount_formula = 'premium_share' THEN NULL
            WHEN u.premium_standard_fen > u.benefit_standard_fen THEN 'premium_months' ELSE 'benefit_months' END AS amount_standard,
       CASE WHEN p.amount_formula = 'premium_share' THEN CAST(floor(u.premium_base * u.rate) AS BIGINT)
            -- 内蒙古工作方案 二(二): months × the region's average monthly benefit × insured headcount, or months × the
            -- unit's average monthly social-insurance premium due, the larger
            WHEN u.premium_standard_fen > u.benefit_standard_fen THEN u.premium_standard_fen
            ELSE u.benefit_standard_fen END AS amount_formula_fen,
       u.register_row_quarantined OR u.quarantined_rows IS NOT NULL AS invalid_input,
       NOT coalesce(list_contains(p.eligible_unit_types, u.unit_type), false) AS unit_type_ineligible,
       coalesce(list_contains(p.inactive_statuses, u.status), false) AS unit_inactive,
       NOT u.reserve_sufficient AND NOT (p.adjustment_fund_allowed AND u.adjustment_approved) AS region_reserve_insufficient,
       p.size_classes_covered IS NOT NULL AND u.size_class_used IS NOT NULL
           AND NOT list_contains(p.size_classes_covered, u.size_class_used) AS size_class_ineligible,
       -- above the auto-grant cap: an ineligible unit, or (over_cap route apply) one paid on its own application
       p.headcount_cap IS NOT NULL AND u.headcount_ref > p.headcount_cap AND NOT p.over_cap_by_application AS headcount_over_cap,
       -- 辽人社发〔2021〕7号 一(一) "可在2021年12月31日前申请": held until its application is recorded (autogrant apply)
       p.headcount_cap IS NOT NULL AND u.headcount_ref > p.headcount_cap AND p.over_cap_by_application
           AND u.uscc NOT IN (SELECT uscc FROM ledger_holds WHERE hold = 'APPLICATION_LODGED') AS application_required,
       -- exact ratio: layoff_numer ÷ layoff_denom against the limit, as layoff_numer against limit × layoff_denom
       -- (layoff_count ÷ headcount_start, or under benefit_claims_over_avg_insured 12 × claimants ÷ Σ monthly insured: 31_claims_and_months.sql)
       -- nobody to lay off (denominator 0) passes; a claimant of a unit that insured nobody in Y (12 × 1 > limit × 0) does not
       -- layoff_comparison below (低于): the rate must be under the limit; at_most (不高于): equal to it passes
       (u.layoff_denom > 0 OR u.layoff_numer > 0) AND CASE WHEN p.layoff_comparison = 'below'
                                   THEN NOT (u.layoff_numer < u.layoff_rate_applied * u.layoff_denom)
                                   ELSE u.layoff_numer > u.layoff_rate_applied * u.layoff_denom END AS layoff_rate_exceeded,
       p.arrears_paid_up AND u.arrears_as_of_fen > 0 AS arrears_outstanding,
       p.months_paid_min IS NOT NULL AND u.full_months_paid < p.months_paid_min AS premium_months_short,
       u.premium_base = 0 AS no_premium_paid,
       p.exclude_dishonest AND coalesce(u.on_dishonest_list, false) AS dishonest_entity,
       p.exclude_zombie AND coalesce(u.on_zombie_list, false) AS zombie_enterprise,
       u.double_dip_subsidies IS NOT NULL AS double_dip,
       p.difficulty_list_required AND NOT coalesce(u.on_difficulty_list, false) AS not_in_difficulty,
       u.bank_account IS NULL OR u.bank_code IS NULL AS bank_account_missing,
       u.bank_account IS NOT NULL AND u.bank_code IS NOT NULL
           AND coalesce(fold_name(u.account_name), '') <> fold_name(u.unit_name) AS account_name_mismatch,
       -- returned by the bank: held while the unit's account is still the one the payment bounced from
       EXISTS (SELECT 1 FROM ledger_holds h WHERE h.uscc = u.uscc AND h.hold = 'PAYMENT_RETURNED'
               AND h.bank_account IS NOT DISTINCT FROM u.bank_account AND h.bank_code IS NOT DISTINCT FROM u.bank_code) AS payment_returned,
       u.uscc IN (SELECT uscc FROM ledger_holds WHERE hold = 'UNDER_OBJECTION') AS under_objection,
       u.uscc IN (SELECT uscc FROM ledger_holds WHERE hold = 'OBJECTION_UPHELD') AS objection_upheld
FROM unit_rules u CROSS JOIN policy p;

CREATE OR REPLACE TABLE decision_details AS
WITH coded AS (
    SELECT f.*,
           coalesce(f.amount_formula_fen, 0) AS amount_due_calc_fen,
           -- what was paid under the alternative scheme counts against this one (one scheme's money per unit)
           coalesce(f.amount_formula_fen, 0) > 0 AND f.already_paid + f.other_scheme_paid_fen >= f.amount_formula_fen AS already_paid_full,
           NOT f.no_premium_paid AND f.amount_formula_fen = 0 AS amount_zero,
           -- 内蒙古工作方案 二(二) "返还标准可按…或…": a unit eligible here and under its alternative scheme takes the larger
           -- amount (on a tie, the scheme whose policy_id sorts first); the other scheme rejects it
           f.other_scheme IS NOT NULL AND f.other_scheme_open AND coalesce(f.other_scheme_fen, 0) > 0
             AND NOT (f.invalid_input OR f.unit_type_ineligible OR f.unit_inactive OR f.region_reserve_insufficient
                      OR f.size_class_ineligible OR f.headcount_over_cap OR f.layoff_rate_exceeded OR f.arrears_outstanding
                      OR f.no_premium_paid OR f.dishonest_entity OR f.zombie_enterprise OR f.double_dip OR f.not_in_difficulty
                      OR f.objection_upheld OR f.premium_months_short)
             AND (f.other_scheme_fen > coalesce(f.own_scheme_fen, 0)
                  OR (f.other_scheme_fen = coalesce(f.own_scheme_fen, 0) AND f.other_scheme < p.policy_id)) AS other_scheme_chosen
    FROM unit_flags f CROSS JOIN policy p
), listed AS (
    SELECT c.*,
           -- a unit whose register row was quarantined has nothing else to evaluate: INVALID_INPUT alone
           CASE WHEN register_row_quarantined THEN ['INVALID_INPUT'] ELSE list_filter([
               CASE WHEN invalid_input THEN 'INVALID_INPUT' END,
               CASE WHEN unit_type_ineligible THEN 'UNIT_TYPE_INELIGIBLE' END,
               CASE WHEN unit_inactive THEN 'UNIT_INACTIVE' END,
               CASE WHEN region_reserve_insufficient THEN 'REGION_RESERVE_INSUFFICIENT' END,
               CASE WHEN size_class_ineligible THEN 'SIZE_CLASS_INELIGIBLE' END,
               CASE WHEN headcount_over_cap THEN 'HEADCOUNT_OVER_CAP' END,
               CASE WHEN layoff_rate_exceeded THEN 'LAYOFF_RATE_EXCEEDED' END,
               CASE WHEN arrears_outstanding THEN 'ARREARS_OUTSTANDING' END,
               CASE WHEN no_premium_paid THEN 'NO_PREMIUM_PAID' END,
               CASE WHEN dishonest_entity THEN 'DISHONEST_ENTITY' END,
               CASE WHEN zombie_enterprise THEN 'ZOMBIE_ENTERPRISE' END,
               CASE WHEN double_dip THEN 'DOUBLE_DIP' END,
               CASE WHEN not_in_difficulty THEN 'NOT_IN_DIFFICULTY' END,
               CASE WHEN already_paid_full THEN 'ALREADY_PAID' END,
               CASE WHEN amount_zero THEN 'AMOUNT_ZERO' END,
               CASE WHEN objection_upheld THEN 'OBJECTION_UPHELD' END,
               CASE WHEN other_scheme_chosen THEN 'OTHER_SCHEME_CHOSEN' END,
               CASE WHEN premium_months_short THEN 'PREMIUM_MONTHS_SHORT' END], lambda x: x IS NOT NULL) END AS reject_codes,
           CASE WHEN register_row_quarantined THEN [] ELSE list_filter([
               CASE WHEN size_class_missing THEN 'SIZE_CLASS_MISSING' END,
               CASE WHEN bank_account_missing THEN 'BANK_ACCOUNT_MISSING' END,
               CASE WHEN account_name_mismatch THEN 'ACCOUNT_NAME_MISMATCH' END,
               CASE WHEN payment_returned THEN 'PAYMENT_RETURNED' END,
               CASE WHEN under_objection THEN 'UNDER_OBJECTION' END,
               CASE WHEN application_required THEN 'APPLICATION_REQUIRED' END,
               -- fraud signals (reference/account_signals.yaml), appended to the contract's list (issue 12)
               CASE WHEN account_shared THEN 'ACCOUNT_SHARED' END,
               CASE WHEN account_changed THEN 'ACCOUNT_CHANGED' END,
               CASE WHEN account_name_other_unit THEN 'ACCOUNT_NAME_OTHER_UNIT' END], lambda x: x IS NOT NULL) END AS hold_codes
    FROM coded c
), decided AS (
    SELECT l.*,
           CASE WHEN len(reject_codes) > 0 THEN 'REJECT' WHEN len(hold_codes) > 0 THEN 'HOLD' ELSE 'PAY' END AS decision,
           -- in the registry's order (reference/reasons.yaml: the contract's list, then the codes appended to it)
           list_transform(list_sort(list_transform(list_concat(reject_codes, hold_codes),
                                                   lambda c: {'pos': p.reason_position[c], 'code': c})), lambda x: x.code) AS codes
    FROM listed l CROSS JOIN (SELECT reason_position FROM policy) p
)
SELECT p.policy_id, d.*,
       array_to_string(d.codes, ';') AS reasons,
       -- what the policy grants: nothing on a rejection other than "already paid in full"
       CASE WHEN d.decision = 'REJECT' AND d.reject_codes <> ['ALREADY_PAID'] THEN 0 ELSE d.amount_due_calc_fen END AS amount_due,
       CASE WHEN d.decision = 'PAY' THEN greatest(d.amount_due_calc_fen - d.already_paid - d.other_scheme_paid_fen, 0) ELSE 0 END AS amount,
       -- a unit paid by the premium standard (amount_standard) cites that standard's clause for its amount
       CASE WHEN d.decision = 'PAY' AND d.amount_standard = 'premium_months' THEN p.cites['PAY_PREMIUM_MONTHS']
            WHEN d.decision = 'PAY'
            THEN array_to_string(list_distinct_ordered(list_concat([p.cites['PAY'], coalesce(d.rate_arm_cite, p.cites['PAY'])],
                     -- paid to the tax bureau's contribution account (33_payee_account.sql): the clause that allows it
                     CASE WHEN d.payee_account = 'contribution_account' THEN [p.cites['FALLBACK_PAYEE']] ELSE [] END)), '; ')
            ELSE array_to_string(list_distinct_ordered(list_transform(d.codes, lambda c: p.cites[
                     CASE WHEN c = 'LAYOFF_RATE_EXCEEDED' AND d.layoff_rate_applied_kind = 'small_unit' THEN c || '_SMALL'
                          WHEN c = 'ALREADY_PAID' AND d.amount_standard = 'premium_months' THEN c || '_PREMIUM_MONTHS'
                          ELSE c END])), '; ')
       END AS citations
FROM decided d CROSS JOIN policy p;
