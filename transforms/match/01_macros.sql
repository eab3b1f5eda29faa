-- Small helpers shared by the steps.
-- 'amount 12.00→13.00' when a field differs between two deliveries, else NULL.
CREATE OR REPLACE MACRO diff_field(name, old, new) AS
    CASE WHEN old IS DISTINCT FROM new
         THEN name || ' ' || coalesce(CAST(old AS VARCHAR), '∅') || '→' || coalesce(CAST(new AS VARCHAR), '∅') END;

-- 'file.csv:12 (2026-11-02)': where a delivered row came from.
CREATE OR REPLACE MACRO delivered_at(file_name, line_no, inbox_date) AS
    coalesce(file_name, '?') || ':' || coalesce(CAST(line_no AS VARCHAR), '?')
    || CASE WHEN inbox_date IS NULL THEN '' ELSE ' (inbox ' || strftime(inbox_date, '%Y-%m-%d') || ')' END;

-- What differs between two deliveries of one id (`a` the earlier, `b` the later): '' when
-- nothing does. Progress is not a difference: an order's status moving on from PROCESSING.
-- Times are not compared.
CREATE OR REPLACE MACRO order_diff(a, b) AS concat_ws('; ',
    diff_field('order_type', a.order_type, b.order_type),
    diff_field('orig_order_no', a.orig_order_no, b.orig_order_no),
    diff_field('loan_no', a.loan_no, b.loan_no),
    diff_field('installment_no', a.installment_no, b.installment_no),
    diff_field('borrower_id', a.borrower_id, b.borrower_id),
    diff_field('lender_code', a.lender_code, b.lender_code),
    diff_field('channel', a.channel, b.channel),
    diff_field('amount', a.amount, b.amount),
    diff_field('principal', a.principal, b.principal),
    diff_field('interest', a.interest, b.interest),
    diff_field('fee', a.fee, b.fee),
    diff_field('penalty', a.penalty, b.penalty),
    diff_field('installment_due', a.installment_due, b.installment_due),
    CASE WHEN a.status <> 'PROCESSING' THEN diff_field('status', a.status, b.status) END);

CREATE OR REPLACE MACRO txn_diff(a, b) AS concat_ws('; ',
    diff_field('merchant_order_no', a.merchant_order_no, b.merchant_order_no),
    diff_field('orig_channel_txn_id', a.orig_channel_txn_id, b.orig_channel_txn_id),
    diff_field('amount', a.amount, b.amount),
    diff_field('fee', a.fee, b.fee),
    diff_field('status', a.status, b.status),
    diff_field('biz_date', a.biz_date, b.biz_date));

CREATE OR REPLACE MACRO bank_diff(a, b) AS concat_ws('; ',
    diff_field('value_date', a.value_date, b.value_date),
    diff_field('direction', a.direction, b.direction),
    diff_field('amount', a.amount, b.amount),
    diff_field('counterparty_account', a.counterparty_account, b.counterparty_account));
