-- DATA_CONFLICT: the same id delivered again with different content. Matching uses
-- the latest delivery (10-12_stg_*.sql) and the exception says so. Progress is not a
-- conflict: an order's status moving on from PROCESSING. Times are not compared.
-- Identical re-deliveries stay silent. `a` is the earlier delivery, `b` the later one
-- (order_diff, txn_diff and bank_diff: 01_macros.sql).
CREATE OR REPLACE TABLE conflict_pairs AS
WITH order_versions AS (
    SELECT *, row_number() OVER (PARTITION BY order_no ORDER BY inbox_date, file_name, line_no) AS v
    FROM repeated_orders
),
txn_versions AS (
    SELECT *, row_number() OVER (PARTITION BY channel, channel_txn_id, txn_type
                                 ORDER BY inbox_date, file_name, line_no) AS v
    FROM repeated_txns
),
bank_versions AS (
    SELECT *, row_number() OVER (PARTITION BY account_no, bank_txn_id
                                 ORDER BY inbox_date, file_name, line_no) AS v
    FROM repeated_bank
)
-- against the settled record of an earlier date
SELECT 'order' AS kind, b.order_no AS ref, b.biz_date, b.inbox_date, b.channel, b.order_no,
       b.channel_txn_id, NULL AS bank_txn_id, a.amount AS old_amount, b.amount AS new_amount,
       a.file_name AS old_file, a.line_no AS old_line, NULL::DATE AS old_inbox,
       b.file_name, b.line_no, order_diff(a, b) AS fields
FROM redelivered_orders b JOIN settled_orders_seen a USING (order_no)
UNION ALL
SELECT 'order', b.order_no, b.biz_date, b.inbox_date, b.channel, b.order_no, b.channel_txn_id, NULL,
       a.amount, b.amount, a.file_name, a.line_no, a.inbox_date, b.file_name, b.line_no, order_diff(a, b)
FROM order_versions a JOIN order_versions b ON b.order_no = a.order_no AND b.v = a.v + 1
UNION ALL
SELECT 'channel transaction', coalesce(b.merchant_order_no, b.channel_txn_id), b.biz_date, b.inbox_date,
       b.channel, b.merchant_order_no, b.channel_txn_id, NULL, a.amount, b.amount,
       a.file_name, a.line_no, NULL, b.file_name, b.line_no, txn_diff(a, b)
FROM redelivered_txns b JOIN settled_txns_seen a USING (channel, channel_txn_id, txn_type)
UNION ALL
SELECT 'channel transaction', coalesce(b.merchant_order_no, b.channel_txn_id), b.biz_date, b.inbox_date,
       b.channel, b.merchant_order_no, b.channel_txn_id, NULL, a.amount, b.amount,
       a.file_name, a.line_no, a.inbox_date, b.file_name, b.line_no, txn_diff(a, b)
FROM txn_versions a JOIN txn_versions b
  ON b.channel = a.channel AND b.channel_txn_id = a.channel_txn_id AND b.txn_type = a.txn_type AND b.v = a.v + 1
UNION ALL
SELECT 'bank line', b.bank_txn_id, b.value_date, b.inbox_date, NULL, NULL, NULL, b.bank_txn_id,
       a.amount, b.amount, a.file_name, a.line_no, NULL, b.file_name, b.line_no, bank_diff(a, b)
FROM new_bank_lines b JOIN settled_bank_seen a USING (account_no, bank_txn_id)
UNION ALL
SELECT 'bank line', b.bank_txn_id, b.value_date, b.inbox_date, NULL, NULL, NULL, b.bank_txn_id,
       a.amount, b.amount, a.file_name, a.line_no, a.inbox_date, b.file_name, b.line_no, bank_diff(a, b)
FROM bank_versions a JOIN bank_versions b
  ON b.account_no = a.account_no AND b.bank_txn_id = a.bank_txn_id AND b.v = a.v + 1;

CREATE OR REPLACE TABLE findings_conflicts AS
SELECT 'DATA_CONFLICT' AS exception_type, ref, biz_date, NULL::INTEGER AS pending_days,
       inbox_date AS evidence_date, channel, order_no, channel_txn_id, bank_txn_id,
       old_amount AS expected_amount, new_amount AS actual_amount,
       format('{} delivered again with different content: {}. Earlier: {}; later: {}. '
              || 'Matching uses the later delivery.',
              kind, fields, delivered_at(old_file, old_line, old_inbox),
              delivered_at(file_name, line_no, inbox_date)) AS detail,
       file_name, line_no
FROM conflict_pairs
WHERE fields <> '';
