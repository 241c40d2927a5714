-- Reads: decision_details, ledger.batches, ledger.claims, ledger.payments, run_params
-- Makes: release_payments, release_rows
-- release_rows (what an approved batch of the region would pay, checked against tonight's decision),
-- then (by transforms/ledger.py, after the gate passes) the ledger payments, the claims paid or withdrawn.
-- A claim is paid only if tonight's decision still pays the unit exactly that amount to the same account.

CREATE OR REPLACE TEMP TABLE release_rows AS
SELECT c.claim_id, c.policy_id, c.region_code, c.uscc, c.unit_name, c.batch_id, c.amount_fen,
       c.bank_account, c.bank_code, c.account_name,
       d.decision, d.reasons, d.amount AS decision_amount_fen, d.already_paid AS paid_before_fen, d.amount_due AS amount_due_fen,
       d.headcount_ref, d.rate, d.premium_base,
       coalesce(d.decision = 'PAY' AND d.amount = c.amount_fen
                AND d.bank_account IS NOT DISTINCT FROM c.bank_account AND d.bank_code IS NOT DISTINCT FROM c.bank_code, false) AS payable,
       CASE WHEN d.uscc IS NULL THEN 'not decided tonight'
            WHEN d.decision <> 'PAY' THEN 'now ' || d.decision || ' ' || d.reasons
            WHEN d.amount <> c.amount_fen THEN 'amount now ' || yuan(d.amount)
            ELSE 'account changed' END AS withdraw_reason,
       -- deterministic: the unit's n-th ledger entry under the policy
       (SELECT count(*) FROM ledger.payments p WHERE p.policy_id = c.policy_id AND p.uscc = c.uscc) + 1 AS seq
FROM ledger.claims c
JOIN ledger.batches b USING (batch_id)
JOIN run_params r ON b.policy_id = r.policy_id AND b.region_code = r.region_code
LEFT JOIN decision_details d ON d.uscc = c.uscc
WHERE b.state = 'approved' AND c.state = 'batched';

CREATE OR REPLACE TEMP TABLE release_payments AS
SELECT 'P' || upper(substr(sha256(policy_id || '|' || uscc || '|' || seq), 1, 19)) AS payment_id,
       policy_id, region_code, uscc, batch_id, CAST(seq AS INTEGER) AS seq, amount_fen, paid_before_fen,
       paid_before_fen + amount_fen AS paid_after_fen, amount_due_fen, unit_name, bank_account, bank_code, account_name,
       payment_channel(amount_fen) AS channel,  -- HVPS above the limit, BEPS up to it (reference/payment_channels.yaml)
       headcount_ref, rate, premium_base, decision_amount_fen
FROM release_rows WHERE payable;
