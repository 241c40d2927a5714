-- Reads: chk_units
-- Makes: chk_units, units_quarantined
-- chk_units with the row rules added.
-- The register key is the USCC: a USCC on two lines is ambiguous, so every such line is quarantined
-- (00_macros.sql duplicate_uscc_lines, the rule 17_stage_contribution_accounts.sql applies too).

UPDATE chk_units SET errors = list_append(errors, {'column': 'uscc', 'value': chk_units.uscc, 'reason': d.reason})
FROM duplicate_uscc_lines('chk_units', ' of the register', 'a unit must be registered once') d
WHERE chk_units.uscc = d.uscc;

-- A partly given bank account is unusable; it is HOLD (BANK_ACCOUNT_MISSING) at decision time, not bad input.

-- Register rows about to be quarantined, with what can still be read of them: such a unit is decided
-- INVALID_INPUT (never silently dropped) when its region is in scope.
CREATE OR REPLACE TABLE units_quarantined AS
SELECT _uscc AS uscc, min(region_code) AS region_code, min(unit_name) AS unit_name, min(line) AS line
FROM chk_units WHERE len(errors) > 0 AND _uscc IS NOT NULL GROUP BY _uscc;
