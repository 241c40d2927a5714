-- Reads: account_name_units, ledger_holds, signal_rules, stg_units, unit_facts
-- Makes: account_users, unit_signals
-- unit_signals, one row per unit in scope: the fraud signals of reference/account_signals.yaml, each with
-- what raised it, and false where a clerk cleared it for the unit's present account (autogrant clear).
-- Accounts are compared by number: one number is one account, whichever bank code a row gives with it.
-- The register is the drop's whole unit register (a region's own partition where the drop is partitioned by
-- region); the ledger adds every account a claim or payment of this policy used, in any region.

CREATE OR REPLACE TEMP TABLE account_users AS
SELECT bank_account, count(DISTINCT uscc) AS units, list(DISTINCT uscc ORDER BY uscc) AS usccs
FROM (SELECT bank_account, uscc FROM stg_units WHERE bank_account IS NOT NULL
      UNION ALL
      SELECT bank_account, uscc FROM ledger_holds WHERE hold = 'ACCOUNT_USED' AND bank_account IS NOT NULL)
GROUP BY bank_account;

CREATE OR REPLACE TEMP TABLE unit_signals AS
WITH noticed AS (
    SELECT uscc, bank_account, bank_code FROM ledger_holds WHERE hold = 'NOTICED_ACCOUNT'
), cleared AS (        -- the signals a clerk cleared for the unit's present account
    SELECT h.uscc, list(substr(h.hold, length('CLEARED ') + 1)) AS codes
    FROM ledger_holds h JOIN unit_facts f ON f.uscc = h.uscc
    WHERE h.hold LIKE 'CLEARED %' AND h.bank_account IS NOT DISTINCT FROM f.bank_account
      AND h.bank_code IS NOT DISTINCT FROM f.bank_code
    GROUP BY h.uscc
), raised AS (
    SELECT f.uscc, f.bank_account, f.bank_code,
           coalesce(a.units, 0) AS account_shared_units,
           coalesce(list_filter(a.usccs, lambda x: x <> f.uscc), []) AS account_shared_with,
           n.bank_account AS noticed_account,
           o.account_name_unit,
           f.bank_account IS NOT NULL AND coalesce(a.units, 0) > r.max_units_per_account AS shared,
           r.account_changed_after_notice AND f.bank_account IS NOT NULL AND n.uscc IS NOT NULL
               AND (n.bank_account IS DISTINCT FROM f.bank_account OR n.bank_code IS DISTINCT FROM f.bank_code) AS changed,
           r.match_other_unit_name AND o.account_name_unit IS NOT NULL AS other_unit
    FROM unit_facts f CROSS JOIN signal_rules r
    LEFT JOIN account_users a ON a.bank_account = f.bank_account
    LEFT JOIN noticed n ON n.uscc = f.uscc
    LEFT JOIN account_name_units o ON o.uscc = f.uscc  -- sql/33_payee_account.sql
)
SELECT r.uscc, r.account_shared_units, r.account_shared_with, r.noticed_account, r.account_name_unit,
       r.shared AND NOT list_contains(coalesce(c.codes, []), 'ACCOUNT_SHARED') AS account_shared,
       r.changed AND NOT list_contains(coalesce(c.codes, []), 'ACCOUNT_CHANGED') AS account_changed,
       r.other_unit AND NOT list_contains(coalesce(c.codes, []), 'ACCOUNT_NAME_OTHER_UNIT') AS account_name_other_unit
FROM raised r LEFT JOIN cleared c USING (uscc);
