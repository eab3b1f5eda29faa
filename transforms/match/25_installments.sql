-- What each installment touched today had collected before today (settled
-- debits of earlier dates), so over-collection is caught across months. A repayment
-- reopened today (06_reopened.sql) no longer counts among its installment's collections.
CREATE OR REPLACE TABLE installments_today AS
SELECT DISTINCT loan_no, installment_no FROM stg_platform_orders
WHERE order_type = 'REPAY' AND status = 'SUCCESS' AND loan_no IS NOT NULL;

CREATE OR REPLACE TABLE installment_history AS
SELECT loan_no, installment_no,
       CAST(sum(collected) AS DECIMAL(18,2)) AS collected, max(owed) AS owed
FROM (
    SELECT h.loan_no, h.installment_no, h.collected, h.owed
    FROM {{history:installments:installments_today.loan_no}} h
    SEMI JOIN installments_today t USING (loan_no, installment_no)
    UNION ALL
    SELECT loan_no, installment_no, -collected, NULL
    FROM reopened_collections SEMI JOIN installments_today USING (loan_no, installment_no))
GROUP BY loan_no, installment_no;

-- Only this step reads it: 30 MB at 1M rows, held to the end of the date otherwise.
DROP TABLE installments_today;
