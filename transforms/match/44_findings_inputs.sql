-- Input problems: rows that could not be read and sources that delivered
-- nothing. Today's are found here; earlier dates' stay open through the state.
CREATE OR REPLACE TABLE findings_inputs AS
SELECT * FROM prev_input_findings
UNION ALL BY NAME
SELECT 'REJECTED_ROW' AS exception_type, file_name || ':' || line_no AS ref, inbox_date AS biz_date,
       NULL::INTEGER AS pending_days, inbox_date AS evidence_date,
       reason AS detail, file_name, line_no
FROM new_rejects
UNION ALL BY NAME
SELECT 'MISSING_FILE' AS exception_type, f.source || ':' || strftime(f.inbox_date, '%Y-%m-%d') AS ref,
       f.inbox_date AS biz_date, NULL::INTEGER AS pending_days, f.inbox_date AS evidence_date,
       f.error AS detail, NULL AS file_name, NULL::BIGINT AS line_no
FROM new_files f
JOIN source_pending s ON s.source = f.source
WHERE f.status = 'MISSING' AND s.required
