-- Reads: chk_benefit_claims
-- Makes: chk_benefit_claims
-- chk_benefit_claims with the row rules added. The same claim (person, unit, claim_date) sent twice is quarantined after its first line;
-- a person who claims twice in a year counts once anyway (sql/31_claims_and_months.sql counts distinct persons).

UPDATE chk_benefit_claims SET errors = list_append(errors, {
        'column': 'person_id', 'value': chk_benefit_claims.person_id,
        'reason': 'the same claim (person, unit, claim_date) is already on line ' || d.first_line})
FROM (SELECT person_id, uscc, claim_date, min(line) AS first_line
      FROM chk_benefit_claims WHERE person_id IS NOT NULL AND uscc IS NOT NULL AND claim_date IS NOT NULL
      GROUP BY ALL HAVING count(*) > 1) d
WHERE chk_benefit_claims.person_id = d.person_id AND chk_benefit_claims.uscc = d.uscc
  AND chk_benefit_claims.claim_date = d.claim_date AND chk_benefit_claims.line > d.first_line;
