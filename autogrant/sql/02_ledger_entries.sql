-- Reads: ledger.applications, ledger.approvals, ledger.bank_results, ledger.batches, ledger.claims, ledger.journal,
--        ledger.objections, ledger.payments, ledger.signal_clearances
-- Makes: journal_breaks, ledger_entries
-- ledger_entries(only_new), a temporary table macro (defined by the code on each
-- connection, never stored in the ledger file an insider could edit): every ledger entry as (k, kind, ref, tbl,
-- content), content the canonical JSON array of what the entry fixes for good. ledger.journal seals each entry
-- once, chained by SHA-256 (transforms/chain.py); a row edited, deleted or inserted afterwards no longer agrees
-- with its sealed entry. Fields that change legitimately later (a claim's state, a batch's state) are not content:
-- each step of a claim or batch that must not be undone is an entry of its own (withdrawal, release, file).
-- only_new: just the entries not sealed yet (what the next seal appends), in the order they are sealed. Each branch
-- drops its sealed (kind, ref) before it builds its JSON content (a hash anti-join), so a seal costs what is new,
-- not the whole ledger's content; `sealed` is empty when only_new is false.

CREATE OR REPLACE TEMP MACRO ledger_entries(only_new) AS TABLE
WITH sealed AS (SELECT kind, ref FROM ledger.journal WHERE only_new)
SELECT * FROM (
    SELECT 1 AS k, 'claim' AS kind, claim_id AS ref, 'claims' AS tbl,
           json_array(claim_id, policy_id, region_code, uscc, unit_name, amount_fen, amount_due_fen, bank_account, bank_code,
                      account_name, notice_id, notice_start, notice_end, created_on)::VARCHAR AS content
    FROM ledger.claims WHERE NOT EXISTS (SELECT 1 FROM sealed s WHERE s.kind = 'claim' AND s.ref = claim_id)
    UNION ALL
    SELECT 2, 'withdrawal', claim_id, 'claims', json_array(claim_id, batch_id, state_reason, updated_on)::VARCHAR
    FROM ledger.claims WHERE state = 'withdrawn' AND NOT EXISTS (SELECT 1 FROM sealed s WHERE s.kind = 'withdrawal' AND s.ref = claim_id)
    UNION ALL
    SELECT 3, 'batch', batch_id, 'batches',
           json_array(batch_id, policy_id, region_code, prepared_by, prepared_on,
                      (SELECT list(c.claim_id ORDER BY c.claim_id) FROM ledger.claims c WHERE c.batch_id = b.batch_id))::VARCHAR
    FROM ledger.batches b WHERE NOT EXISTS (SELECT 1 FROM sealed s WHERE s.kind = 'batch' AND s.ref = b.batch_id)
    UNION ALL
    SELECT 4, 'objection', objection_id, 'objections', json_array(objection_id, policy_id, uscc, reason, lodged_by, lodged_on)::VARCHAR
    FROM ledger.objections WHERE NOT EXISTS (SELECT 1 FROM sealed s WHERE s.kind = 'objection' AND s.ref = objection_id)
    UNION ALL
    SELECT 5, 'resolution', objection_id, 'objections', json_array(objection_id, outcome, resolved_by, resolved_on, resolution_note)::VARCHAR
    FROM ledger.objections WHERE outcome IS NOT NULL AND NOT EXISTS (SELECT 1 FROM sealed s WHERE s.kind = 'resolution' AND s.ref = objection_id)
    UNION ALL
    SELECT 6, 'approval', batch_id, 'approvals',
           json_array(batch_id, approver_id, approved_at, message_sha256, signature, key_sha256, demo)::VARCHAR
    FROM ledger.approvals WHERE NOT EXISTS (SELECT 1 FROM sealed s WHERE s.kind = 'approval' AND s.ref = batch_id)
    UNION ALL
    SELECT 7, 'bank_result', payment_id || '/' || status, 'bank_results',
           json_array(payment_id, status, batch_id, uscc, amount_fen, reason, value_date, source, recorded_on)::VARCHAR
    FROM ledger.bank_results WHERE NOT EXISTS (SELECT 1 FROM sealed s WHERE s.kind = 'bank_result' AND s.ref = payment_id || '/' || status)
    UNION ALL
    SELECT 8, kind, entry_id, 'payments',
           json_array(entry_id, payment_id, kind, policy_id, region_code, uscc, batch_id, seq, amount_fen, paid_before_fen,
                      paid_after_fen, amount_due_fen, unit_name, bank_account, bank_code, account_name, channel, entered_on)::VARCHAR
    FROM ledger.payments p WHERE NOT EXISTS (SELECT 1 FROM sealed s WHERE s.kind = p.kind AND s.ref = p.entry_id)
    UNION ALL
    SELECT 9, 'release', batch_id, 'batches', json_array(batch_id, approved_by, approved_at, released_on, payments, total_fen)::VARCHAR
    FROM ledger.batches WHERE state IN ('releasing', 'released') AND NOT EXISTS (SELECT 1 FROM sealed s WHERE s.kind = 'release' AND s.ref = batch_id)
    UNION ALL
    SELECT 10, 'file', batch_id, 'batches', json_array(batch_id, payment_file, file_sha256)::VARCHAR
    FROM ledger.batches WHERE state = 'released' AND NOT EXISTS (SELECT 1 FROM sealed s WHERE s.kind = 'file' AND s.ref = batch_id)
    UNION ALL
    -- a unit above the auto-grant cap applied (autogrant apply): from then on it is decided like any other
    SELECT 11, 'application', application_id, 'applications',
           json_array(application_id, policy_id, uscc, region_code, lodged_by, lodged_on, late)::VARCHAR
    FROM ledger.applications WHERE NOT EXISTS (SELECT 1 FROM sealed s WHERE s.kind = 'application' AND s.ref = application_id)
    UNION ALL
    -- a clerk cleared a fraud signal of a unit for one account (autogrant clear)
    SELECT 12, 'clearance', clearance_id, 'signal_clearances',
           json_array(clearance_id, policy_id, uscc, region_code, code, bank_account, bank_code, cleared_by, cleared_on, note)::VARCHAR
    FROM ledger.signal_clearances WHERE NOT EXISTS (SELECT 1 FROM sealed s WHERE s.kind = 'clearance' AND s.ref = clearance_id)
) e
;

-- The journal as sealed, each entry against the hash of the entry before it and its own content: the first entry
-- whose hash does not follow is where the chain was broken (an entry edited, deleted or put in).
CREATE OR REPLACE TEMP MACRO journal_breaks() AS TABLE
SELECT seq, kind, ref,
       CASE WHEN seq <> coalesce(before_seq, 0) + 1 THEN 'entry ' || (coalesce(before_seq, 0) + 1) || ' is missing'
            WHEN prev_sha256 <> coalesce(before_sha, repeat('0', 64)) THEN 'it does not follow the entry before it'
            ELSE 'its hash does not match its content' END AS problem
FROM (SELECT *, lag(entry_sha256) OVER (ORDER BY seq) AS before_sha, lag(seq) OVER (ORDER BY seq) AS before_seq
      FROM ledger.journal)
WHERE seq <> coalesce(before_seq, 0) + 1 OR prev_sha256 <> coalesce(before_sha, repeat('0', 64))
   OR entry_sha256 <> sha256(prev_sha256 || chr(10) || seq || chr(10) || kind || chr(10) || ref || chr(10) || content);
