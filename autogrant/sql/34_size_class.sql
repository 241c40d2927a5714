-- Reads: ref_nbs_sectors, ref_nbs_thresholds, unit_facts
-- Makes: unit_indicator_tiers, unit_sector, unit_size
-- unit_size, the size class used.
-- The registered class wins; an enterprise without one is classified from industry, employees, revenue and assets.

CREATE OR REPLACE TEMP TABLE unit_sector AS
SELECT f.uscc, arg_max(s.sector, length(s.prefix)) AS sector
FROM unit_facts f JOIN ref_nbs_sectors s ON starts_with(f.industry_code, s.prefix)
WHERE f.unit_type = 'enterprise' AND f.size_class_registered IS NULL AND f.industry_code IS NOT NULL
GROUP BY f.uscc;

-- Each listed indicator places the unit in a tier; NULL where the indicator is not given.
CREATE OR REPLACE TEMP TABLE unit_indicator_tiers AS
SELECT f.uscc, t.indicator,
       CASE WHEN v.value IS NULL THEN NULL
            WHEN v.value >= t.large_min THEN 3 WHEN v.value >= t.medium_min THEN 2
            WHEN v.value >= t.small_min THEN 1 ELSE 0 END AS tier
FROM unit_facts f
JOIN unit_sector s USING (uscc)
JOIN ref_nbs_thresholds t ON t.sector = s.sector
CROSS JOIN LATERAL (SELECT CASE t.indicator WHEN 'employees' THEN f.employees
                                            WHEN 'revenue' THEN f.revenue
                                            WHEN 'total_assets' THEN f.total_assets END AS value) v;

-- 大型、中型和小型企业须同时满足所列指标的下限; 微型企业只须满足所列指标中的一项即可.
CREATE OR REPLACE TABLE unit_size AS
SELECT f.uscc,
       CASE WHEN f.unit_type <> 'enterprise' THEN NULL
            WHEN f.size_class_registered IS NOT NULL THEN f.size_class_registered
            WHEN d.any_micro THEN 'micro'
            WHEN d.all_given THEN ['micro', 'small', 'medium', 'large'][d.min_tier + 1]
       END AS size_class_used,
       CASE WHEN f.unit_type <> 'enterprise' THEN 'not an enterprise: the rate of other units'
            WHEN f.size_class_registered IS NOT NULL THEN 'registered'
            WHEN d.any_micro OR d.all_given THEN 'derived (国统字〔2017〕213号, sector ' || s.sector || ')'
            ELSE 'cannot be derived: ' || CASE WHEN f.industry_code IS NULL THEN 'no industry_code'
                                               ELSE 'an indicator the sector lists is missing' END
       END AS size_source
FROM unit_facts f
LEFT JOIN unit_sector s USING (uscc)
LEFT JOIN (SELECT uscc, bool_or(tier = 0) AS any_micro, bool_and(tier IS NOT NULL) AS all_given, min(tier) AS min_tier
           FROM unit_indicator_tiers GROUP BY uscc) d USING (uscc);
