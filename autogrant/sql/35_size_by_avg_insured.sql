-- Reads: policy, unit_facts, unit_size
-- Makes: unit_size, unit_size_before_24
-- unit_size, replaced
-- for enterprises under a policy with size_classification avg_insured_headcount: a province without the statistical
-- size data (国统字〔2017〕213号) may class an enterprise by its average monthly insured headcount of the assessed year,
-- e.g. 平均参保人数300人及以上 large (30%), below it SME (60%). Average >= N compared exactly, as Σ monthly insured >= 12 N.
-- Under any other policy unit_size is left as 34_size_class.sql made it.

CREATE OR REPLACE TEMP TABLE unit_size_before_24 AS SELECT * FROM unit_size;

CREATE OR REPLACE TABLE unit_size AS
SELECT s.uscc,
       CASE WHEN p.size_classification <> 'avg_insured_headcount' OR f.unit_type IS DISTINCT FROM 'enterprise' THEN s.size_class_used
            WHEN f.insured_month_total >= 12 * p.large_min_avg_insured THEN 'large'
            ELSE 'sme' END AS size_class_used,  -- sme: 中小微企业, one class under this rule
       CASE WHEN p.size_classification <> 'avg_insured_headcount' OR f.unit_type IS DISTINCT FROM 'enterprise' THEN s.size_source
            ELSE 'average insured ' || round(f.insured_month_total / 12, 2) || ' against ' || p.large_min_avg_insured
                 || ' (size by average insured headcount)' END AS size_source
FROM unit_size_before_24 s
JOIN unit_facts f USING (uscc)
CROSS JOIN policy p;

DROP TABLE unit_size_before_24;
