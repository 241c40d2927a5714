-- Reads: ledger.bank_results, ledger.payments, policy, stg_bank_returns
-- Makes: bank_reconciliation, new_reversals
-- bank_reconciliation (every row of bank_returns/*.csv, matched or with its problem) and new_reversals.
-- A mismatch is reported, never guessed: only a row whose payment_id, batch, unit and amount all agree is acted on.

CREATE OR REPLACE TEMP TABLE bank_reconciliation AS
SELECT r._file AS source, r.line, r.batch_id, r.payment_id, r.uscc, r.amount AS amount_fen, r.status, r.reason, r.value_date,
       p.policy_id,
       CASE WHEN p.payment_id IS NULL THEN 'no payment with this payment_id in the ledger'
            WHEN p.batch_id <> r.batch_id THEN 'batch_id differs from the ledger''s ' || p.batch_id
            WHEN p.uscc <> r.uscc THEN 'uscc differs from the ledger''s ' || p.uscc
            WHEN p.amount_fen <> r.amount THEN 'amount differs from the ledger''s ' || yuan(p.amount_fen)
       END AS problem
FROM stg_bank_returns r
LEFT JOIN ledger.payments p ON p.payment_id = r.payment_id AND p.kind = 'payment';

-- one reversal per returned payment not reversed yet, chained after the unit's last entry
CREATE OR REPLACE TEMP TABLE new_reversals AS
WITH returned AS (
    SELECT p.* FROM ledger.payments p
    WHERE p.kind = 'payment' AND p.policy_id = (SELECT policy_id FROM policy)
      AND p.payment_id IN (SELECT payment_id FROM bank_reconciliation WHERE problem IS NULL AND status = 'returned'
                           UNION SELECT payment_id FROM ledger.bank_results WHERE status = 'returned')
      AND NOT EXISTS (SELECT 1 FROM ledger.payments x WHERE x.payment_id = p.payment_id AND x.kind = 'reversal')
), last AS (
    SELECT policy_id, uscc, max(seq) AS last_seq, arg_max(paid_after_fen, seq) AS last_after
    FROM ledger.payments GROUP BY ALL
)
SELECT r.*, l.last_seq + row_number() OVER w AS new_seq,
       l.last_after - coalesce(sum(r.amount_fen) OVER (w ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS new_before
FROM returned r JOIN last l USING (policy_id, uscc)
WINDOW w AS (PARTITION BY r.policy_id, r.uscc ORDER BY r.seq);
