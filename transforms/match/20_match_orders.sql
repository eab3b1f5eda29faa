-- Layer A: platform order <-> channel transaction, one to one.
-- Candidates join by merchant order no, else by channel_txn_id; each side keeps
-- its best candidate (successful debit, key match, earliest) and only mutual
-- best pairs match, so no item satisfies two counterparts.
CREATE OR REPLACE TABLE match_orders AS
WITH candidates AS (
    SELECT o.order_no, t.channel, t.channel_txn_id, 'merchant_order_no' AS matched_by, 0 AS key_rank,
           t.status AS channel_status, t.txn_time, t.biz_date AS trade_date
    FROM stg_platform_orders o
    JOIN stg_channel_txns t
      ON t.merchant_order_no = o.order_no AND t.txn_type = 'PAY'
    WHERE o.order_type = 'REPAY'
    UNION ALL
    SELECT o.order_no, t.channel, t.channel_txn_id, 'channel_txn_id', 1, t.status, t.txn_time, t.biz_date
    FROM stg_platform_orders o
    JOIN stg_channel_txns t
      ON t.channel_txn_id = o.channel_txn_id AND t.channel = o.channel AND t.txn_type = 'PAY'
    WHERE o.order_type = 'REPAY' AND t.merchant_order_no IS DISTINCT FROM o.order_no
),
ranked AS (
    SELECT *,
        row_number() OVER (PARTITION BY order_no
            ORDER BY channel_status = 'SUCCESS' DESC, key_rank, txn_time, channel_txn_id) AS order_pick,
        row_number() OVER (PARTITION BY channel, channel_txn_id
            ORDER BY key_rank, order_no) AS txn_pick
    FROM candidates
)
SELECT order_no, channel, channel_txn_id, matched_by, channel_status, trade_date
FROM ranked
WHERE order_pick = 1 AND txn_pick = 1
