-- One row per bank line (account, bank txn id); re-delivered statements count once.
CREATE OR REPLACE TABLE stg_bank_lines AS
WITH first_copy AS (
    SELECT * FROM raw_bank_lines
    QUALIFY dense_rank() OVER (PARTITION BY file_sha256 ORDER BY inbox_date, source, file_name) = 1
)
SELECT *
FROM first_copy
QUALIFY row_number() OVER (
    PARTITION BY account_no, bank_txn_id ORDER BY inbox_date DESC, line_no DESC) = 1
