-- Channel transactions in play: carried ones plus today's arrivals, minus
-- re-deliveries of transactions already settled; latest delivery wins.
CREATE OR REPLACE TABLE stg_channel_txns AS
WITH settled AS (
    SELECT n.channel, n.channel_txn_id, n.txn_type FROM new_channel_txns n
    SEMI JOIN recent_txn_keys k
      ON k.channel = n.channel AND k.channel_txn_id = n.channel_txn_id AND k.txn_type = n.txn_type
    UNION ALL
    SELECT n.channel, n.channel_txn_id, n.txn_type FROM new_channel_txns n
    SEMI JOIN hist_txn_keys k
      ON k.channel = n.channel AND k.channel_txn_id = n.channel_txn_id AND k.txn_type = n.txn_type
    WHERE n.biz_date < (SELECT recent_from FROM params) OR n.biz_date IS NULL
),
arrived AS (
    SELECT * FROM new_channel_txns
    ANTI JOIN settled USING (channel, channel_txn_id, txn_type)
)
SELECT *
FROM (SELECT * FROM prev_txns UNION ALL BY NAME SELECT * FROM arrived)
QUALIFY row_number() OVER (
    PARTITION BY channel, channel_txn_id, txn_type ORDER BY inbox_date DESC, file_name DESC, line_no DESC) = 1
