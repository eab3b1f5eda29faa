-- Layer C, what moved: each expected distribution <-> one debit from the collection
-- account to that recipient (by its account number or names) within its window, exact
-- amounts first, then the nearest amount (a difference); and each such debit <-> the
-- credit on the recipient's own statement. Exact pairings are kept from day to day;
-- nearest ones are redone, their lines staying in play.
CREATE OR REPLACE TABLE kept_distribution AS
SELECT k.* FROM prev_dist_match k
SEMI JOIN distribution_expected e USING (recipient, value_date);

CREATE OR REPLACE TABLE distribution_debits AS
SELECT DISTINCT i.recipient, b.account_no, b.bank_txn_id, b.value_date, b.amount
FROM stg_bank_lines b
JOIN recipient_ids i ON i.identifier IN (b.counterparty_account, b.counterparty_name)
JOIN source_pending s ON s.source = b.source
ANTI JOIN kept_distribution k ON k.account_no = b.account_no AND k.bank_txn_id = b.bank_txn_id
WHERE b.direction = 'DEBIT' AND s.account_role = 'collection';

CREATE OR REPLACE TABLE dist_exact (recipient VARCHAR, value_date DATE, account_no VARCHAR,
    bank_txn_id VARCHAR, paid_value_date DATE, paid_amount DECIMAL(18,2));

CREATE OR REPLACE MACRO distribution_pairs(exact_only) AS TABLE
WITH open_items AS (
    SELECT * FROM distribution_expected e
    ANTI JOIN kept_distribution k USING (recipient, value_date)
    ANTI JOIN dist_exact x USING (recipient, value_date)
),
open_debits AS (
    SELECT * FROM distribution_debits d
    ANTI JOIN dist_exact x ON x.account_no = d.account_no AND x.bank_txn_id = d.bank_txn_id
),
candidates AS (
    SELECT e.recipient, e.value_date, d.account_no, d.bank_txn_id, d.value_date AS paid_value_date,
           d.amount AS paid_amount, abs(d.amount - e.expected_amount) AS gap,
           datediff('day', e.value_date, d.value_date) AS distance
    FROM open_items e
    JOIN open_debits d
      ON d.recipient = e.recipient
     AND d.value_date BETWEEN e.value_date AND e.value_date + e.window_days
    WHERE NOT exact_only OR d.amount = e.expected_amount
),
ranked AS (
    SELECT *,
        row_number() OVER (PARTITION BY recipient, value_date ORDER BY distance, gap, bank_txn_id) AS item_pick,
        row_number() OVER (PARTITION BY account_no, bank_txn_id ORDER BY distance, gap, value_date) AS debit_pick
    FROM candidates
)
SELECT recipient, value_date, account_no, bank_txn_id, paid_value_date, paid_amount
FROM ranked WHERE item_pick = 1 AND debit_pick = 1;

INSERT INTO dist_exact SELECT * FROM distribution_pairs(true);
CREATE OR REPLACE TABLE dist_nearest AS SELECT * FROM distribution_pairs(false);

CREATE OR REPLACE TABLE dist_paid AS
SELECT * FROM kept_distribution
UNION ALL BY NAME SELECT *, true AS kept FROM dist_exact
UNION ALL BY NAME SELECT *, false AS kept FROM dist_nearest;
UPDATE dist_paid SET kept = true WHERE kept IS NULL;

-- The recipient's own statement: a credit of the same amount within the window after the debit.
CREATE OR REPLACE TABLE dist_received AS
WITH statement_credits AS (
    SELECT s.recipient, b.account_no, b.bank_txn_id, b.value_date, b.amount
    FROM stg_bank_lines b
    JOIN source_pending s ON s.source = b.source
    ANTI JOIN kept_distribution k
      ON k.received_account_no = b.account_no AND k.received_bank_txn_id = b.bank_txn_id
    WHERE b.direction = 'CREDIT' AND s.recipient IS NOT NULL
),
candidates AS (
    SELECT p.recipient, p.value_date, c.account_no, c.bank_txn_id, c.value_date AS received_value_date,
           c.amount AS received_amount, datediff('day', p.paid_value_date, c.value_date) AS distance
    FROM dist_paid p
    JOIN statement_credits c
      ON c.recipient = p.recipient AND c.amount = p.paid_amount
     AND c.value_date BETWEEN p.paid_value_date AND p.paid_value_date + (
         SELECT window_days FROM recipients r WHERE r.recipient = p.recipient)
    WHERE p.received_bank_txn_id IS NULL
),
ranked AS (
    SELECT *,
        row_number() OVER (PARTITION BY recipient, value_date ORDER BY distance, bank_txn_id) AS item_pick,
        row_number() OVER (PARTITION BY account_no, bank_txn_id ORDER BY distance, value_date) AS credit_pick
    FROM candidates
)
SELECT recipient, value_date, account_no, bank_txn_id, received_value_date, received_amount
FROM ranked WHERE item_pick = 1 AND credit_pick = 1;

CREATE OR REPLACE TABLE match_distribution AS
SELECT p.recipient, p.value_date, p.account_no, p.bank_txn_id, p.paid_value_date, p.paid_amount,
       coalesce(p.received_account_no, r.account_no) AS received_account_no,
       coalesce(p.received_bank_txn_id, r.bank_txn_id) AS received_bank_txn_id,
       coalesce(p.received_value_date, r.received_value_date) AS received_value_date,
       coalesce(p.received_amount, r.received_amount) AS received_amount,
       p.kept
FROM dist_paid p
LEFT JOIN dist_received r USING (recipient, value_date);
