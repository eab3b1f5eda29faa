-- Channel transactions in play: carried ones plus today's arrivals, minus
-- re-deliveries of transactions already settled; latest delivery wins.
-- (Tables, not materialized CTEs: at 10M rows they must be able to spill to disk.)
CREATE OR REPLACE TABLE settled_txns_seen AS
SELECT k.* FROM recent_txn_keys k
SEMI JOIN new_channel_txns n
  ON k.channel = n.channel AND k.channel_txn_id = n.channel_txn_id AND k.txn_type = n.txn_type
UNION ALL BY NAME
SELECT k.* FROM hist_txn_keys k
SEMI JOIN late_txns l USING (channel, channel_txn_id, txn_type)
WHERE k.channel_txn_id IN {{keys:late_txns.channel_txn_id}};

CREATE OR REPLACE TABLE stg_channel_txns_candidates AS
SELECT * FROM prev_txns
UNION ALL BY NAME
SELECT * FROM new_channel_txns ANTI JOIN settled_txns_seen USING (channel, channel_txn_id, txn_type);

CREATE OR REPLACE TABLE repeated_txns AS
SELECT * FROM stg_channel_txns_candidates
SEMI JOIN (SELECT channel, channel_txn_id, txn_type FROM stg_channel_txns_candidates
           GROUP BY channel, channel_txn_id, txn_type HAVING count(*) > 1)
    USING (channel, channel_txn_id, txn_type);

CREATE OR REPLACE TABLE stg_channel_txns AS
SELECT * FROM stg_channel_txns_candidates ANTI JOIN repeated_txns USING (channel, channel_txn_id, txn_type)
UNION ALL
SELECT * FROM repeated_txns
QUALIFY row_number() OVER (
    PARTITION BY channel, channel_txn_id, txn_type ORDER BY inbox_date DESC, file_name DESC, line_no DESC) = 1;

DROP TABLE stg_channel_txns_candidates;
