-- Input problems and data conflicts: rows that could not be read, files whose stated
-- counts or totals differ from what was read (ref FILE:0), sources that delivered
-- nothing, and ids delivered again with different content. Today's are found here;
-- earlier dates' stay open through the state.
CREATE OR REPLACE TABLE incomplete_files AS
WITH checks AS (
    SELECT f.source, f.file_name, f.inbox_date, s.channel, s.role,
           unnest(from_json(f.checks, '[{"name": "VARCHAR", "stated": "VARCHAR", "computed": "VARCHAR", "ok": "BOOLEAN"}]')) AS c
    FROM new_files f
    JOIN source_settings s ON s.source = f.source
    WHERE f.status = 'OK' AND NOT f.control_ok
)
SELECT source, file_name, inbox_date, channel, role,
       string_agg(format('{} stated {}, read {}', c.name, coalesce(c.stated, 'nothing'), coalesce(c.computed, '?')),
                  '; ' ORDER BY c.name) AS failed
FROM checks
WHERE NOT c.ok
GROUP BY ALL;

CREATE OR REPLACE TABLE findings_inputs AS
SELECT * FROM prev_input_findings
UNION ALL BY NAME
SELECT 'REJECTED_ROW' AS exception_type, file_name || ':' || line_no AS ref, inbox_date AS biz_date,
       NULL::INTEGER AS pending_days, inbox_date AS evidence_date,
       reason AS detail, file_name, line_no
FROM new_rejects
UNION ALL BY NAME
SELECT 'REJECTED_ROW' AS exception_type, file_name || ':0' AS ref, inbox_date AS biz_date,
       NULL::INTEGER AS pending_days, inbox_date AS evidence_date,
       format('incomplete file: its control totals differ from the rows read ({}); rows may be missing', failed) AS detail,
       file_name, 0::BIGINT AS line_no, channel
FROM incomplete_files
UNION ALL BY NAME
SELECT 'MISSING_FILE' AS exception_type, f.source || ':' || strftime(f.inbox_date, '%Y-%m-%d') AS ref,
       f.inbox_date AS biz_date, NULL::INTEGER AS pending_days, f.inbox_date AS evidence_date,
       f.error AS detail, NULL AS file_name, NULL::BIGINT AS line_no
FROM new_files f
JOIN source_pending s ON s.source = f.source
WHERE f.status = 'MISSING' AND s.required
UNION ALL BY NAME
SELECT * FROM findings_conflicts;

-- Open incomplete channel files (today's and earlier ones) that may explain a
-- MISSING_ON_CHANNEL of their channel and date (90_exceptions.sql adds the note).
CREATE OR REPLACE TABLE incomplete_notes AS
SELECT channel, biz_date AS inbox_date,
       string_agg(format('{} failed its control totals and may have lost this row', file_name), '; '
                  ORDER BY file_name) AS note
FROM findings_inputs
WHERE exception_type = 'REJECTED_ROW' AND line_no = 0 AND channel IS NOT NULL
GROUP BY ALL;
