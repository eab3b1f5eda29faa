-- Channel transactions in play: carried ones plus today's arrivals, minus
-- re-deliveries of transactions already settled; latest delivery wins.
-- (A table, not a materialized CTE: at 10M rows it must be able to spill to disk.)
CREATE OR REPLACE TABLE stg_channel_txns_candidates AS
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
)
SELECT * FROM prev_txns UNION ALL BY NAME SELECT * FROM arrived;

CREATE OR REPLACE TABLE stg_channel_txns AS
WITH repeated AS (
    -- delivered more than once: the latest delivery wins (window over these keys only)
    SELECT channel, channel_txn_id, txn_type FROM stg_channel_txns_candidates GROUP BY channel, channel_txn_id, txn_type HAVING count(*) > 1
)
SELECT * FROM stg_channel_txns_candidates ANTI JOIN repeated USING (channel, channel_txn_id, txn_type)
UNION ALL
SELECT * FROM (SELECT * FROM stg_channel_txns_candidates SEMI JOIN repeated USING (channel, channel_txn_id, txn_type))
QUALIFY row_number() OVER (
    PARTITION BY channel, channel_txn_id, txn_type ORDER BY inbox_date DESC, file_name DESC, line_no DESC) = 1;

DROP TABLE stg_channel_txns_candidates;
