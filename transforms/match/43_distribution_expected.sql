-- Layer C, what should move: per recipient (lender code, or FEE) and value date, the
-- shares of the settlement items whose credit reached the collection account, due on
-- the credit's value date plus the recipient's distribution lag.
CREATE OR REPLACE TABLE distribution_expected AS
SELECT r.recipient, r.account_no, r.window_days,
       CAST(s.bank_value_date + r.lag_days AS DATE) AS value_date,
       CAST(sum(sh.amount) AS DECIMAL(18,2)) AS expected_amount,
       string_agg(DISTINCT s.channel || ':' || strftime(s.settle_date, '%Y-%m-%d'), ','
                  ORDER BY s.channel || ':' || strftime(s.settle_date, '%Y-%m-%d')) AS settle_items
FROM settlements s
JOIN total_shares sh ON sh.channel = s.channel AND sh.trade_date = s.trade_date
JOIN recipients r ON r.recipient = sh.recipient
WHERE s.group_id IS NOT NULL
GROUP BY r.recipient, r.account_no, r.window_days, CAST(s.bank_value_date + r.lag_days AS DATE)
HAVING value_date <= (SELECT as_of FROM params) AND expected_amount <> 0;
