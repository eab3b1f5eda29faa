-- Lines of a collection account that no settlement (credits) or distribution (debits)
-- explains: money leaving matters as much as money arriving. Lines of lender and fee
-- statements are only read for the distributions; their other traffic is not judged.
CREATE OR REPLACE TABLE findings_bank AS
SELECT 'BANK_UNEXPLAINED' AS exception_type, b.bank_txn_id AS ref, b.value_date AS biz_date,
       s.pending_days, b.inbox_date AS evidence_date, b.account_no, b.bank_txn_id,
       NULL::DECIMAL(18,2) AS expected_amount,
       CASE WHEN b.direction = 'DEBIT' THEN -b.amount ELSE b.amount END AS actual_amount,
       format('{} {} {} {} {}: {}', b.direction, CAST(b.amount AS VARCHAR),
              CASE WHEN b.direction = 'DEBIT' THEN 'to' ELSE 'from' END,
              coalesce(b.counterparty_name, '?'), coalesce(b.counterparty_account, ''), coalesce(b.narrative, '')) AS detail,
       b.file_name, b.line_no
FROM stg_bank_lines b
JOIN source_pending s ON s.source = b.source
ANTI JOIN match_settlement m ON m.account_no = b.account_no AND m.bank_txn_id = b.bank_txn_id
ANTI JOIN match_distribution d ON d.account_no = b.account_no AND d.bank_txn_id = b.bank_txn_id
WHERE s.account_role = 'collection';
