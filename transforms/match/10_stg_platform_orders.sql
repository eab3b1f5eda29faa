-- One row per platform order as known on the report date.
-- A byte-identical file delivered twice counts once (its first delivery); the
-- latest delivery of an order_no wins (status moves PROCESSING -> SUCCESS).
CREATE OR REPLACE TABLE stg_platform_orders AS
WITH first_copy AS (
    SELECT * FROM raw_platform_orders
    QUALIFY dense_rank() OVER (PARTITION BY file_sha256 ORDER BY inbox_date, source, file_name) = 1
)
SELECT *
FROM first_copy
QUALIFY row_number() OVER (PARTITION BY order_no ORDER BY inbox_date DESC, line_no DESC) = 1
