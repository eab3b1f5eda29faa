-- Layer A for refunds: platform REFUND order <-> channel REFUND, one to one.
CREATE OR REPLACE TABLE match_refunds AS
WITH candidates AS (
    SELECT o.order_no, t.channel, t.channel_txn_id,
           row_number() OVER (PARTITION BY o.order_no ORDER BY t.txn_time, t.channel_txn_id) AS order_pick,
           row_number() OVER (PARTITION BY t.channel, t.channel_txn_id ORDER BY o.order_no) AS txn_pick
    FROM stg_platform_orders o
    JOIN stg_channel_txns t
      ON t.txn_type = 'REFUND'
     AND (t.merchant_order_no = o.order_no OR (t.channel_txn_id = o.channel_txn_id AND t.channel = o.channel))
    WHERE o.order_type = 'REFUND'
)
SELECT order_no, channel, channel_txn_id FROM candidates WHERE order_pick = 1 AND txn_pick = 1
