"""Ledger states written directly, for the tests whose subject is a later step (issue 14 item 6).

A test of a top-up, a bank return or a refusal needs a unit already paid; replaying the nights that pay it takes
three runs of the whole pipeline. LedgerSeed writes the same rows straight into a ledger made by the product's
own schema (ledger.attach), each step one transaction sealed into the hash chain by the product's chain.seal, so
the next night opens it as it would open its own work (tests/test_ledger_seed.py compares the two, row by row):

    seed = LedgerSeed(out)                      OUT/ledger.duckdb; the chain's genesis, as a first night seals it
    seed.notice(day, units, amounts)            claims in public notice from ``day`` (54_notice_commit.sql)
    seed.batch(day)                             notices ended before ``day`` -> a batch per region awaiting approval
    seed.approve(batch_id)                      the product's own signed approval (ledger.approve)
    seed.release(day)                           approved batches paid (51_release_commit.sql); then the product
                                                writes their payment files (payment_files.write_pending_files)

Units are the DropBuilder's unit rows (uscc, unit_name, region_code and the account): the claims carry what the
night's decision would carry, so that a later night still finds each unit payable as noticed.
"""

import contextlib
import datetime as dt
from pathlib import Path

import duckdb

from autogrant.transforms import chain, home, ledger, payment_files, reference
from autogrant.transforms.policy import load
from autogrant.transforms.run_state import DEFAULT_OPERATOR
from autogrant.transforms.workdays import add_working_days


class LedgerSeed:
    def __init__(self, out: Path, policy_id: str = "LN-2021", operator: str = DEFAULT_OPERATOR):
        self.out, self.policy_id, self.operator = Path(out), policy_id, operator
        self.path = home.ledger_file(self.out)
        self.notice_days = load(policy_id).rules.notice_days.value
        with self.step():
            pass  # an empty ledger's first seal: the genesis entry, nothing sealed as found

    @contextlib.contextmanager
    def step(self):
        """One connection with the ledger attached; the writes are one transaction sealed into the chain."""
        con = duckdb.connect(":memory:")
        try:
            ledger.attach(con, self.path)
            reference.define_macros(con)  # payment_channel(fen): HVPS above the limit, BEPS up to it
            con.execute("BEGIN TRANSACTION")
            yield con
            chain.seal(con)
            con.execute("COMMIT")
        finally:
            con.close()

    def notice(self, day: dt.date, units: list[dict], amounts: dict[str, int] | int = 1440_00,
               due: dict[str, int] | None = None) -> list[str]:  # fmt: skip
        """Each unit's claim in public notice from ``day`` for the policy's notice days; the claim ids.
        ``amounts``: fen per unit (or one for all); ``due``: the amount due where it is not the amount (a top-up)."""
        notice_end = add_working_days(day, self.notice_days)
        ids = []
        with self.step() as con:
            for u in units:
                code, region = u["uscc"], u["region_code"]
                fen = amounts if isinstance(amounts, int) else amounts[code]
                n = con.execute("SELECT count(*) FROM ledger.claims WHERE policy_id = ? AND uscc = ?",
                                [self.policy_id, code]).fetchall()[0][0]  # fmt: skip
                ids.append(f"{self.policy_id}-{code}-{n + 1}")
                con.execute(
                    """INSERT INTO ledger.claims (claim_id, policy_id, region_code, uscc, unit_name, amount_fen,
                       amount_due_fen, bank_account, bank_code, account_name, notice_id, notice_start, notice_end,
                       batch_id, state, state_reason, created_on, updated_on)
                       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, 'in_notice', NULL, ?, ?)""",
                    [ids[-1], self.policy_id, region, code, u["unit_name"], fen, (due or {}).get(code, fen),
                     u["bank_account"], u["bank_code"], u["account_name"], f"{self.policy_id}-{region}-{day:%Y%m%d}",
                     day, notice_end, day, day],
                )  # fmt: skip
        return ids

    def batch(self, day: dt.date, only: list[str] | None = None) -> list[str]:
        """The claims in notice whose notice ended before ``day`` (of the units ``only``, else all) into one batch
        per region, prepared by the operator and awaiting approval; the batch ids."""
        with self.step() as con:
            con.execute(
                """CREATE TEMP TABLE seed_batch AS
                   SELECT c.claim_id, c.region_code, c.amount_fen,
                          c.policy_id || '-' || c.region_code || '-' || strftime(?::DATE, '%Y%m%d') || '-'
                            || ((SELECT count(*) FROM ledger.batches b WHERE b.policy_id = c.policy_id
                                 AND b.region_code = c.region_code AND b.prepared_on = ?::DATE) + 1) AS batch_id
                   FROM ledger.claims c
                   WHERE c.policy_id = ? AND c.state = 'in_notice' AND c.notice_end < ?::DATE
                     AND (?::VARCHAR[] IS NULL OR list_contains(?::VARCHAR[], c.uscc))""",
                [day, day, self.policy_id, day, only, only],
            )
            con.execute(
                """INSERT INTO ledger.batches (batch_id, policy_id, region_code, prepared_by, prepared_on, approved_by,
                   approved_at, state, released_on, payment_file, file_sha256, payments, total_fen)
                   SELECT batch_id, ?, region_code, ?, ?, NULL, NULL, 'awaiting_approval', NULL, NULL, NULL,
                          count(*), sum(amount_fen)
                   FROM seed_batch GROUP BY batch_id, region_code""",
                [self.policy_id, self.operator, day],
            )
            con.execute(
                """UPDATE ledger.claims SET state = 'batched', updated_on = ?,
                   batch_id = (SELECT s.batch_id FROM seed_batch s WHERE s.claim_id = claims.claim_id)
                   WHERE claim_id IN (SELECT claim_id FROM seed_batch)""",
                [day],
            )
            return [b for (b,) in con.execute("SELECT DISTINCT batch_id FROM seed_batch ORDER BY 1").fetchall()]

    def approve(self, batch_id: str, by: str = "demo-approver", now: dt.datetime | None = None) -> None:
        ledger.approve(self.path, batch_id, by, now=now)

    def release(self, day: dt.date, files: bool = True) -> list[str]:
        """The approved batches' claims paid on ``day``: a payment each, chained after the unit's last entry (what
        the ledger paid it so far), the batches 'releasing'; then, with ``files``, the product writes their payment
        files and marks them released, as a release night does. The batch ids."""
        with self.step() as con:
            con.execute(
                """CREATE TEMP TABLE seed_paid AS
                   SELECT c.*, (SELECT count(*) FROM ledger.payments p WHERE p.policy_id = c.policy_id AND p.uscc = c.uscc)
                                 + 1 AS seq,
                          (SELECT coalesce(sum(p.amount_fen), 0) FROM ledger.payments p
                           WHERE p.policy_id = c.policy_id AND p.uscc = c.uscc) AS paid_before_fen
                   FROM ledger.claims c JOIN ledger.batches b USING (batch_id)
                   WHERE b.state = 'approved' AND c.state = 'batched' AND b.policy_id = ?""",
                [self.policy_id],
            )
            con.execute(
                """INSERT INTO ledger.payments (entry_id, payment_id, kind, policy_id, region_code, uscc, batch_id, seq,
                   amount_fen, paid_before_fen, paid_after_fen, amount_due_fen, unit_name, bank_account, bank_code,
                   account_name, channel, entered_on)
                   SELECT pid, pid, 'payment', policy_id, region_code, uscc, batch_id, seq, amount_fen, paid_before_fen,
                          paid_before_fen + amount_fen, amount_due_fen, unit_name, bank_account, bank_code, account_name,
                          payment_channel(amount_fen), ?
                   FROM (SELECT *, 'P' || upper(substr(sha256(policy_id || '|' || uscc || '|' || seq), 1, 19)) AS pid
                         FROM seed_paid)""",
                [day],
            )
            con.execute("UPDATE ledger.claims SET state = 'paid', updated_on = ? WHERE claim_id IN "
                        "(SELECT claim_id FROM seed_paid)", [day])  # fmt: skip
            con.execute(
                """UPDATE ledger.batches SET state = 'releasing', released_on = ?,
                   payments = (SELECT count(*) FROM seed_paid s WHERE s.batch_id = batches.batch_id),
                   total_fen = (SELECT coalesce(sum(amount_fen), 0) FROM seed_paid s WHERE s.batch_id = batches.batch_id)
                   WHERE state = 'approved' AND policy_id = ?""",
                [day, self.policy_id],
            )
            batches = [b for (b,) in con.execute("SELECT DISTINCT batch_id FROM seed_paid ORDER BY 1").fetchall()]
        if files:
            con = duckdb.connect(":memory:")
            try:
                ledger.attach(con, self.path)
                payment_files.write_pending_files(con, self.out, self.policy_id)
            finally:
                con.close()
        return batches

    def paid(self, units: list[dict], notice_on: dt.date, batch_on: dt.date, release_on: dt.date,
             amounts: dict[str, int] | int = 1440_00) -> str:  # fmt: skip
        """The units noticed, batched, approved (demo-approver) and released with their files: the ledger a unit
        paid in full leaves; the batch id."""
        self.notice(notice_on, units, amounts)
        (batch_id,) = self.batch(batch_on)
        self.approve(batch_id)
        self.release(release_on)
        return batch_id
