-- Channel transactions in play: carried ones plus today's arrivals, minus
-- re-deliveries of transactions already settled; latest delivery wins.
CREATE OR REPLACE TABLE stg_channel_txns AS
WITH settled AS (
    SELECT n.channel, n.channel_txn_id, n.txn_type FROM new_channel_txns n
    SEMI JOIN recent_txn_keys k
      ON k.channel = n.channel AND k.channel_txn_id = n.channel_txn_id AND k.txn_type = n.txn_type
    UNION ALL
    SELECT k.channel, k.channel_txn_id, k.txn_type FROM hist_txn_keys k
    SEMI JOIN late_txns l USING (channel, channel_txn_id, txn_type)
    WHERE k.channel_txn_id IN {{keys:late_txns.channel_txn_id}}
),
arrived AS (
    SELECT * FROM new_channel_txns
    ANTI JOIN settled USING (channel, channel_txn_id, txn_type)
),
candidates AS MATERIALIZED (
    SELECT * FROM prev_txns UNION ALL BY NAME SELECT * FROM arrived
),
repeated AS (
    -- delivered more than once: the latest delivery wins (window over these keys only)
    SELECT channel, channel_txn_id, txn_type FROM candidates GROUP BY channel, channel_txn_id, txn_type HAVING count(*) > 1
)
SELECT * FROM candidates ANTI JOIN repeated USING (channel, channel_txn_id, txn_type)
UNION ALL
SELECT * FROM (SELECT * FROM candidates SEMI JOIN repeated USING (channel, channel_txn_id, txn_type))
QUALIFY row_number() OVER (
    PARTITION BY channel, channel_txn_id, txn_type ORDER BY inbox_date DESC, file_name DESC, line_no DESC) = 1
