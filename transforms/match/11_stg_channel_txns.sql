-- Channel transactions in play: carried ones plus today's arrivals, minus
-- re-deliveries of transactions already settled; latest delivery wins.
-- (Tables, not materialized CTEs: at 10M rows they must be able to spill to disk.)
-- (settled_txns_seen and reopened_txns: 06_reopened.sql)
-- A view, read three times (its key columns twice): a copy of every row costs more.
CREATE OR REPLACE VIEW stg_channel_txns_candidates AS
SELECT * FROM prev_txns
UNION ALL BY NAME
SELECT * FROM new_channel_txns ANTI JOIN settled_txns_seen USING (channel, channel_txn_id, txn_type)
UNION ALL BY NAME
SELECT * FROM reopened_txns;

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

DROP VIEW stg_channel_txns_candidates;
