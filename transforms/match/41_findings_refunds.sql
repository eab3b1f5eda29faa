-- Refunds recorded on one side only (or with different amounts), refunds that take
-- more than what remains of their original, and refunds whose original is not in
-- the inputs (pending while it may still arrive).
CREATE OR REPLACE TABLE findings_refunds AS
SELECT 'REFUND_UNMATCHED' AS exception_type, o.order_no AS ref, o.biz_date, s.pending_days,
       o.inbox_date AS evidence_date, o.channel, o.order_no, o.channel_txn_id,
       o.amount AS expected_amount, NULL::DECIMAL(18,2) AS actual_amount, o.borrower_id, NULL AS card_no,
       'platform refund with no channel refund' AS detail, o.file_name, o.line_no
FROM stg_platform_orders o
JOIN source_pending s ON s.source = o.source
ANTI JOIN match_refunds m ON m.order_no = o.order_no
WHERE o.order_type = 'REFUND' AND o.status = 'SUCCESS'
UNION ALL
SELECT 'REFUND_UNMATCHED', coalesce(t.merchant_order_no, t.channel_txn_id), t.biz_date, s.pending_days,
       t.inbox_date, t.channel, t.merchant_order_no, t.channel_txn_id, NULL, t.amount, NULL, t.card_no,
       'channel refund with no platform refund', t.file_name, t.line_no
FROM stg_channel_txns t
JOIN source_pending s ON s.source = t.source
ANTI JOIN match_refunds m ON m.channel = t.channel AND m.channel_txn_id = t.channel_txn_id
WHERE t.txn_type = 'REFUND' AND t.status = 'SUCCESS'
UNION ALL
SELECT 'AMOUNT_MISMATCH', o.order_no, o.biz_date, NULL, greatest(o.inbox_date, t.inbox_date), t.channel,
       o.order_no, t.channel_txn_id, o.amount, t.amount, o.borrower_id, t.card_no,
       format('refund: platform {} vs channel {}', CAST(o.amount AS VARCHAR), CAST(t.amount AS VARCHAR)), o.file_name, o.line_no
FROM match_refunds m
JOIN stg_platform_orders o USING (order_no)
JOIN stg_channel_txns t ON t.channel = m.channel AND t.channel_txn_id = m.channel_txn_id AND t.txn_type = 'REFUND'
WHERE o.amount <> t.amount
UNION ALL
SELECT 'REFUND_UNMATCHED', n.order_no, n.biz_date, NULL, n.inbox_date, n.channel, n.order_no,
       n.channel_txn_id, greatest(n.original_amount - (n.refunded_so_far - n.amount), 0), n.amount,
       n.borrower_id, NULL,
       format('refunds of {} total {}, more than its amount {}', n.orig_order_no,
              CAST(n.refunded_so_far AS VARCHAR), CAST(n.original_amount AS VARCHAR)),
       n.file_name, n.line_no
FROM refund_netting n
WHERE n.original_status = 'SUCCESS' AND n.refunded_so_far > n.original_amount
UNION ALL
SELECT 'REFUND_UNMATCHED', n.order_no, n.biz_date, s.pending_days, n.inbox_date, n.channel, n.order_no,
       n.channel_txn_id, NULL, n.amount, n.borrower_id, NULL,
       CASE WHEN n.orig_order_no IS NULL THEN 'refund names no original repayment'
            WHEN n.original_status IS NULL
            THEN format('refund of {}, which is not in the inputs', n.orig_order_no)
            ELSE format('refund of {}, which is {}', n.orig_order_no, n.original_status) END,
       n.file_name, n.line_no
FROM refund_netting n
JOIN source_pending s ON s.source = n.source
WHERE n.original_status IS DISTINCT FROM 'SUCCESS'
