-- Layer B result per expected settlement, and its differences. Items matched in one
-- group (a batch credit, or a split) are judged together: the group's credits against
-- the group's expected nets.
CREATE OR REPLACE TABLE settlement_groups_summary AS
WITH members AS (
    SELECT m.group_id, count(*) AS items, CAST(sum(e.expected_net) AS DECIMAL(18,2)) AS group_expected
    FROM (SELECT DISTINCT group_id, channel, settle_date FROM match_settlement) m
    JOIN settlement_expected e USING (channel, settle_date)
    GROUP BY m.group_id
),
credits AS (
    SELECT group_id, count(*) AS credit_count, CAST(sum(bank_amount) AS DECIMAL(18,2)) AS group_bank,
           max(bank_value_date) AS bank_value_date, min(bank_txn_id) AS bank_txn_id,
           string_agg(bank_txn_id, ',' ORDER BY bank_txn_id) AS bank_txn_ids
    FROM (SELECT DISTINCT group_id, account_no, bank_txn_id, bank_value_date, bank_amount FROM match_settlement)
    GROUP BY group_id
)
SELECT * FROM members JOIN credits USING (group_id);

CREATE OR REPLACE TABLE settlements AS
WITH item_group AS (SELECT DISTINCT channel, settle_date, group_id FROM match_settlement)
SELECT (SELECT as_of FROM params) AS report_date, e.channel, e.settle_date, e.trade_date, e.txn_count,
       e.pay_amount, e.refund_amount, e.fee_amount, e.expected_net,
       g.bank_txn_id, g.bank_value_date, g.group_bank AS bank_amount,
       CAST(g.group_bank - g.group_expected AS DECIMAL(18,2)) AS diff_amount,
       CASE WHEN g.group_id IS NOT NULL AND g.group_bank = g.group_expected THEN 'MATCHED'
            WHEN g.group_id IS NOT NULL THEN 'MISMATCH'
            WHEN datediff('day', e.settle_date, (SELECT as_of FROM params)) <= e.pending_days THEN 'PENDING'
            ELSE 'MISSING' END AS status,
       g.group_id, g.bank_txn_ids, g.group_expected, g.items AS group_items, g.credit_count,
       e.pending_days, e.last_inbox_date
FROM settlement_expected e
LEFT JOIN item_group i USING (channel, settle_date)
LEFT JOIN settlement_groups_summary g USING (group_id);

CREATE OR REPLACE TABLE findings_settlement AS
SELECT CASE WHEN bank_txn_id IS NULL THEN 'SETTLEMENT_MISSING' ELSE 'SETTLEMENT_MISMATCH' END AS exception_type,
       channel || ':' || strftime(settle_date, '%Y-%m-%d') AS ref,
       settle_date AS biz_date,
       CASE WHEN bank_txn_id IS NULL THEN pending_days END AS pending_days,
       greatest(last_inbox_date, coalesce(bank_value_date, last_inbox_date)) AS evidence_date,
       channel, bank_txn_id,
       CASE WHEN group_items > 1 THEN group_expected ELSE expected_net END AS expected_amount,
       bank_amount AS actual_amount,
       format('{} transactions of {}: pays {} - refunds {} - fees {}', txn_count, trade_date, CAST(pay_amount AS VARCHAR), CAST(refund_amount AS VARCHAR), CAST(fee_amount AS VARCHAR))
       || CASE WHEN bank_txn_id IS NULL THEN '; no credit in the settle window'
               WHEN group_items > 1 THEN format('; paid with {} other settle dates by {} (batch expected {}, credited {})',
                    group_items - 1, bank_txn_ids, CAST(group_expected AS VARCHAR), CAST(bank_amount AS VARCHAR))
               ELSE format('; nearest credit {} of {} on {}', bank_txn_ids, CAST(bank_amount AS VARCHAR),
                    strftime(bank_value_date, '%Y-%m-%d')) END AS detail
FROM settlements
WHERE status <> 'MATCHED';
