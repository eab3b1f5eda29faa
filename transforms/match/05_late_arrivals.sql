-- Rows that arrived today dated before the re-match window: the only ones that
-- may re-deliver something settled long ago, so the only ones looked up in all of
-- history (usually none). Everything newer is checked against the recent keys.
CREATE OR REPLACE TABLE late_orders AS
SELECT DISTINCT order_no FROM new_platform_orders
WHERE biz_date < (SELECT recent_from FROM params) OR biz_date IS NULL;

CREATE OR REPLACE TABLE late_txns AS
SELECT DISTINCT channel, channel_txn_id, txn_type FROM new_channel_txns
WHERE biz_date < (SELECT recent_from FROM params) OR biz_date IS NULL;
