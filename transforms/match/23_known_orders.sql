CREATE OR REPLACE TABLE known_orders AS
SELECT *
FROM {{history:order_keys:wanted_orders.order_no}}
WHERE order_type = 'REPAY'
QUALIFY row_number() OVER (PARTITION BY order_no ORDER BY settled_on DESC) = 1
