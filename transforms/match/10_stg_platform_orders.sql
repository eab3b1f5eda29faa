-- Platform orders in play on the report date: those carried in the previous
-- state plus the rows that arrived today. A row of an order already settled
-- (matched and judged on an earlier date) is a re-delivery and is dropped; the
-- latest delivery of an order_no wins (status moves PROCESSING -> SUCCESS).
CREATE OR REPLACE TABLE stg_platform_orders AS
WITH settled AS (
    -- Only settled keys recent enough to be re-delivered today are looked up (see
    -- recent_order_keys); rows dated before that window are checked against all of history.
    SELECT n.order_no FROM new_platform_orders n
    SEMI JOIN recent_order_keys k ON k.order_no = n.order_no
    UNION ALL
    SELECT n.order_no FROM new_platform_orders n
    SEMI JOIN hist_order_keys k ON k.order_no = n.order_no
    WHERE n.biz_date < (SELECT recent_from FROM params) OR n.biz_date IS NULL
),
arrived AS (
    SELECT * FROM new_platform_orders
    ANTI JOIN settled USING (order_no)
)
SELECT *
FROM (SELECT * FROM prev_orders UNION ALL BY NAME SELECT * FROM arrived)
QUALIFY row_number() OVER (
    PARTITION BY order_no ORDER BY inbox_date DESC, file_name DESC, line_no DESC) = 1
