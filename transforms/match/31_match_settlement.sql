-- Layer B: expected settlements (channel, settle date) <-> bank credits from that
-- channel's counterparty, each value date within the item's settle window. Groups
-- whose sums agreed when they were made are kept from earlier dates. Then, among
-- the open items and credits: exact one-to-one pairs (mutual best) here, exact
-- batches and splits in 32_settlement_groups, the nearest amount in 33.
CREATE OR REPLACE TABLE kept_settlement AS
SELECT k.* FROM prev_settle_match k
SEMI JOIN settlement_expected e USING (channel, settle_date);

CREATE OR REPLACE TABLE open_settle_items AS
SELECT e.channel, e.settle_date, e.expected_net, e.settle_window_days
FROM settlement_expected e
ANTI JOIN kept_settlement k USING (channel, settle_date);

CREATE OR REPLACE TABLE open_settle_credits AS
SELECT DISTINCT c.channel, b.account_no, b.bank_txn_id, b.value_date, b.amount
FROM stg_bank_lines b
JOIN channel_counterparties c ON c.counterparty IN (b.counterparty_name, b.counterparty_account)
JOIN source_pending s ON s.source = b.source
ANTI JOIN kept_settlement k ON k.account_no = b.account_no AND k.bank_txn_id = b.bank_txn_id
WHERE b.direction = 'CREDIT' AND s.account_role = 'collection';

CREATE OR REPLACE TABLE settle_exact AS
WITH candidates AS (
    SELECT e.channel, e.settle_date, b.account_no, b.bank_txn_id, b.value_date, b.amount,
           abs(datediff('day', e.settle_date, b.value_date)) AS distance
    FROM open_settle_items e
    JOIN open_settle_credits b
      ON b.channel = e.channel AND b.amount = e.expected_net
     AND b.value_date BETWEEN e.settle_date AND e.settle_date + e.settle_window_days
),
ranked AS (
    SELECT *,
        row_number() OVER (PARTITION BY channel, settle_date ORDER BY distance, bank_txn_id) AS item_pick,
        row_number() OVER (PARTITION BY account_no, bank_txn_id ORDER BY distance, settle_date) AS credit_pick
    FROM candidates
)
SELECT channel, settle_date, account_no, bank_txn_id, value_date AS bank_value_date, amount AS bank_amount,
       channel || ':' || strftime(settle_date, '%Y-%m-%d') || '/' || bank_txn_id AS group_id
FROM ranked
WHERE item_pick = 1 AND credit_pick = 1;

-- What the group search (32) and the nearest pairing (33) may still use.
DELETE FROM open_settle_items i USING settle_exact x
WHERE i.channel = x.channel AND i.settle_date = x.settle_date;
DELETE FROM open_settle_credits c USING settle_exact x
WHERE c.account_no = x.account_no AND c.bank_txn_id = x.bank_txn_id;
