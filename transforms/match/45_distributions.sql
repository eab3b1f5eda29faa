-- Layer C result per recipient and value date, and its differences.
CREATE OR REPLACE TABLE distributions AS
WITH judged AS (
    SELECT e.recipient, e.account_no, e.value_date, e.expected_amount, e.settle_items, e.window_days,
           m.bank_txn_id AS paid_bank_txn_ids, m.paid_value_date, m.paid_amount,
           m.received_bank_txn_id AS received_bank_txn_ids, m.received_amount,
           CAST(m.paid_amount - e.expected_amount AS DECIMAL(18,2)) AS diff_amount,
           datediff('day', e.value_date, (SELECT as_of FROM params)) AS age,
           datediff('day', coalesce(m.paid_value_date, e.value_date), (SELECT as_of FROM params)) AS paid_age
    FROM distribution_expected e
    LEFT JOIN match_distribution m USING (recipient, value_date)
)
SELECT (SELECT as_of FROM params) AS report_date, recipient, account_no, value_date, expected_amount,
       paid_amount, paid_bank_txn_ids, paid_value_date, received_amount, received_bank_txn_ids,
       diff_amount,
       CASE WHEN paid_amount IS NULL AND age <= window_days THEN 'PENDING'
            WHEN paid_amount IS NULL THEN 'MISSING'
            WHEN paid_amount <> expected_amount THEN 'MISMATCH'
            WHEN received_amount IS NULL AND paid_age <= window_days THEN 'PENDING'
            WHEN received_amount IS NULL THEN 'MISMATCH'
            ELSE 'MATCHED' END AS status,
       settle_items,
       CASE WHEN paid_amount IS NULL THEN 'nothing paid from the collection account'
            WHEN paid_amount <> expected_amount
            THEN format('paid {} ({} on {}) against a share of {}', CAST(paid_amount AS VARCHAR),
                        paid_bank_txn_ids, strftime(paid_value_date, '%Y-%m-%d'), CAST(expected_amount AS VARCHAR))
            WHEN received_amount IS NULL
            THEN format('paid {} on {} ({}) but not on the recipient''s statement', CAST(paid_amount AS VARCHAR),
                        strftime(paid_value_date, '%Y-%m-%d'), paid_bank_txn_ids)
            ELSE format('paid {} on {}, received as {}', CAST(paid_amount AS VARCHAR),
                        strftime(paid_value_date, '%Y-%m-%d'), received_bank_txn_ids) END
       || format('; share of {}', settle_items) AS detail,
       window_days + datediff('day', value_date, coalesce(paid_value_date, value_date)) AS pending_days
FROM judged;

CREATE OR REPLACE TABLE findings_distribution AS
SELECT 'DISTRIBUTION_MISMATCH' AS exception_type,
       recipient || ':' || strftime(value_date, '%Y-%m-%d') AS ref, value_date AS biz_date,
       CAST(CASE WHEN status = 'PENDING' THEN pending_days END AS INTEGER) AS pending_days,
       coalesce(paid_value_date, value_date) AS evidence_date,
       split_part(paid_bank_txn_ids, ',', 1) AS bank_txn_id,
       expected_amount,
       -- paid in full but not seen on the recipient's statement: that whole payment is in doubt
       CASE WHEN paid_amount = expected_amount AND received_amount IS NULL THEN NULL
            ELSE paid_amount END AS actual_amount,
       detail
FROM distributions
WHERE status <> 'MATCHED';
