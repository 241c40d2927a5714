-- Reads: bank_reconciliation, ledger.claims, new_reversals, policy, run_params
-- Makes: ledger.bank_results, ledger.claims, ledger.payments
-- ledger.bank_results (each matched row once),
-- the reversals in ledger.payments, and the returned claims (the unit goes back to HOLD PAYMENT_RETURNED).

INSERT INTO ledger.bank_results
SELECT DISTINCT ON (payment_id, status) payment_id, status, batch_id, uscc, amount_fen, reason, value_date, source,
       (SELECT today FROM run_params)
FROM bank_reconciliation
WHERE problem IS NULL AND policy_id = (SELECT policy_id FROM policy)
ON CONFLICT DO NOTHING;

INSERT INTO ledger.payments
SELECT 'R' || substr(payment_id, 2), payment_id, 'reversal', policy_id, region_code, uscc, batch_id, new_seq, -amount_fen,
       new_before, new_before - amount_fen, amount_due_fen, unit_name, bank_account, bank_code, account_name, channel,
       (SELECT today FROM run_params)
FROM new_reversals;

UPDATE ledger.claims SET state = 'returned', state_reason = 'returned by the bank', updated_on = (SELECT today FROM run_params)
WHERE state = 'paid' AND EXISTS (SELECT 1 FROM new_reversals n WHERE n.batch_id = claims.batch_id AND n.uscc = claims.uscc);
