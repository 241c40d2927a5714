-- Reads: chk_contribution_accounts
-- Makes: chk_contribution_accounts
-- chk_contribution_accounts with the row rules added. A unit is paid to one account: a USCC on two
-- lines is ambiguous, so every such line is quarantined (the unit then has no fallback account; 00_macros.sql
-- duplicate_uscc_lines, the register's rule in 10_stage_units.sql).

UPDATE chk_contribution_accounts SET errors = list_append(errors, {
        'column': 'uscc', 'value': chk_contribution_accounts.uscc, 'reason': d.reason})
FROM duplicate_uscc_lines('chk_contribution_accounts', '', 'a unit has one contribution account') d
WHERE chk_contribution_accounts.uscc = d.uscc;
