-- Reads: nothing
-- Makes: ledger.applications, ledger.approvals, ledger.bank_results, ledger.batches, ledger.chain_breaks,
--        ledger.claims, ledger.journal, ledger.objections, ledger.payments, ledger.signal_clearances
-- the ledger's tables in the attached database `ledger` (once; kept across runs).
-- Money in integer fen. The ledger refuses, by constraint, a payment that would take a unit past its amount_due.

CREATE TABLE IF NOT EXISTS ledger.claims (            -- a unit's payable amount on its way: notice, batch, payment
    claim_id VARCHAR PRIMARY KEY, policy_id VARCHAR NOT NULL, region_code VARCHAR NOT NULL, uscc VARCHAR NOT NULL,
    unit_name VARCHAR, amount_fen BIGINT NOT NULL CHECK (amount_fen > 0), amount_due_fen BIGINT NOT NULL,
    bank_account VARCHAR, bank_code VARCHAR, account_name VARCHAR,
    notice_id VARCHAR NOT NULL, notice_start DATE NOT NULL, notice_end DATE NOT NULL,
    batch_id VARCHAR,
    state VARCHAR NOT NULL CHECK (state IN ('in_notice', 'batched', 'paid', 'returned', 'withdrawn')),
    state_reason VARCHAR, created_on DATE NOT NULL, updated_on DATE NOT NULL
);

CREATE TABLE IF NOT EXISTS ledger.batches (
    batch_id VARCHAR PRIMARY KEY, policy_id VARCHAR NOT NULL, region_code VARCHAR NOT NULL,
    prepared_by VARCHAR NOT NULL, prepared_on DATE NOT NULL, approved_by VARCHAR, approved_at TIMESTAMP,
    state VARCHAR NOT NULL CHECK (state IN ('awaiting_approval', 'approved', 'releasing', 'released')),
    released_on DATE, payment_file VARCHAR, file_sha256 VARCHAR, payments INTEGER, total_fen BIGINT,
    CHECK (approved_by IS NULL OR approved_by <> prepared_by)   -- four eyes: the preparer never approves
);

CREATE TABLE IF NOT EXISTS ledger.approvals (         -- a batch's approval, signed by its approver (transforms/approval.py)
    batch_id VARCHAR PRIMARY KEY, approver_id VARCHAR NOT NULL, approved_at TIMESTAMP NOT NULL,
    message_sha256 VARCHAR NOT NULL, signature VARCHAR, key_sha256 VARCHAR, demo BOOLEAN NOT NULL
);

CREATE TABLE IF NOT EXISTS ledger.payments (          -- the money: one row per payment released, one per reversal
    entry_id VARCHAR PRIMARY KEY, payment_id VARCHAR NOT NULL,
    kind VARCHAR NOT NULL CHECK (kind IN ('payment', 'reversal')),
    policy_id VARCHAR NOT NULL, region_code VARCHAR NOT NULL, uscc VARCHAR NOT NULL, batch_id VARCHAR NOT NULL,
    seq INTEGER NOT NULL, amount_fen BIGINT NOT NULL,
    paid_before_fen BIGINT NOT NULL, paid_after_fen BIGINT NOT NULL, amount_due_fen BIGINT NOT NULL,
    unit_name VARCHAR, bank_account VARCHAR, bank_code VARCHAR, account_name VARCHAR, channel VARCHAR,
    entered_on DATE NOT NULL,
    UNIQUE (policy_id, uscc, seq),
    CHECK (paid_after_fen = paid_before_fen + amount_fen),
    CHECK (paid_after_fen <= amount_due_fen),             -- never more than the policy grants
    CHECK (paid_after_fen >= 0),
    CHECK ((kind = 'payment') = (amount_fen > 0))
);

CREATE TABLE IF NOT EXISTS ledger.objections (
    objection_id VARCHAR PRIMARY KEY, policy_id VARCHAR NOT NULL, uscc VARCHAR NOT NULL, reason VARCHAR NOT NULL,
    lodged_by VARCHAR NOT NULL, lodged_on DATE NOT NULL,
    outcome VARCHAR CHECK (outcome IS NULL OR outcome IN ('cleared', 'upheld')),
    resolved_by VARCHAR, resolved_on DATE, resolution_note VARCHAR
);

-- A unit above the auto-grant cap applies (辽人社发〔2021〕7号 一(一) 可在…前申请): recorded by `autogrant apply`.
CREATE TABLE IF NOT EXISTS ledger.applications (
    application_id VARCHAR PRIMARY KEY, policy_id VARCHAR NOT NULL, uscc VARCHAR NOT NULL, region_code VARCHAR,
    lodged_by VARCHAR NOT NULL, lodged_on DATE NOT NULL, late BOOLEAN NOT NULL, UNIQUE (policy_id, uscc)
);

-- A clerk checked a fraud signal with the unit and cleared it for this account (autogrant clear; reference/account_signals.yaml).
CREATE TABLE IF NOT EXISTS ledger.signal_clearances (
    clearance_id VARCHAR PRIMARY KEY, policy_id VARCHAR NOT NULL, uscc VARCHAR NOT NULL, region_code VARCHAR,
    code VARCHAR NOT NULL CHECK (code IN ('ACCOUNT_SHARED', 'ACCOUNT_CHANGED', 'ACCOUNT_NAME_OTHER_UNIT')),
    bank_account VARCHAR, bank_code VARCHAR, cleared_by VARCHAR NOT NULL, cleared_on DATE NOT NULL, note VARCHAR NOT NULL
);

CREATE TABLE IF NOT EXISTS ledger.bank_results (
    payment_id VARCHAR NOT NULL, status VARCHAR NOT NULL, batch_id VARCHAR, uscc VARCHAR, amount_fen BIGINT,
    reason VARCHAR, value_date DATE, source VARCHAR, recorded_on DATE,
    PRIMARY KEY (payment_id, status)
);

-- Every entry above, sealed once in order: SHA-256 over the previous entry's hash and the entry's canonical content
-- (sql/02_ledger_entries.sql, transforms/chain.py). Entry 1 is the genesis, over the rows a ledger had before.
CREATE TABLE IF NOT EXISTS ledger.journal (
    seq BIGINT PRIMARY KEY, kind VARCHAR NOT NULL, ref VARCHAR NOT NULL, content VARCHAR NOT NULL,
    prev_sha256 VARCHAR NOT NULL, entry_sha256 VARCHAR NOT NULL,
    UNIQUE (kind, ref)
);

-- Each unit's payments form a chain: every entry starts where the one before it ended.
CREATE OR REPLACE VIEW ledger.chain_breaks AS
SELECT * FROM (
    SELECT policy_id, uscc, seq, paid_before_fen,
           lag(paid_after_fen) OVER (PARTITION BY policy_id, uscc ORDER BY seq) AS previous_after,
           lag(seq) OVER (PARTITION BY policy_id, uscc ORDER BY seq) AS previous_seq
    FROM ledger.payments)
WHERE (previous_seq IS NOT NULL AND (paid_before_fen <> previous_after OR seq <> previous_seq + 1))
   OR (previous_seq IS NULL AND seq <> 1);
