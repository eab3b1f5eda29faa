-- What each successful platform refund in play refunds: its original repayment (in
-- play, or settled on an earlier date and looked up by its id) and what earlier
-- refunds of that original already took, so partial and repeated refunds are netted.
CREATE OR REPLACE TABLE refund_claims AS
SELECT order_no, orig_order_no, amount, biz_date, paid_at, created_at, source, channel,
       channel_txn_id, borrower_id, inbox_date, file_name, line_no
FROM stg_platform_orders
WHERE order_type = 'REFUND' AND status = 'SUCCESS';

CREATE OR REPLACE TABLE settled_originals_wanted AS
SELECT DISTINCT orig_order_no AS order_no FROM refund_claims
WHERE orig_order_no IS NOT NULL
  AND orig_order_no NOT IN (SELECT order_no FROM stg_platform_orders);
