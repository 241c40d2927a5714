-- Reads: chk_payments
-- Makes: chk_payments
-- chk_payments with the row rules added.
-- An amount paid needs the day it was paid: it decides the assessed year and the arrears at the cut-off.

UPDATE chk_payments SET errors = list_append(errors, {
        'column': 'paid_date', 'value': NULL,
        'reason': 'is empty but ' || yuan(coalesce(unit_paid, 0) + coalesce(staff_paid, 0)) || ' yuan was paid'})
WHERE paid_date IS NULL AND coalesce(unit_paid, 0) + coalesce(staff_paid, 0) > 0;
