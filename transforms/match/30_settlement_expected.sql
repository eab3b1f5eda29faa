-- Layer B, expected side: each channel settles the net of a trade date
-- (pays - refunds - fees) on trade date + its settle lag.
CREATE OR REPLACE TABLE settlement_expected AS
SELECT t.channel,
       CAST(t.biz_date + s.settle_lag_days AS DATE) AS settle_date,
       t.biz_date AS trade_date,
       count(*) AS txn_count,
       CAST(coalesce(sum(t.amount) FILTER (WHERE t.txn_type = 'PAY'), 0) AS DECIMAL(18,2)) AS pay_amount,
       CAST(coalesce(sum(t.amount) FILTER (WHERE t.txn_type = 'REFUND'), 0) AS DECIMAL(18,2)) AS refund_amount,
       CAST(coalesce(sum(t.fee), 0) AS DECIMAL(18,2)) AS fee_amount,
       CAST(pay_amount - refund_amount - fee_amount AS DECIMAL(18,2)) AS expected_net,
       max(t.inbox_date) AS last_inbox_date,
       any_value(s.pending_days) AS pending_days,
       any_value(s.settle_window_days) AS settle_window_days
FROM stg_channel_txns t
JOIN channel_settings s USING (channel)
WHERE t.status = 'SUCCESS'
GROUP BY t.channel, t.biz_date, s.settle_lag_days
HAVING settle_date <= (SELECT as_of FROM params)
