-- What no exact pairing or group explains: each open item pairs with the credit in its
-- window nearest in date, then in amount (mutual best), a SETTLEMENT_MISMATCH that names it. These
-- pairings are not kept: the credit stays in play, so a late second credit can still
-- complete a split tomorrow.
CREATE OR REPLACE TABLE settle_nearest AS
WITH candidates AS (
    SELECT e.channel, e.settle_date, b.account_no, b.bank_txn_id, b.value_date, b.amount,
           abs(b.amount - e.expected_net) AS gap,
           abs(datediff('day', e.settle_date, b.value_date)) AS distance
    FROM open_settle_items e
    JOIN open_settle_credits b
      ON b.channel = e.channel
     AND b.value_date BETWEEN e.settle_date AND e.settle_date + e.settle_window_days
),
ranked AS (
    SELECT *,
        row_number() OVER (PARTITION BY channel, settle_date ORDER BY distance, gap, bank_txn_id) AS item_pick,
        row_number() OVER (PARTITION BY account_no, bank_txn_id ORDER BY distance, gap, settle_date) AS credit_pick
    FROM candidates
)
SELECT channel, settle_date, account_no, bank_txn_id, value_date AS bank_value_date, amount AS bank_amount,
       channel || ':' || strftime(settle_date, '%Y-%m-%d') || '/' || bank_txn_id AS group_id
FROM ranked
WHERE item_pick = 1 AND credit_pick = 1;

CREATE OR REPLACE TABLE match_settlement AS
SELECT *, true AS kept FROM kept_settlement
UNION ALL BY NAME SELECT *, true AS kept FROM settle_exact
UNION ALL BY NAME SELECT *, true AS kept FROM settle_groups
UNION ALL BY NAME SELECT *, false AS kept FROM settle_nearest;
