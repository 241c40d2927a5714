-- Reads: decision_details, ledger.batches, ledger.claims, run_params
-- Makes: claims_withdrawn, new_claims, payable, to_batch
-- payable, claims_withdrawn, new_claims (units newly payable, into public notice 公示 for notice_days
-- working days: seeds 000/001, Dalian practice) and to_batch (claims whose notice has ended, for approval).

CREATE OR REPLACE TEMP TABLE payable AS   -- only the columns a claim takes (decision_details is wide)
SELECT d.policy_id, d.region_code, d.uscc, d.unit_name, d.amount, d.amount_due, d.bank_account, d.bank_code, d.account_name
FROM decision_details d JOIN run_params r ON d.region_code = r.region_code
WHERE d.decision = 'PAY' AND d.amount > 0;

-- in notice, but no longer payable as noticed (an objection alone holds the unit in its notice until resolved)
CREATE OR REPLACE TEMP TABLE claims_withdrawn AS
SELECT c.claim_id, 'during notice: ' || coalesce(d.decision || ' ' || d.reasons, 'not decided') AS reason
FROM ledger.claims c JOIN run_params r ON c.policy_id = r.policy_id AND c.region_code = r.region_code
LEFT JOIN decision_details d ON d.uscc = c.uscc  -- one row a unit
WHERE c.state = 'in_notice'
  AND NOT EXISTS (SELECT 1 FROM payable p WHERE p.uscc = c.uscc AND p.amount = c.amount_fen
                  AND p.bank_account IS NOT DISTINCT FROM c.bank_account AND p.bank_code IS NOT DISTINCT FROM c.bank_code)
  AND NOT coalesce(d.codes = ['UNDER_OBJECTION'], false);

CREATE OR REPLACE TEMP TABLE new_claims AS
SELECT p.policy_id || '-' || p.uscc || '-' || ((SELECT count(*) FROM ledger.claims c WHERE c.policy_id = p.policy_id AND c.uscc = p.uscc) + 1) AS claim_id,
       p.policy_id, p.region_code, p.uscc, p.unit_name, p.amount AS amount_fen, p.amount_due AS amount_due_fen,
       p.bank_account, p.bank_code, p.account_name,
       r.policy_id || '-' || r.region_code || '-' || strftime(r.today, '%Y%m%d') AS notice_id,
       r.today AS notice_start,
       -- a payment the bank returned was noticed already: repaying it to a corrected account needs no new notice
       CASE WHEN EXISTS (SELECT 1 FROM ledger.claims c WHERE c.policy_id = p.policy_id AND c.uscc = p.uscc
                         AND c.state = 'returned' AND c.amount_fen = p.amount) THEN r.today - 1 ELSE r.notice_end END AS notice_end
FROM payable p CROSS JOIN run_params r
WHERE NOT EXISTS (SELECT 1 FROM ledger.claims c WHERE c.policy_id = p.policy_id AND c.uscc = p.uscc
                  AND c.state = 'in_notice' AND c.claim_id NOT IN (SELECT claim_id FROM claims_withdrawn))
  AND NOT EXISTS (SELECT 1 FROM ledger.claims c WHERE c.policy_id = p.policy_id AND c.uscc = p.uscc AND c.state = 'batched');

-- notice ended (today after its last day, or at once where notice_days is 0) and the unit payable tonight
CREATE OR REPLACE TEMP TABLE to_batch AS
WITH in_notice AS (
    SELECT c.claim_id, c.uscc, c.amount_fen, c.notice_end FROM ledger.claims c JOIN run_params r USING (policy_id, region_code)
    WHERE c.state = 'in_notice' AND c.claim_id NOT IN (SELECT claim_id FROM claims_withdrawn)
    UNION ALL SELECT claim_id, uscc, amount_fen, notice_end FROM new_claims
)
SELECT n.claim_id,
       r.policy_id || '-' || r.region_code || '-' || strftime(r.today, '%Y%m%d') || '-'
         || ((SELECT count(*) FROM ledger.batches b WHERE b.policy_id = r.policy_id AND b.region_code = r.region_code
              AND b.prepared_on = r.today) + 1) AS batch_id,
       n.amount_fen
FROM in_notice n CROSS JOIN run_params r
JOIN payable p ON p.uscc = n.uscc AND p.amount = n.amount_fen
WHERE n.notice_end < r.today OR r.notice_days = 0;
