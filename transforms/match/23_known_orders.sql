CREATE OR REPLACE TABLE known_orders AS
SELECT *
FROM hist_order_keys
WHERE order_no IN {{keys:wanted_orders.order_no}} AND order_type = 'REPAY'
QUALIFY row_number() OVER (PARTITION BY order_no ORDER BY settled_on DESC) = 1
