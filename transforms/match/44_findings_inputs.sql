-- Input problems: rows that could not be read, and sources that delivered nothing.
CREATE OR REPLACE TABLE findings_inputs AS
WITH first_copy AS (
    SELECT * FROM raw_rejects
    QUALIFY dense_rank() OVER (PARTITION BY file_sha256 ORDER BY inbox_date, source, file_name) = 1
)
SELECT 'REJECTED_ROW' AS exception_type, file_name || ':' || line_no AS ref, inbox_date AS biz_date,
       NULL::INTEGER AS pending_days, inbox_date AS evidence_date,
       reason AS detail, file_name, line_no
FROM first_copy
UNION ALL
SELECT 'MISSING_FILE', f.source || ':' || strftime(f.inbox_date, '%Y-%m-%d'), f.inbox_date, NULL,
       f.inbox_date, f.error, NULL, NULL
FROM raw_files f
JOIN source_pending s ON s.source = f.source
WHERE f.status = 'MISSING' AND s.required
