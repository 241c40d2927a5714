-- Reads: ledger.payments, ledger.objections, ledger.applications, policy. Makes: ledger_paid and ledger_holds, what the decisions read
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
  AND p.seq = (SELECT max(q.seq) FROM ledger.payments q WHERE q.policy_id = p.policy_id AND q.uscc = p.uscc);
