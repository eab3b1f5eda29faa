-- Layer B result per expected settlement, and its differences.
CREATE OR REPLACE TABLE settlements AS
SELECT (SELECT as_of FROM params) AS report_date, e.channel, e.settle_date, e.trade_date, e.txn_count,
       e.pay_amount, e.refund_amount, e.fee_amount, e.expected_net,
       m.bank_txn_id, m.bank_value_date, m.bank_amount,
       CAST(m.bank_amount - e.expected_net AS DECIMAL(18,2)) AS diff_amount,
       CASE WHEN m.bank_txn_id IS NOT NULL AND m.bank_amount = e.expected_net THEN 'MATCHED'
            WHEN m.bank_txn_id IS NOT NULL THEN 'MISMATCH'
            WHEN datediff('day', e.settle_date, (SELECT as_of FROM params)) <= e.pending_days THEN 'PENDING'
            ELSE 'MISSING' END AS status,
       e.pending_days, e.last_inbox_date
FROM settlement_expected e
LEFT JOIN match_settlement m USING (channel, settle_date);

CREATE OR REPLACE TABLE findings_settlement AS
SELECT CASE WHEN bank_txn_id IS NULL THEN 'SETTLEMENT_MISSING' ELSE 'SETTLEMENT_MISMATCH' END AS exception_type,
       channel || ':' || strftime(settle_date, '%Y-%m-%d') AS ref,
       settle_date AS biz_date,
       CASE WHEN bank_txn_id IS NULL THEN pending_days END AS pending_days,
       greatest(last_inbox_date, coalesce(bank_value_date, last_inbox_date)) AS evidence_date,
       channel, bank_txn_id, expected_net AS expected_amount, bank_amount AS actual_amount,
       format('{} transactions of {}: pays {} - refunds {} - fees {}', txn_count, trade_date, CAST(pay_amount AS VARCHAR), CAST(refund_amount AS VARCHAR), CAST(fee_amount AS VARCHAR)) AS detail
FROM settlements
WHERE status <> 'MATCHED'
