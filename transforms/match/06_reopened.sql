-- Settled items delivered again. Today's rows are looked up among the items settled within
-- the re-match window; rows dated before that window (05_late_arrivals.sql) in all of
-- history. The latest settled record of each id (an item reopened once settles twice).
CREATE OR REPLACE TABLE settled_orders_seen AS
SELECT * FROM (
    SELECT * FROM {{recent:order_keys:new_platform_orders.order_no}}
    UNION ALL BY NAME
    SELECT * FROM {{history:order_keys:late_orders.order_no}})
QUALIFY row_number() OVER (PARTITION BY order_no ORDER BY settled_on DESC) = 1;

CREATE OR REPLACE TABLE settled_txns_seen AS
SELECT * FROM (
    SELECT k.* FROM {{recent:txn_keys:new_channel_txns.channel_txn_id}} k
    SEMI JOIN new_channel_txns n
      ON k.channel = n.channel AND k.channel_txn_id = n.channel_txn_id AND k.txn_type = n.txn_type
    UNION ALL BY NAME
    SELECT k.* FROM {{history:txn_keys:late_txns.channel_txn_id}} k
    SEMI JOIN late_txns l USING (channel, channel_txn_id, txn_type))
QUALIFY row_number() OVER (PARTITION BY channel, channel_txn_id, txn_type ORDER BY settled_on DESC) = 1;

-- A settled repayment or debit delivered again with other content (a corrected bill, a
-- corrected export) is judged again: its latest delivery and the counterpart it was matched
-- to come back into play (10, 11), and what the settled pair had added to the frozen
-- settlement sums, 清分 shares and installment collections is taken out again, so the sums
-- follow the correction. Identical re-deliveries stay settled and silent. Debits only: a
-- corrected refund stays a DATA_CONFLICT.
-- (today's deliveries of settled ids first: a semi join DuckDB narrows to their row groups)
CREATE OR REPLACE TABLE redelivered_orders AS
SELECT * FROM new_platform_orders WHERE order_no IN (SELECT order_no FROM settled_orders_seen);

CREATE OR REPLACE TABLE redelivered_txns AS
SELECT * FROM new_channel_txns n
WHERE channel_txn_id IN (SELECT channel_txn_id FROM settled_txns_seen)
  AND EXISTS (SELECT 1 FROM settled_txns_seen a
              WHERE a.channel = n.channel AND a.channel_txn_id = n.channel_txn_id
                AND a.txn_type = n.txn_type);

CREATE OR REPLACE TABLE changed_orders AS
SELECT n.* FROM redelivered_orders n JOIN settled_orders_seen a USING (order_no)
WHERE n.order_type = 'REPAY' AND a.channel_txn_id IS NOT NULL
QUALIFY row_number() OVER (
    PARTITION BY order_no ORDER BY n.inbox_date DESC, n.file_name DESC, n.line_no DESC) = 1
    AND order_diff(a, n) <> '';

CREATE OR REPLACE TABLE changed_txns AS
SELECT n.* FROM redelivered_txns n JOIN settled_txns_seen a USING (channel, channel_txn_id, txn_type)
WHERE n.txn_type = 'PAY' AND n.merchant_order_no IS NOT NULL
QUALIFY row_number() OVER (PARTITION BY channel, channel_txn_id, txn_type
        ORDER BY n.inbox_date DESC, n.file_name DESC, n.line_no DESC) = 1
    AND txn_diff(a, n) <> '';

-- The settled pairs: (order_keys row, txn_keys row) of each changed item and its counterpart.
CREATE OR REPLACE TABLE reopened_order_keys AS
SELECT * FROM (
    SELECT * FROM settled_orders_seen SEMI JOIN changed_orders USING (order_no)
    UNION ALL BY NAME
    SELECT k.* FROM {{history:order_keys:changed_txns.merchant_order_no}} k
    JOIN changed_txns t
      ON t.merchant_order_no = k.order_no AND t.channel = k.channel
     AND t.channel_txn_id = k.channel_txn_id)
QUALIFY row_number() OVER (PARTITION BY order_no ORDER BY settled_on DESC) = 1;

CREATE OR REPLACE TABLE reopened_txn_keys AS
SELECT * FROM (
    SELECT * FROM settled_txns_seen SEMI JOIN changed_txns USING (channel, channel_txn_id, txn_type)
    UNION ALL BY NAME
    SELECT k.* FROM {{history:txn_keys:reopened_order_keys.channel_txn_id}} k
    JOIN reopened_order_keys o ON o.channel = k.channel AND o.channel_txn_id = k.channel_txn_id
    WHERE k.txn_type = 'PAY')
QUALIFY row_number() OVER (PARTITION BY channel, channel_txn_id, txn_type ORDER BY settled_on DESC) = 1;

-- Only whole pairs are reopened: a changed item whose counterpart is not found stays settled
-- (its DATA_CONFLICT says what changed).
DELETE FROM reopened_order_keys o WHERE NOT EXISTS (
    SELECT 1 FROM reopened_txn_keys t
    WHERE t.channel = o.channel AND t.channel_txn_id = o.channel_txn_id);
DELETE FROM reopened_txn_keys t WHERE NOT EXISTS (
    SELECT 1 FROM reopened_order_keys o
    WHERE o.channel = t.channel AND o.channel_txn_id = t.channel_txn_id);

-- The rows that come back into play: today's latest delivery, else the settled record as it
-- was (the settled keys keep every column matching reads; it re-enters with the date it
-- settled as its inbox date).
CREATE OR REPLACE TABLE reopened_orders AS
SELECT * FROM changed_orders SEMI JOIN reopened_order_keys USING (order_no)
UNION ALL BY NAME
SELECT k.* EXCLUDE (settled_on),
       (SELECT min(source) FROM source_settings WHERE role = 'platform') AS source,
       k.settled_on AS inbox_date
FROM reopened_order_keys k ANTI JOIN changed_orders USING (order_no);

CREATE OR REPLACE TABLE reopened_txns AS
SELECT * FROM changed_txns SEMI JOIN reopened_txn_keys USING (channel, channel_txn_id, txn_type)
UNION ALL BY NAME
SELECT k.* EXCLUDE (settled_on),
       (SELECT min(source) FROM source_settings WHERE role = 'channel' AND channel = k.channel)
           AS source,
       k.settled_on AS inbox_date
FROM reopened_txn_keys k ANTI JOIN changed_txns USING (channel, channel_txn_id, txn_type);

-- The settled pairs' part of the frozen sums, negated (30 and 34 add it): a settlement sum
-- or 清分 share counts an item in play live, and the reopened ones are in play again.
CREATE OR REPLACE TABLE settle_thawed AS
SELECT channel, biz_date AS trade_date, -count(*) AS txn_count,
       -coalesce(sum(amount), 0) AS pay_amount, 0 AS refund_amount, -coalesce(sum(fee), 0) AS fee_amount
FROM reopened_txn_keys WHERE status = 'SUCCESS'
GROUP BY channel, biz_date;

CREATE OR REPLACE TABLE reopened_pairs AS
SELECT o.order_no, o.status AS p_status, o.lender_code, o.principal, o.interest, o.penalty, o.fee,
       o.loan_no, o.installment_no, o.installment_due, o.amount,
       t.channel, t.biz_date AS trade_date, t.status AS c_status
FROM reopened_order_keys o
JOIN reopened_txn_keys t ON t.channel = o.channel AND t.channel_txn_id = o.channel_txn_id;

CREATE OR REPLACE TABLE share_thawed AS
SELECT channel, trade_date, recipient, CAST(-sum(amount) AS DECIMAL(18,2)) AS amount
FROM (
    SELECT channel, trade_date, lender_code AS recipient, principal + interest + penalty AS amount
    FROM reopened_pairs WHERE lender_code IS NOT NULL AND p_status = 'SUCCESS' AND c_status = 'SUCCESS'
    UNION ALL
    SELECT channel, trade_date, 'FEE', fee
    FROM reopened_pairs WHERE p_status = 'SUCCESS' AND c_status = 'SUCCESS')
WHERE amount IS NOT NULL
GROUP BY channel, trade_date, recipient;

-- What the settled pairs had collected on their installments: taken out of today's history
-- (25_installments.sql), and out of the history for good by a negative row in today's
-- delta (95_next_state.sql); the reopened order adds what it collects when it settles again.
CREATE OR REPLACE TABLE reopened_collections AS
SELECT order_no, loan_no, installment_no, amount AS collected
FROM reopened_pairs
WHERE p_status = 'SUCCESS' AND c_status = 'SUCCESS' AND loan_no IS NOT NULL
  AND installment_due IS NOT NULL;
