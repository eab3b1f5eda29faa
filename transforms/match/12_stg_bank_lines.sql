-- Bank lines in play: unexplained lines carried from the previous state plus
-- today's lines, minus lines already settled; latest delivery wins.
CREATE OR REPLACE TABLE stg_bank_lines AS
WITH arrived AS (
    SELECT * FROM new_bank_lines
    ANTI JOIN hist_bank_keys k USING (account_no, bank_txn_id)
)
SELECT *
FROM (SELECT * FROM prev_bank UNION ALL BY NAME SELECT * FROM arrived)
QUALIFY row_number() OVER (
    PARTITION BY account_no, bank_txn_id ORDER BY inbox_date DESC, file_name DESC, line_no DESC) = 1
