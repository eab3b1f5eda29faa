-- Layer C, what is owed: each successful repayment matched to a successful debit gives
-- its lender principal + interest + penalty and the platform fee account (FEE) its fee;
-- each successful refund matched to a channel refund takes its own split back. Shares
-- count on the channel trade date of the transaction, like the settlement it rides in.
-- Pairs that left play count through the frozen sums carried in the state
-- (95_next_state.sql freezes what leaves with the same macro).
CREATE OR REPLACE MACRO shares_of(order_pairs, refund_pairs) AS TABLE
WITH pairs AS (
    SELECT m.channel, m.trade_date, o.lender_code,
           o.principal + o.interest + o.penalty AS lender_amount, o.fee AS fee_amount
    FROM query_table(order_pairs) m JOIN stg_platform_orders o USING (order_no)
    WHERE o.status = 'SUCCESS' AND m.channel_status = 'SUCCESS' AND o.order_type = 'REPAY'
    UNION ALL
    SELECT t.channel, t.biz_date, o.lender_code, -(o.principal + o.interest + o.penalty), -o.fee
    FROM query_table(refund_pairs) r
    JOIN stg_platform_orders o USING (order_no)
    JOIN stg_channel_txns t
      ON t.channel = r.channel AND t.channel_txn_id = r.channel_txn_id AND t.txn_type = 'REFUND'
    WHERE o.status = 'SUCCESS' AND t.status = 'SUCCESS'
),
shares AS (
    SELECT channel, trade_date, lender_code AS recipient, lender_amount AS amount
    FROM pairs WHERE lender_code IS NOT NULL
    UNION ALL
    SELECT channel, trade_date, 'FEE', fee_amount FROM pairs
)
SELECT channel, trade_date, recipient, CAST(sum(amount) AS DECIMAL(18,2)) AS amount
FROM shares WHERE amount IS NOT NULL
GROUP BY channel, trade_date, recipient;

CREATE OR REPLACE TABLE live_shares AS SELECT * FROM shares_of('match_orders', 'match_refunds');

CREATE OR REPLACE TABLE total_shares AS
SELECT channel, trade_date, recipient, CAST(sum(amount) AS DECIMAL(18,2)) AS amount
FROM (SELECT * FROM prev_share_frozen
      UNION ALL BY NAME SELECT * FROM share_thawed  -- 06_reopened.sql
      UNION ALL BY NAME SELECT * FROM live_shares)
GROUP BY channel, trade_date, recipient;
