-- The state the next report date needs. An item stays in play while a finding
-- (pending or open) names it, or while its status is not final; the other side
-- of a matched pair stays with it, so tomorrow pairs it the same way. Items that
-- leave play keep only their keys (for re-deliveries and late duplicates), their
-- installment's collected amount and their share of the settlement sums.
-- The three large deltas (order and transaction keys, installment collections) are views,
-- read once, by the COPY that writes them sorted (transforms/state.py): a table of a
-- million wide rows costs more to make than the joins it saves.
CREATE OR REPLACE TABLE finding_keys AS
SELECT DISTINCT order_no, channel, channel_txn_id FROM findings_orders
UNION
SELECT DISTINCT order_no, channel, channel_txn_id FROM findings_refunds;

CREATE OR REPLACE TABLE kept_orders AS
WITH direct AS (
    SELECT order_no FROM finding_keys WHERE order_no IS NOT NULL
    UNION
    SELECT order_no FROM stg_platform_orders WHERE status = 'PROCESSING'
),
direct_txns AS (
    SELECT channel, channel_txn_id FROM finding_keys WHERE channel_txn_id IS NOT NULL
)
SELECT order_no FROM direct
UNION
SELECT m.order_no FROM match_orders m SEMI JOIN direct_txns d USING (channel, channel_txn_id)
UNION
SELECT m.order_no FROM match_refunds m SEMI JOIN direct_txns d USING (channel, channel_txn_id);

CREATE OR REPLACE TABLE kept_txns AS
SELECT channel, channel_txn_id FROM finding_keys WHERE channel_txn_id IS NOT NULL
UNION
SELECT m.channel, m.channel_txn_id FROM match_orders m SEMI JOIN kept_orders k USING (order_no)
UNION
SELECT m.channel, m.channel_txn_id FROM match_refunds m SEMI JOIN kept_orders k USING (order_no);

CREATE OR REPLACE TABLE next_orders AS
SELECT * FROM stg_platform_orders SEMI JOIN kept_orders USING (order_no);

CREATE OR REPLACE TABLE next_txns AS
SELECT * FROM stg_channel_txns SEMI JOIN kept_txns USING (channel, channel_txn_id);

-- Unexplained lines, and lines paired only for a difference (not kept: redone tomorrow).
CREATE OR REPLACE TABLE next_bank AS
WITH in_play AS (
    SELECT account_no, bank_txn_id FROM findings_bank
    UNION SELECT account_no, bank_txn_id FROM match_settlement WHERE NOT kept
    UNION SELECT account_no, bank_txn_id FROM match_distribution WHERE NOT kept
    UNION SELECT received_account_no, received_bank_txn_id FROM match_distribution
          WHERE NOT kept AND received_bank_txn_id IS NOT NULL
)
SELECT b.* FROM stg_bank_lines b SEMI JOIN in_play USING (account_no, bank_txn_id);

CREATE OR REPLACE VIEW next_order_keys AS
SELECT o.order_no, o.order_type, o.status, o.amount, o.channel,
       coalesce(m.channel_txn_id, r.channel_txn_id) AS channel_txn_id, o.biz_date,
       o.loan_no, o.installment_no, o.orig_order_no, o.borrower_id, o.lender_code,
       o.principal, o.interest, o.fee, o.penalty, o.installment_due, o.file_name, o.line_no,
       (SELECT as_of FROM params) AS settled_on
FROM stg_platform_orders o
ANTI JOIN kept_orders k USING (order_no)
LEFT JOIN match_orders m USING (order_no)
LEFT JOIN match_refunds r USING (order_no);

CREATE OR REPLACE VIEW next_txn_keys AS
SELECT t.channel, t.channel_txn_id, t.txn_type, t.merchant_order_no, t.status, t.amount,
       t.biz_date, t.fee, t.orig_channel_txn_id, t.file_name, t.line_no,
       (SELECT as_of FROM params) AS settled_on
FROM stg_channel_txns t
ANTI JOIN kept_txns k USING (channel, channel_txn_id);

CREATE OR REPLACE TABLE next_bank_keys AS
SELECT b.account_no, b.bank_txn_id, b.value_date, b.direction, b.amount, b.counterparty_account,
       b.file_name, b.line_no, (SELECT as_of FROM params) AS settled_on
FROM stg_bank_lines b
ANTI JOIN next_bank n ON n.account_no = b.account_no AND n.bank_txn_id = b.bank_txn_id;

CREATE OR REPLACE VIEW next_installments AS
-- matched_pairs (step 20): every REPAY order matched to its PAY debit, with both statuses
SELECT p.loan_no, p.installment_no, p.installment_due AS owed, p.p_amount AS collected,
       (SELECT as_of FROM params) AS settled_on
FROM matched_pairs p
ANTI JOIN kept_orders k USING (order_no)
WHERE p.p_status = 'SUCCESS' AND p.c_status = 'SUCCESS'
  AND p.loan_no IS NOT NULL AND p.installment_due IS NOT NULL
  AND p.order_no NOT IN (SELECT orig_order_no FROM stg_platform_orders
                         WHERE order_type = 'REFUND' AND status = 'SUCCESS' AND orig_order_no IS NOT NULL)
UNION ALL
-- what a reopened repayment had collected leaves the history (06_reopened.sql)
SELECT loan_no, installment_no, NULL, -collected, (SELECT as_of FROM params)
FROM reopened_collections;

CREATE OR REPLACE VIEW leaving_txns AS
SELECT * FROM stg_channel_txns ANTI JOIN kept_txns USING (channel, channel_txn_id);

CREATE OR REPLACE TABLE next_settle_frozen AS SELECT * FROM frozen_plus('leaving_txns');

CREATE OR REPLACE TABLE next_settle_match AS SELECT * FROM match_settlement WHERE kept;

CREATE OR REPLACE TABLE next_dist_match AS SELECT * FROM match_distribution WHERE kept;

CREATE OR REPLACE TABLE next_refunds AS
SELECT o.orig_order_no, o.order_no, o.amount, (SELECT as_of FROM params) AS settled_on
FROM stg_platform_orders o
ANTI JOIN kept_orders k USING (order_no)
WHERE o.order_type = 'REFUND' AND o.status = 'SUCCESS' AND o.orig_order_no IS NOT NULL;

-- Shares of the pairs still in play count live tomorrow; the rest are frozen.
CREATE OR REPLACE TABLE kept_match_orders AS SELECT * FROM match_orders SEMI JOIN kept_orders USING (order_no);
CREATE OR REPLACE TABLE kept_match_refunds AS SELECT * FROM match_refunds SEMI JOIN kept_orders USING (order_no);
CREATE OR REPLACE TABLE next_share_frozen AS
SELECT channel, trade_date, recipient, CAST(sum(amount) AS DECIMAL(18,2)) AS amount
FROM (SELECT channel, trade_date, recipient, amount FROM total_shares
      UNION ALL
      SELECT channel, trade_date, recipient, -amount FROM shares_of('kept_match_orders', 'kept_match_refunds'))
GROUP BY channel, trade_date, recipient;

CREATE OR REPLACE TABLE next_input_findings AS SELECT * FROM findings_inputs;
