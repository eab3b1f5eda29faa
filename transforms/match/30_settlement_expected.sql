-- Layer B, expected side: each channel settles the net of a trade date
-- (pays - refunds - fees) on trade date + its settle lag. Transactions already
-- settled out of play count through the frozen sums carried in the state; the
-- ones in play count live, so a status change in play moves the expectation.
-- The frozen sums plus the successful transactions of a table (or view) named `txns`,
-- per channel and trade date. 95_next_state.sql freezes the transactions leaving play
-- with the same macro.
CREATE OR REPLACE MACRO frozen_plus(txns) AS TABLE
SELECT channel, trade_date, sum(txn_count) AS txn_count,
       CAST(sum(pay_amount) AS DECIMAL(18,2)) AS pay_amount,
       CAST(sum(refund_amount) AS DECIMAL(18,2)) AS refund_amount,
       CAST(sum(fee_amount) AS DECIMAL(18,2)) AS fee_amount,
       max(last_inbox_date) AS last_inbox_date
FROM (
    SELECT * FROM prev_settle_frozen
    UNION ALL BY NAME
    SELECT * FROM settle_thawed  -- 06_reopened.sql
    UNION ALL BY NAME
    SELECT channel, biz_date AS trade_date, count(*) AS txn_count,
           coalesce(sum(amount) FILTER (WHERE txn_type = 'PAY'), 0) AS pay_amount,
           coalesce(sum(amount) FILTER (WHERE txn_type = 'REFUND'), 0) AS refund_amount,
           coalesce(sum(fee), 0) AS fee_amount,
           max(inbox_date) AS last_inbox_date
    FROM query_table(txns)
    WHERE status = 'SUCCESS'
    GROUP BY channel, biz_date
)
GROUP BY channel, trade_date;

CREATE OR REPLACE TABLE settlement_sums AS SELECT * FROM frozen_plus('stg_channel_txns');

CREATE OR REPLACE TABLE settlement_expected AS
SELECT t.channel,
       CAST(t.trade_date + s.settle_lag_days AS DATE) AS settle_date,
       t.trade_date, t.txn_count, t.pay_amount, t.refund_amount, t.fee_amount,
       CAST(t.pay_amount - t.refund_amount - t.fee_amount AS DECIMAL(18,2)) AS expected_net,
       t.last_inbox_date, s.pending_days, s.settle_window_days
FROM settlement_sums t
JOIN channel_settings s USING (channel)
WHERE settle_date <= (SELECT as_of FROM params)
