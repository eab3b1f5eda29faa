-- Proposals for a person to approve (nothing is sent): what to do about each OPEN
-- difference, in the form its receiver works with. A RESOLVED one is off the lists.
-- 补单: the platform's missing or unpaid repayments, in the platform export's own columns.
CREATE OR REPLACE TABLE remediation_platform AS
SELECT coalesce(o.order_no, t.merchant_order_no, e.ref) AS order_no, 'REPAY' AS order_type,
       o.orig_order_no, o.loan_no, o.installment_no, o.borrower_id, o.lender_code,
       coalesce(o.channel, t.channel, e.channel) AS channel,
       coalesce(t.channel_txn_id, e.channel_txn_id) AS channel_txn_id,
       coalesce(t.amount, e.actual_amount) AS amount,
       o.principal, o.interest, o.fee, o.penalty, o.installment_due,
       'SUCCESS' AS status, o.created_at, t.txn_time AS paid_at,
       e.exception_type, e.exception_id,
       CASE WHEN o.order_no IS NULL THEN '渠道扣款成功, 平台无订单: 补录订单 / create the order'
            ELSE '渠道扣款成功, 平台未入账: 置为成功 / mark paid' END AS action
FROM exceptions e
LEFT JOIN stg_platform_orders o ON o.order_no = e.order_no AND e.exception_type = 'PLATFORM_NOT_PAID'
LEFT JOIN stg_channel_txns t
  ON t.channel = e.channel AND t.channel_txn_id = e.channel_txn_id AND t.txn_type = 'PAY'
WHERE e.status = 'OPEN' AND e.exception_type IN ('PLATFORM_NOT_PAID', 'MISSING_ON_PLATFORM');

-- Refund requests per channel: debits a borrower should get back.
CREATE OR REPLACE TABLE remediation_refunds AS
SELECT e.channel, e.channel_txn_id, e.order_no AS merchant_order_no, e.money_at_stake AS refund_amount,
       e.borrower_id, e.card_no, e.biz_date,
       CASE WHEN e.expected_amount = 0 THEN '重复扣款 duplicate debit'
            ELSE '超额扣款 installment over-collected' END || ': ' || e.detail AS reason,
       e.exception_id
FROM exceptions e
WHERE e.status = 'OPEN' AND e.exception_type = 'DUPLICATE_DEBIT';

-- Claims to channels: settlements short, over, or not paid.
CREATE OR REPLACE TABLE remediation_claims AS
SELECT e.channel, CAST(split_part(e.ref, ':', 2) AS DATE) AS settle_date, e.expected_amount,
       e.actual_amount AS credited_amount, e.bank_txn_id,
       CAST(coalesce(e.expected_amount, 0) - coalesce(e.actual_amount, 0) AS DECIMAL(18,2)) AS claim_amount,
       e.exception_type || ': ' || e.detail AS reason, e.exception_id
FROM exceptions e
WHERE e.status = 'OPEN' AND e.exception_type IN ('SETTLEMENT_MISMATCH', 'SETTLEMENT_MISSING');

-- Corrections to lenders and the fee account: 清分 that moved the wrong amount.
CREATE OR REPLACE TABLE remediation_corrections AS
SELECT split_part(e.ref, ':', 1) AS recipient, e.biz_date AS value_date, e.expected_amount,
       e.actual_amount AS paid_amount,
       CAST(coalesce(e.expected_amount, 0) - coalesce(e.actual_amount, 0) AS DECIMAL(18,2)) AS correction_amount,
       e.detail AS reason, e.exception_id
FROM exceptions e
WHERE e.status = 'OPEN' AND e.exception_type = 'DISTRIBUTION_MISMATCH';
