-- Reads: ledger.applications, ledger.claims, ledger.objections, ledger.payments, ledger.signal_clearances, policy
-- Makes: ledger_holds, ledger_paid
-- ledger_paid and ledger_holds, what the decisions read
-- of the ledger: money paid under this policy (net of reversals), and the holds of the workflow.

CREATE OR REPLACE TEMP TABLE ledger_paid AS
SELECT uscc, CAST(sum(amount_fen) AS BIGINT) AS amount_fen
FROM ledger.payments WHERE policy_id = (SELECT policy_id FROM policy)
GROUP BY uscc;

CREATE OR REPLACE TEMP TABLE ledger_holds AS
SELECT uscc, 'UNDER_OBJECTION' AS hold, NULL::VARCHAR AS bank_account, NULL::VARCHAR AS bank_code
FROM ledger.objections WHERE policy_id = (SELECT policy_id FROM policy) AND outcome IS NULL
UNION ALL
SELECT uscc, 'OBJECTION_UPHELD', NULL, NULL
FROM ledger.objections WHERE policy_id = (SELECT policy_id FROM policy) AND outcome = 'upheld'
UNION ALL
-- not a hold: a unit above the auto-grant cap whose application is recorded is decided like any other
SELECT uscc, 'APPLICATION_LODGED', NULL, NULL
FROM ledger.applications WHERE policy_id = (SELECT policy_id FROM policy)
UNION ALL
-- the unit's last ledger entry is a reversal: its payment came back, to this account
SELECT p.uscc, 'PAYMENT_RETURNED', p.bank_account, p.bank_code
FROM ledger.payments p
WHERE p.policy_id = (SELECT policy_id FROM policy) AND p.kind = 'reversal'
  AND p.seq = (SELECT max(q.seq) FROM ledger.payments q WHERE q.policy_id = p.policy_id AND q.uscc = p.uscc)
UNION ALL
-- fraud signals (sql/39_account_signals.sql): the account of the unit's last claim when that claim is not paid or
-- returned (its notice was prepared with that account), every account a claim or payment of this policy used, and
-- the clerks' clearances, each for one account
SELECT uscc, 'NOTICED_ACCOUNT', bank_account, bank_code FROM (
    SELECT c.uscc, c.bank_account, c.bank_code, c.state FROM ledger.claims c
    WHERE c.policy_id = (SELECT policy_id FROM policy)
    QUALIFY row_number() OVER (PARTITION BY c.uscc
                               ORDER BY c.created_on DESC, CAST(regexp_extract(c.claim_id, '([0-9]+)$', 1) AS INTEGER) DESC) = 1)
WHERE state IN ('in_notice', 'batched', 'withdrawn')
UNION ALL
SELECT DISTINCT uscc, 'ACCOUNT_USED', bank_account, bank_code
FROM (SELECT uscc, bank_account, bank_code FROM ledger.claims
      WHERE policy_id = (SELECT policy_id FROM policy) AND state <> 'withdrawn'
      UNION ALL
      SELECT uscc, bank_account, bank_code FROM ledger.payments
      WHERE policy_id = (SELECT policy_id FROM policy) AND kind = 'payment')
WHERE bank_account IS NOT NULL
UNION ALL
SELECT uscc, 'CLEARED ' || code, bank_account, bank_code
FROM ledger.signal_clearances WHERE policy_id = (SELECT policy_id FROM policy);
