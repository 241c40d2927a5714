-- Reads: policy_rate_arms, unit_facts, unit_size
-- Makes: unit_rate_arm
-- unit_rate_arm, the first rate arm whose conditions all hold.
-- Arms are ordered in the policy file (e.g. DL-2018: de-capacity with paid-up arrears 60%, de-capacity 70%, others 50%).

CREATE OR REPLACE TABLE unit_rate_arm AS
SELECT f.uscc, arg_min(a.arm_no, a.arm_no) AS arm_no
FROM unit_facts f
JOIN unit_size s USING (uscc)
CROSS JOIN policy_rate_arms a
WHERE (a.industries IS NULL OR len(list_filter(a.industries, lambda p: starts_with(f.industry_code, p))) > 0)
  AND (a.size_classes IS NULL OR list_contains(a.size_classes, s.size_class_used))
  AND (a.paid_up_arrears IS NULL OR a.paid_up_arrears = f.paid_up_arrears)
GROUP BY f.uscc;
