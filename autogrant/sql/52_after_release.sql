-- Reads: release_payments, unit_facts
-- Makes: unit_facts
-- unit_facts.already_paid raised by what each unit was paid tonight, so that the decisions taken again
-- after a release (40, 41) agree with the ledger at the end of the night: published decisions, notices and
-- report never show as payable what the ledger has just paid.

UPDATE unit_facts SET already_paid = unit_facts.already_paid + r.paid_tonight_fen
FROM (SELECT uscc, CAST(sum(amount_fen) AS BIGINT) AS paid_tonight_fen FROM release_payments GROUP BY uscc) r
WHERE unit_facts.uscc = r.uscc;
