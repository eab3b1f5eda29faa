-- Finance decisions (transforms/resolutions.py) in force on the report date: the latest one
-- per exception with an effective date on or before it. It holds while the exception's
-- amounts are the ones it was taken on (aging from PENDING to OPEN is no change); otherwise
-- the exception is OPEN again and says why.
CREATE OR REPLACE TABLE resolutions_in_force AS
SELECT * FROM resolutions
WHERE effective_date <= (SELECT as_of FROM params)
QUALIFY row_number() OVER (PARTITION BY exception_id ORDER BY resolved_at DESC, resolution_id DESC) = 1;

CREATE OR REPLACE TABLE exceptions AS
WITH judged AS (
    SELECT e.*, r.resolution_id AS r_id, r.action AS r_action, r.counterpart_ref AS r_ref,
           r.note AS r_note, r.resolved_by AS r_by, r.resolved_at AS r_at,
           r.resolution_id IS NOT NULL
           AND r.snapshot_expected IS NOT DISTINCT FROM e.expected_amount
           AND r.snapshot_actual IS NOT DISTINCT FROM e.actual_amount AS holds
    FROM exceptions e
    LEFT JOIN resolutions_in_force r USING (exception_id)
)
SELECT * EXCLUDE (r_id, r_action, r_ref, r_note, r_by, r_at, holds) REPLACE (
           CASE WHEN holds THEN 'RESOLVED' ELSE status END AS status,
           CASE WHEN r_id IS NOT NULL AND NOT holds
                THEN detail || format('; reopened: resolved as {} by {} on {}, but its amounts changed since',
                                      r_action, r_by, strftime(r_at, '%Y-%m-%d'))
                ELSE detail END AS detail),
       CASE WHEN holds THEN r_id END AS resolution_id,
       CASE WHEN holds THEN r_action END AS resolution_action,
       CASE WHEN holds THEN r_ref END AS resolution_ref,
       CASE WHEN holds THEN r_note END AS resolution_note,
       CASE WHEN holds THEN r_by END AS resolved_by,
       CASE WHEN holds THEN r_at END AS resolved_at
FROM judged;
