-- Platform orders in play on the report date: those carried in the previous
-- state plus the rows that arrived today. A row of an order already settled
-- (matched and judged on an earlier date) is a re-delivery and is dropped; the
-- latest delivery of an order_no wins (status moves PROCESSING -> SUCCESS).
-- A re-delivery whose content differs is a DATA_CONFLICT (13_data_conflicts.sql), and a
-- repayment's is judged again with its counterpart (06_reopened.sql: `reopened_orders`).
-- (Tables, not materialized CTEs: at 10M rows they must be able to spill to disk.)
-- A view, read three times (its key column twice): a copy of every row costs more.
CREATE OR REPLACE VIEW stg_platform_orders_candidates AS
SELECT * FROM prev_orders
UNION ALL BY NAME
SELECT * FROM new_platform_orders ANTI JOIN settled_orders_seen USING (order_no)
UNION ALL BY NAME
SELECT * FROM reopened_orders;

CREATE OR REPLACE TABLE repeated_orders AS
-- delivered more than once while in play: the latest delivery wins (window over these keys only)
SELECT * FROM stg_platform_orders_candidates
SEMI JOIN (SELECT order_no FROM stg_platform_orders_candidates GROUP BY order_no HAVING count(*) > 1)
    USING (order_no);

CREATE OR REPLACE TABLE stg_platform_orders AS
SELECT * FROM stg_platform_orders_candidates ANTI JOIN repeated_orders USING (order_no)
UNION ALL
SELECT * FROM repeated_orders
QUALIFY row_number() OVER (
    PARTITION BY order_no ORDER BY inbox_date DESC, file_name DESC, line_no DESC) = 1;

DROP VIEW stg_platform_orders_candidates;
