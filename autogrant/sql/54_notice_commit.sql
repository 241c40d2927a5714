-- Reads: claims_withdrawn, ledger.claims, new_claims, run_params, to_batch
-- Makes: ledger.batches, ledger.claims
-- the claims withdrawn, the new claims in notice,
-- and one batch awaiting approval (prepared by the run's operator) of the claims whose notice has ended.

UPDATE ledger.claims SET state = 'withdrawn', updated_on = (SELECT today FROM run_params),
       state_reason = (SELECT w.reason FROM claims_withdrawn w WHERE w.claim_id = claims.claim_id)
WHERE claim_id IN (SELECT claim_id FROM claims_withdrawn);

INSERT INTO ledger.claims
SELECT claim_id, policy_id, region_code, uscc, unit_name, amount_fen, amount_due_fen, bank_account, bank_code, account_name,
       notice_id, notice_start, notice_end, NULL, 'in_notice', NULL, notice_start, notice_start
FROM new_claims;

INSERT INTO ledger.batches
SELECT DISTINCT t.batch_id, r.policy_id, r.region_code, r.operator, r.today, NULL, NULL, 'awaiting_approval', NULL, NULL,
       NULL, (SELECT count(*) FROM to_batch), (SELECT sum(amount_fen) FROM to_batch)
FROM to_batch t CROSS JOIN run_params r;

UPDATE ledger.claims SET state = 'batched', batch_id = (SELECT t.batch_id FROM to_batch t WHERE t.claim_id = claims.claim_id),
       updated_on = (SELECT today FROM run_params)
WHERE claim_id IN (SELECT claim_id FROM to_batch);
