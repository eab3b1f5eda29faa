-- The originals and earlier refunds of today's refund claims (24_refund_claims.sql),
-- looked up by id in a step of their own: the {{history:...}} lookups need those tables first.
CREATE OR REPLACE TABLE refund_originals AS
SELECT order_no, amount, status
FROM stg_platform_orders
WHERE order_type = 'REPAY' AND order_no IN (SELECT orig_order_no FROM refund_claims)
UNION ALL
SELECT * FROM (
    SELECT order_no, amount, status FROM {{history:order_keys:settled_originals_wanted.order_no}}
    WHERE order_type = 'REPAY'
    QUALIFY row_number() OVER (PARTITION BY order_no ORDER BY settled_on DESC) = 1);

CREATE OR REPLACE TABLE earlier_refunds AS
SELECT orig_order_no, CAST(sum(amount) AS DECIMAL(18,2)) AS refunded
FROM {{history:refunds:refund_claims.orig_order_no}}
GROUP BY orig_order_no;

-- Refunds of one original in refund order, each with what was refunded up to and including it.
CREATE OR REPLACE TABLE refund_netting AS
SELECT c.*, o.amount AS original_amount, o.status AS original_status,
       coalesce(e.refunded, 0) + sum(c.amount) OVER (
           PARTITION BY c.orig_order_no ORDER BY coalesce(c.paid_at, c.created_at), c.order_no
           ROWS UNBOUNDED PRECEDING) AS refunded_so_far
FROM refund_claims c
LEFT JOIN refund_originals o ON o.order_no = c.orig_order_no
LEFT JOIN earlier_refunds e ON e.orig_order_no = c.orig_order_no;
