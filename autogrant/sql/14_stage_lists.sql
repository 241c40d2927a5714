-- Reads: chk_dishonest
-- Makes: chk_dishonest
-- chk_dishonest with the row rules added.
-- A listing cannot be removed before it was made.

UPDATE chk_dishonest SET errors = list_append(errors, {
        'column': 'removed_date', 'value': CAST(removed_date AS VARCHAR),
        'reason': 'is before listed_date ' || CAST(listed_date AS VARCHAR)})
WHERE removed_date < listed_date;
