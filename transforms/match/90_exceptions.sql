-- Every difference and pending item of the report date, with a stable id.
CREATE OR REPLACE TABLE exceptions AS
WITH findings AS (
    SELECT * FROM findings_orders
    UNION ALL BY NAME SELECT * FROM findings_refunds
    UNION ALL BY NAME SELECT * FROM findings_settlement
    UNION ALL BY NAME SELECT * FROM findings_distribution
    UNION ALL BY NAME SELECT * FROM findings_bank
    UNION ALL BY NAME SELECT * FROM findings_inputs
),
noted AS (
    -- a missing channel debit whose channel file of that day (or the next) was incomplete says so
    SELECT f.* REPLACE (
        CASE WHEN n.note IS NULL THEN f.detail ELSE f.detail || '; ' || n.note END AS detail)
    FROM findings f
    LEFT JOIN (SELECT channel, day, string_agg(note, '; ' ORDER BY inbox_date, note) AS note
               FROM (SELECT *, inbox_date AS day FROM incomplete_notes
                     UNION ALL SELECT *, CAST(inbox_date - 1 AS DATE) FROM incomplete_notes)
               GROUP BY channel, day) n
      ON f.exception_type = 'MISSING_ON_CHANNEL' AND n.channel = f.channel AND n.day = f.biz_date
),
dated AS (
    SELECT *, (SELECT as_of FROM params) AS as_of,
           CAST(datediff('day', biz_date, (SELECT as_of FROM params)) AS INTEGER) AS age
    FROM noted
)
SELECT substr(sha256(exception_type || '|' || ref), 1, 16) AS exception_id,
       as_of AS report_date, exception_type, ref,
       CASE WHEN pending_days IS NOT NULL AND age <= pending_days THEN 'PENDING' ELSE 'OPEN' END AS status,
       biz_date,
       CASE WHEN pending_days IS NOT NULL AND age <= pending_days THEN NULL
            WHEN pending_days IS NULL THEN greatest(biz_date, evidence_date)
            ELSE greatest(CAST(biz_date + pending_days + 1 AS DATE), evidence_date) END AS first_seen,
       age AS age_days,
       channel, order_no, channel_txn_id, bank_txn_id,
       CAST(expected_amount AS DECIMAL(18,2)) AS expected_amount,
       CAST(actual_amount AS DECIMAL(18,2)) AS actual_amount,
       CAST(coalesce(actual_amount, 0) - coalesce(expected_amount, 0) AS DECIMAL(18,2)) AS diff_amount,
       CASE WHEN exception_type IN ('DUPLICATE_DEBIT', 'PLATFORM_NOT_PAID', 'MISSING_ON_PLATFORM',
                                    'REFUND_UNMATCHED') THEN 1  -- borrower harmed
            WHEN exception_type IN ('DATA_CONFLICT', 'REJECTED_ROW', 'MISSING_FILE') THEN 3  -- bookkeeping
            ELSE 2 END AS severity,  -- money missing
       -- What is really at risk: the money a borrower paid that was never credited, the
       -- duplicated part, the shortfall; not only actual - expected.
       CAST(CASE WHEN exception_type IN ('PLATFORM_NOT_PAID', 'MISSING_ON_PLATFORM') THEN actual_amount
                 WHEN exception_type = 'DUPLICATE_DEBIT' THEN actual_amount - coalesce(expected_amount, 0)
                 WHEN exception_type IN ('REJECTED_ROW', 'MISSING_FILE') THEN NULL
                 WHEN expected_amount IS NULL THEN abs(actual_amount)
                 WHEN actual_amount IS NULL THEN abs(expected_amount)
                 ELSE abs(actual_amount - expected_amount) END AS DECIMAL(18,2)) AS money_at_stake,
       borrower_id, card_no, detail, file_name, line_no
FROM dated
-- every column of the pick in the order, so that the same inputs always give the same row
QUALIFY row_number() OVER (PARTITION BY exception_type, ref
    ORDER BY biz_date, channel_txn_id, line_no, file_name, bank_txn_id, actual_amount,
             expected_amount, detail, borrower_id, card_no) = 1
