-- Layer B: expected settlement (channel, settle date) <-> a bank credit from that
-- channel's counterparty within the settle window. A pairing made on an earlier
-- date is kept; open items pair with the unexplained credits in play, mutual
-- best pairs only.
CREATE OR REPLACE TABLE match_settlement AS
WITH kept AS (
    SELECT k.* FROM prev_settle_match k
    SEMI JOIN settlement_expected e USING (channel, settle_date)
),
channel_credits AS (
    SELECT DISTINCT b.*, c.channel
    FROM stg_bank_lines b
    JOIN channel_counterparties c
      ON c.counterparty IN (b.counterparty_name, b.counterparty_account)
    WHERE b.direction = 'CREDIT'
),
candidates AS (
    SELECT e.channel, e.settle_date, b.account_no, b.bank_txn_id, b.value_date, b.amount,
           b.amount = e.expected_net AS exact,
           abs(datediff('day', e.settle_date, b.value_date)) AS distance
    FROM settlement_expected e
    JOIN channel_credits b
      ON b.channel = e.channel
     AND b.value_date BETWEEN e.settle_date AND e.settle_date + e.settle_window_days
    ANTI JOIN kept k ON k.channel = e.channel AND k.settle_date = e.settle_date
),
ranked AS (
    SELECT *,
        row_number() OVER (PARTITION BY channel, settle_date
            ORDER BY exact DESC, distance, bank_txn_id) AS item_pick,
        row_number() OVER (PARTITION BY account_no, bank_txn_id
            ORDER BY exact DESC, distance, settle_date) AS credit_pick
    FROM candidates
)
SELECT channel, settle_date, account_no, bank_txn_id, bank_value_date, bank_amount FROM kept
UNION ALL
SELECT channel, settle_date, account_no, bank_txn_id, value_date, amount
FROM ranked
WHERE item_pick = 1 AND credit_pick = 1
