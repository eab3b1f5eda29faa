-- Credits to a collection account that no expected settlement explains.
-- Debits, and lender/fee accounts, are explained by distribution (layer C),
-- which is not built yet, so they are not judged here.
CREATE OR REPLACE TABLE findings_bank AS
SELECT 'BANK_UNEXPLAINED' AS exception_type, b.bank_txn_id AS ref, b.value_date AS biz_date,
       s.pending_days, b.inbox_date AS evidence_date, b.account_no, b.bank_txn_id,
       NULL::DECIMAL(18,2) AS expected_amount, b.amount AS actual_amount,
       format('{} {} from {} {}: {}', b.direction, CAST(b.amount AS VARCHAR), coalesce(b.counterparty_name, '?'), coalesce(b.counterparty_account, ''), coalesce(b.narrative, '')) AS detail,
       b.file_name, b.line_no
FROM stg_bank_lines b
JOIN source_pending s ON s.source = b.source
ANTI JOIN match_settlement m ON m.account_no = b.account_no AND m.bank_txn_id = b.bank_txn_id
WHERE b.direction = 'CREDIT' AND s.account_role = 'collection'
