-- Reads: ledger.batches, ledger.claims, release_payments, release_rows, run_params
-- Makes: ledger.batches, ledger.claims, ledger.payments
-- the ledger entries of the region's approved batches,
-- their claims paid (or withdrawn with the reason), and the batches 'releasing' until their files are written.

INSERT INTO ledger.payments
SELECT payment_id, payment_id, 'payment', policy_id, region_code, uscc, batch_id, seq, amount_fen, paid_before_fen,
       paid_after_fen, amount_due_fen, unit_name, bank_account, bank_code, account_name, channel, (SELECT today FROM run_params)
FROM release_payments;

UPDATE ledger.claims SET state = 'paid', updated_on = (SELECT today FROM run_params)
WHERE claim_id IN (SELECT claim_id FROM release_rows WHERE payable);

UPDATE ledger.claims SET state = 'withdrawn', updated_on = (SELECT today FROM run_params),
       state_reason = 'at release: ' || (SELECT withdraw_reason FROM release_rows r WHERE r.claim_id = claims.claim_id)
WHERE claim_id IN (SELECT claim_id FROM release_rows WHERE NOT payable);

UPDATE ledger.batches SET state = 'releasing', released_on = (SELECT today FROM run_params),
       payments = (SELECT count(*) FROM release_payments p WHERE p.batch_id = batches.batch_id),
       total_fen = (SELECT coalesce(sum(amount_fen), 0) FROM release_payments p WHERE p.batch_id = batches.batch_id)
WHERE state = 'approved' AND (policy_id, region_code) = (SELECT (policy_id, region_code) FROM run_params);
