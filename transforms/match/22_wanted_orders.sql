-- Settled orders (from history) that today's unmatched debits point at: a second
-- debit of an order matched weeks ago is a DUPLICATE_DEBIT, not a
-- MISSING_ON_PLATFORM. Only the few unmatched debits' orders are looked up.
CREATE OR REPLACE TABLE wanted_orders AS
SELECT DISTINCT t.merchant_order_no AS order_no
FROM stg_channel_txns t
ANTI JOIN match_orders m ON m.channel = t.channel AND m.channel_txn_id = t.channel_txn_id
WHERE t.txn_type = 'PAY' AND t.status = 'SUCCESS' AND t.merchant_order_no IS NOT NULL
  AND t.merchant_order_no NOT IN (SELECT order_no FROM stg_platform_orders);
