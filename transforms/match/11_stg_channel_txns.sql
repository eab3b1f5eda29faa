-- One row per channel transaction (channel, id, type); re-delivered files and
-- re-sent rows count once.
CREATE OR REPLACE TABLE stg_channel_txns AS
WITH first_copy AS (
    SELECT * FROM raw_channel_txns
    QUALIFY dense_rank() OVER (PARTITION BY file_sha256 ORDER BY inbox_date, source, file_name) = 1
)
SELECT *
FROM first_copy
QUALIFY row_number() OVER (
    PARTITION BY channel, channel_txn_id, txn_type ORDER BY inbox_date DESC, line_no DESC) = 1
