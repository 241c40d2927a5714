-- Reads: policy, stg_contribution_accounts, stg_units, unit_facts
-- Makes: account_name_units, unit_facts, unit_facts_before_23
-- unit_facts with the account the unit is paid to
-- (bank_account, bank_code, account_name) and payee_account saying where it comes from:
--   register               the unit's own account in units.csv (基本存款账户), as always;
--   contribution_account   the register has no usable account (account or CNAPS code empty), the policy has
--   fallback_payee contribution_account, and contribution_accounts.csv holds one for the unit:
--   the account it pays its contributions from, as the tax bureau holds it (社会保险费缴费账户);
--   NULL                   no account at all (HOLD BANK_ACCOUNT_MISSING in 40_decisions.sql).
-- Every later step (the name check, the notice, the claims, the payment file, the ledger) reads the account from here.

CREATE OR REPLACE TEMP TABLE unit_facts_before_23 AS SELECT * FROM unit_facts;

CREATE OR REPLACE TABLE unit_facts AS
WITH fallback AS (
    SELECT f.uscc, c.bank_account, c.bank_code, c.account_name
    FROM unit_facts_before_23 f
    CROSS JOIN policy p
    JOIN stg_contribution_accounts c ON c.uscc = f.uscc
    WHERE p.fallback_payee = 'contribution_account'
      AND NOT f.register_row_quarantined
      AND (f.bank_account IS NULL OR f.bank_code IS NULL)
)
SELECT f.* REPLACE (coalesce(b.bank_account, f.bank_account) AS bank_account,
                    coalesce(b.bank_code, f.bank_code) AS bank_code,
                    CASE WHEN b.uscc IS NOT NULL THEN b.account_name ELSE f.account_name END AS account_name),
       CASE WHEN b.uscc IS NOT NULL THEN 'contribution_account'
            WHEN f.bank_account IS NOT NULL AND f.bank_code IS NOT NULL THEN 'register' END AS payee_account
FROM unit_facts_before_23 f
LEFT JOIN fallback b USING (uscc);

DROP TABLE unit_facts_before_23;

-- account_name_units, one row per unit whose account is held in the name of another unit of the register (names
-- folded), with that unit: sql/39_account_signals.sql raises ACCOUNT_NAME_OTHER_UNIT of it where the signal rules
-- ask. Names are compared where there is an account. Of the drop alone, so kept with the drop's facts.
CREATE OR REPLACE TABLE account_name_units AS
SELECT f.uscc, min(s.uscc) AS account_name_unit
FROM unit_facts f JOIN stg_units s ON fold_name(s.unit_name) = fold_name(f.account_name) AND s.uscc <> f.uscc
WHERE f.bank_account IS NOT NULL AND f.bank_code IS NOT NULL
  AND f.account_name IS NOT NULL AND fold_name(f.account_name) <> coalesce(fold_name(f.unit_name), '')
GROUP BY f.uscc;
