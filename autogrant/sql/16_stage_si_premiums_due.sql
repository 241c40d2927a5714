-- Reads: chk_si_premiums_due
-- Makes: chk_si_premiums_due
-- chk_si_premiums_due with the row rules added. One row per unit and fee month: a second row for the same (uscc,
-- fee_month) is quarantined after its first line (which of the two is right cannot be known; the unit is INVALID_INPUT).

UPDATE chk_si_premiums_due SET errors = list_append(errors, {
        'column': 'fee_month', 'value': strftime(chk_si_premiums_due.fee_month, '%Y-%m'),
        'reason': 'the same unit and fee month is already on line ' || d.first_line})
FROM (SELECT uscc, fee_month, min(line) AS first_line
      FROM chk_si_premiums_due WHERE uscc IS NOT NULL AND fee_month IS NOT NULL
      GROUP BY ALL HAVING count(*) > 1) d
WHERE chk_si_premiums_due.uscc = d.uscc AND chk_si_premiums_due.fee_month = d.fee_month
  AND chk_si_premiums_due.line > d.first_line;
