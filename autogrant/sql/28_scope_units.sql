-- Reads: policy_regions, stg_units, units_quarantined
-- Makes: scope_units
-- scope_units, one row per unit of the regions in scope: its register row, or, where that row was quarantined, the
-- USCC, name and region the quarantine kept of it (decided INVALID_INPUT, never left out).

CREATE OR REPLACE TEMP TABLE scope_units AS
SELECT u.uscc, u.unit_name, u.region_code, u.unit_type, u.industry_code, u.size_class AS size_class_registered,
       u.employees, u.revenue, u.total_assets, u.status, u.bank_account, u.bank_code, u.account_name,
       false AS register_row_quarantined
FROM stg_units u JOIN policy_regions r USING (region_code)
UNION ALL
SELECT q.uscc, q.unit_name, q.region_code, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, true
FROM units_quarantined q JOIN policy_regions r USING (region_code)
WHERE q.uscc NOT IN (SELECT uscc FROM stg_units);
