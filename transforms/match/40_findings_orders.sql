-- Layer A differences. pending_days is set for differences that may still
-- resolve by themselves (a counterpart not yet delivered); NULL means the
-- difference is certain the moment both records are in.
-- The pairs with the columns the findings test: `matched_pairs`, made with the pairs (step 20).
-- The few pairs a finding names get their other columns by a join (`pairs` below).
CREATE OR REPLACE TABLE refunded_orders AS
SELECT DISTINCT orig_order_no AS order_no
FROM stg_platform_orders WHERE order_type = 'REFUND' AND status = 'SUCCESS';

-- Debits of one installment beyond what it owed: running total per installment of what
-- settled on earlier dates, then today's debits in payment order; owed is the most the
-- installment was ever due. An installment with one debit and no history owes its due.
CREATE OR REPLACE TABLE installment_debits AS
WITH eligible AS NOT MATERIALIZED (
    SELECT * FROM matched_pairs
    WHERE p_status = 'SUCCESS' AND c_status = 'SUCCESS' AND loan_no IS NOT NULL
      AND installment_due IS NOT NULL
      AND order_no NOT IN (SELECT order_no FROM refunded_orders WHERE order_no IS NOT NULL)
),
shared AS (
    -- installments with more than one debit to add up: several today, or some before today
    SELECT loan_no, installment_no FROM eligible GROUP BY loan_no, installment_no HAVING count(*) > 1
    UNION
    SELECT loan_no, installment_no FROM installment_history
)
SELECT order_no, p_amount AS paid_so_far, installment_due AS owed
FROM eligible e ANTI JOIN shared USING (loan_no, installment_no)
WHERE p_amount > installment_due
UNION ALL BY NAME
SELECT order_no,
       coalesce(h.collected, 0) + sum(e.p_amount) OVER (PARTITION BY e.loan_no, e.installment_no
           ORDER BY e.paid_at, e.order_no ROWS UNBOUNDED PRECEDING) AS paid_so_far,
       greatest(max(e.installment_due) OVER (PARTITION BY e.loan_no, e.installment_no),
                coalesce(h.owed, 0)) AS owed
FROM eligible e
SEMI JOIN shared USING (loan_no, installment_no)
LEFT JOIN installment_history h USING (loan_no, installment_no);

CREATE OR REPLACE TABLE findings_orders AS
WITH flagged AS (
    SELECT * FROM matched_pairs
    WHERE (p_status = 'SUCCESS' AND c_status = 'SUCCESS' AND p_amount <> c_amount)
       OR (p_status <> 'SUCCESS' AND c_status = 'SUCCESS')
       OR (p_status = 'SUCCESS' AND c_status <> 'SUCCESS')
       OR order_no IN (SELECT order_no FROM installment_debits WHERE paid_so_far > owed)
),
pairs AS (
    SELECT f.order_no, f.p_status, f.p_amount, o.biz_date, o.borrower_id,
           o.file_name, o.line_no, o.source AS p_source,
           f.channel, f.channel_txn_id, f.c_status, f.c_amount, t.card_no,
           greatest(o.inbox_date, t.inbox_date) AS evidence_date
    FROM flagged f
    JOIN stg_platform_orders o USING (order_no)
    JOIN stg_channel_txns t
      ON t.channel = f.channel AND t.channel_txn_id = f.channel_txn_id AND t.txn_type = 'PAY'
),
refunded_txns AS (
    -- a debit counts as refunded once its refunds add up to it
    SELECT channel, orig_channel_txn_id AS channel_txn_id, sum(amount) AS refunded
    FROM stg_channel_txns WHERE txn_type = 'REFUND' AND status = 'SUCCESS'
    GROUP BY ALL
),
unmatched_debits AS (
    SELECT t.*
    FROM stg_channel_txns t
    ANTI JOIN match_orders m ON m.channel = t.channel AND m.channel_txn_id = t.channel_txn_id
    WHERE t.txn_type = 'PAY' AND t.status = 'SUCCESS'
)
SELECT 'AMOUNT_MISMATCH' AS exception_type, order_no AS ref, biz_date, NULL::INTEGER AS pending_days,
       evidence_date, channel, order_no, channel_txn_id, p_amount AS expected_amount, c_amount AS actual_amount,
       borrower_id, card_no, format('platform {} vs channel {}', CAST(p_amount AS VARCHAR), CAST(c_amount AS VARCHAR)) AS detail, file_name, line_no
FROM pairs WHERE p_status = 'SUCCESS' AND c_status = 'SUCCESS' AND p_amount <> c_amount
UNION ALL
SELECT 'PLATFORM_NOT_PAID', order_no, biz_date, s.pending_days, evidence_date, channel, order_no,
       channel_txn_id, p_amount, c_amount, borrower_id, card_no,
       format('platform {} while the channel debit succeeded', p_status), file_name, line_no
FROM pairs JOIN source_pending s ON s.source = pairs.p_source
WHERE p_status <> 'SUCCESS' AND c_status = 'SUCCESS'
UNION ALL
SELECT 'CHANNEL_FAILED', order_no, biz_date, NULL, evidence_date, channel, order_no, channel_txn_id,
       p_amount, NULL, borrower_id, card_no, format('channel status {}', c_status), file_name, line_no
FROM pairs WHERE p_status = 'SUCCESS' AND c_status <> 'SUCCESS'
UNION ALL
SELECT 'MISSING_ON_CHANNEL', o.order_no, o.biz_date, s.pending_days, o.inbox_date, o.channel, o.order_no,
       o.channel_txn_id, o.amount, NULL, o.borrower_id, NULL,
       'platform SUCCESS; no channel debit found', o.file_name, o.line_no
FROM stg_platform_orders o
JOIN source_pending s ON s.source = o.source
ANTI JOIN match_orders m ON m.order_no = o.order_no
WHERE o.order_type = 'REPAY' AND o.status = 'SUCCESS'
UNION ALL
SELECT CASE WHEN m.order_no IS NOT NULL OR k.channel_txn_id IS NOT NULL THEN 'DUPLICATE_DEBIT'
            WHEN k.order_no IS NOT NULL THEN 'PLATFORM_NOT_PAID'
            ELSE 'MISSING_ON_PLATFORM' END,
       coalesce(t.merchant_order_no, t.channel_txn_id), t.biz_date,
       CASE WHEN m.order_no IS NULL AND k.channel_txn_id IS NULL THEN s.pending_days END,
       t.inbox_date, t.channel, t.merchant_order_no, t.channel_txn_id,
       CASE WHEN m.order_no IS NOT NULL OR k.channel_txn_id IS NOT NULL THEN 0 ELSE k.amount END,
       t.amount, coalesce(po.borrower_id, k.borrower_id), t.card_no,
       CASE WHEN m.order_no IS NOT NULL THEN 'second successful debit of an order already matched to '
                 || m.channel_txn_id
            WHEN k.channel_txn_id IS NOT NULL THEN format('second successful debit of an order matched to {} on {}',
                 k.channel_txn_id, strftime(k.settled_on, '%Y-%m-%d'))
            WHEN k.order_no IS NOT NULL THEN format('platform {} while the channel debit succeeded', k.status)
            ELSE 'channel debit succeeded; no platform order' END,
       t.file_name, t.line_no
FROM unmatched_debits t
JOIN source_pending s ON s.source = t.source
LEFT JOIN match_orders m ON m.order_no = t.merchant_order_no
LEFT JOIN known_orders k ON k.order_no = t.merchant_order_no
LEFT JOIN stg_platform_orders po ON po.order_no = t.merchant_order_no  -- its borrower
ANTI JOIN refunded_txns r
  ON r.channel = t.channel AND r.channel_txn_id = t.channel_txn_id AND r.refunded >= t.amount
UNION ALL
SELECT 'DUPLICATE_DEBIT', p.order_no, p.biz_date, NULL, p.evidence_date, p.channel, p.order_no,
       p.channel_txn_id, greatest(d.owed - (d.paid_so_far - p.p_amount), 0), p.p_amount,
       p.borrower_id, p.card_no,
       format('installment owed {}; debits so far {}', CAST(d.owed AS VARCHAR), CAST(d.paid_so_far AS VARCHAR)),
       p.file_name, p.line_no
FROM installment_debits d JOIN pairs p USING (order_no) WHERE d.paid_so_far > d.owed
