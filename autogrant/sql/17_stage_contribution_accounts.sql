-- Reads: chk_contribution_accounts
-- Makes: chk_contribution_accounts
-- chk_contribution_accounts with the row rules added. A unit is paid to one account: a USCC on two
-- lines is ambiguous, so every such line is quarantined (the unit then has no fallback account).

UPDATE chk_contribution_accounts SET errors = list_append(errors, {
        'column': 'uscc', 'value': chk_contribution_accounts.uscc,
        'reason': 'appears on ' || d.n || ' lines (lines ' || d.lines || '): a unit has one contribution account'})
FROM (SELECT uscc, count(*) AS n, string_agg(CAST(line AS VARCHAR), ', ' ORDER BY line) AS lines
      FROM chk_contribution_accounts WHERE uscc IS NOT NULL GROUP BY uscc HAVING count(*) > 1) d
WHERE chk_contribution_accounts.uscc = d.uscc;
