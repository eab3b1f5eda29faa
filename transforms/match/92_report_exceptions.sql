-- The published report: today's exceptions plus what was OPEN (or RESOLVED) on the day
-- before and is gone (CLEARED today), read from the previous state.
CREATE OR REPLACE TABLE report_exceptions AS
SELECT * FROM exceptions
UNION ALL BY NAME
SELECT p.* REPLACE (
    (SELECT as_of FROM params) AS report_date, 'CLEARED' AS status,
    CAST(datediff('day', p.biz_date, (SELECT as_of FROM params)) AS INTEGER) AS age_days)
FROM prev_exceptions p
WHERE p.status IN ('OPEN', 'RESOLVED')
  AND NOT EXISTS (SELECT 1 FROM exceptions e WHERE e.status IN ('OPEN', 'RESOLVED')
                  AND e.exception_type = p.exception_type AND e.ref = p.ref)
