-- Platform orders in play on the report date: those carried in the previous
-- state plus the rows that arrived today. A row of an order already settled
-- (matched and judged on an earlier date) is a re-delivery and is dropped; the
-- latest delivery of an order_no wins (status moves PROCESSING -> SUCCESS).
-- (A table, not a materialized CTE: at 10M rows it must be able to spill to disk.)
CREATE OR REPLACE TABLE stg_platform_orders_candidates AS
WITH settled AS (
    -- Only settled keys recent enough to be re-delivered today are looked up (see
    -- recent_order_keys); rows dated before that window are checked against all of history.
    SELECT n.order_no FROM new_platform_orders n
    SEMI JOIN recent_order_keys k ON k.order_no = n.order_no
    UNION ALL
    SELECT order_no FROM hist_order_keys WHERE order_no IN {{keys:late_orders.order_no}}
),
arrived AS (
    SELECT * FROM new_platform_orders
    ANTI JOIN settled USING (order_no)
)
SELECT * FROM prev_orders UNION ALL BY NAME SELECT * FROM arrived;

CREATE OR REPLACE TABLE stg_platform_orders AS
WITH repeated AS (
    -- delivered more than once: the latest delivery wins (window over these keys only)
    SELECT order_no FROM stg_platform_orders_candidates GROUP BY order_no HAVING count(*) > 1
)
SELECT * FROM stg_platform_orders_candidates ANTI JOIN repeated USING (order_no)
UNION ALL
SELECT * FROM (SELECT * FROM stg_platform_orders_candidates SEMI JOIN repeated USING (order_no))
QUALIFY row_number() OVER (
    PARTITION BY order_no ORDER BY inbox_date DESC, file_name DESC, line_no DESC) = 1;

DROP TABLE stg_platform_orders_candidates;
