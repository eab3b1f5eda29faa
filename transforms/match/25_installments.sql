-- What each installment touched today had collected before today (settled
-- debits of earlier dates), so over-collection is caught across months.
CREATE OR REPLACE TABLE installments_today AS
SELECT DISTINCT loan_no, installment_no FROM stg_platform_orders
WHERE order_type = 'REPAY' AND status = 'SUCCESS' AND loan_no IS NOT NULL;

CREATE OR REPLACE TABLE installment_history AS
SELECT h.loan_no, h.installment_no,
       CAST(sum(h.collected) AS DECIMAL(18,2)) AS collected, max(h.owed) AS owed
FROM {{history:installments:installments_today.loan_no}} h
SEMI JOIN installments_today t USING (loan_no, installment_no)
GROUP BY h.loan_no, h.installment_no;
