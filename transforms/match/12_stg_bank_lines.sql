-- Bank lines in play: lines carried from the previous state (unexplained, or paired
-- with a difference) plus today's lines, minus lines already settled; latest delivery wins.
CREATE OR REPLACE TABLE settled_bank_seen AS
SELECT k.* FROM {{history:bank_keys:new_bank_lines.bank_txn_id}} k
SEMI JOIN new_bank_lines n USING (account_no, bank_txn_id);

CREATE OR REPLACE TABLE stg_bank_candidates AS
SELECT * FROM prev_bank
UNION ALL BY NAME
SELECT * FROM new_bank_lines ANTI JOIN settled_bank_seen USING (account_no, bank_txn_id);

CREATE OR REPLACE TABLE repeated_bank AS
SELECT * FROM stg_bank_candidates
SEMI JOIN (SELECT account_no, bank_txn_id FROM stg_bank_candidates
           GROUP BY account_no, bank_txn_id HAVING count(*) > 1)
    USING (account_no, bank_txn_id);

CREATE OR REPLACE TABLE stg_bank_lines AS
SELECT * FROM stg_bank_candidates ANTI JOIN repeated_bank USING (account_no, bank_txn_id)
UNION ALL
SELECT * FROM repeated_bank
QUALIFY row_number() OVER (
    PARTITION BY account_no, bank_txn_id ORDER BY inbox_date DESC, file_name DESC, line_no DESC) = 1;

DROP TABLE stg_bank_candidates;
