-- The peer a data engineer would write in an afternoon: layers A and B of one day in plain
-- DuckDB SQL, over the same files `recon run` reads (bench/probes.py `duckdb_script` runs it,
-- after transcoding the two GBK files to UTF-8 as the floor does). Typed reads with explicit
-- columns and exact decimals, the platform <-> channel join, amount and status differences,
-- what is missing on either side, duplicate debits, settlement sums per channel and trade
-- date against the bank credits, Parquet out. No line numbers, no rejects, no state.
-- {platform} {wechat} {alipay} {allinpay} {bank} {out} are file paths.

CREATE TABLE orders AS
SELECT * FROM read_csv('{platform}', header = true, auto_detect = false, delim = ',', quote = '"',
    columns = {'order_no': 'VARCHAR', 'order_type': 'VARCHAR', 'orig_order_no': 'VARCHAR',
               'loan_no': 'VARCHAR', 'installment_no': 'INTEGER', 'borrower_id': 'VARCHAR',
               'lender_code': 'VARCHAR', 'channel': 'VARCHAR', 'channel_txn_id': 'VARCHAR',
               'amount': 'DECIMAL(18,2)', 'principal': 'DECIMAL(18,2)', 'interest': 'DECIMAL(18,2)',
               'fee': 'DECIMAL(18,2)', 'penalty': 'DECIMAL(18,2)', 'installment_due': 'DECIMAL(18,2)',
               'status': 'VARCHAR', 'created_at': 'TIMESTAMP', 'paid_at': 'TIMESTAMP'},
    store_rejects = true);  -- a row that does not parse is set aside, not the file

-- WeChat: every field starts with a backtick; the last two lines are the summary. Its layout
-- (24 or 27 columns) names the columns: {wx:NAME} is the column of header NAME.
CREATE TABLE wechat AS
SELECT 'WECHAT' AS channel, {wx:微信订单号} AS channel_txn_id, {wx:商户订单号} AS merchant_order_no,
       CASE WHEN {wx:交易状态} = 'REFUND' THEN 'REFUND' ELSE 'PAY' END AS txn_type,
       CAST(CASE WHEN {wx:交易状态} = 'REFUND' THEN {wx:退款金额} ELSE {wx:金额} END AS DECIMAL(18,2)) AS amount,
       CAST(round(CAST({wx:手续费} AS DECIMAL(24,6)), 2) AS DECIMAL(18,2)) AS fee,
       'SUCCESS' AS status, CAST(CAST(c0 AS TIMESTAMP) AS DATE) AS trade_date
FROM (SELECT * REPLACE (ltrim(c0, '`') AS c0) FROM read_csv('{wechat}', header = false, skip = 1,
          auto_detect = false, delim = ',`', quote = '', null_padding = true,
          columns = {'c0': 'VARCHAR', 'c1': 'VARCHAR', 'c2': 'VARCHAR', 'c3': 'VARCHAR', 'c4': 'VARCHAR', 'c5': 'VARCHAR', 'c6': 'VARCHAR', 'c7': 'VARCHAR', 'c8': 'VARCHAR', 'c9': 'VARCHAR', 'c10': 'VARCHAR', 'c11': 'VARCHAR', 'c12': 'VARCHAR', 'c13': 'VARCHAR', 'c14': 'VARCHAR', 'c15': 'VARCHAR', 'c16': 'VARCHAR', 'c17': 'VARCHAR', 'c18': 'VARCHAR', 'c19': 'VARCHAR', 'c20': 'VARCHAR', 'c21': 'VARCHAR', 'c22': 'VARCHAR', 'c23': 'VARCHAR', 'c24': 'VARCHAR', 'c25': 'VARCHAR', 'c26': 'VARCHAR', 'c27': 'VARCHAR', 'c28': 'VARCHAR', 'c29': 'VARCHAR'})
      WHERE c0 LIKE '`20%');

-- Alipay (transcoded): # header and footer lines, ids with a trailing TAB, signed amounts.
CREATE TABLE alipay AS
SELECT 'ALIPAY' AS channel,
       CASE WHEN kind = '退款' THEN trade_no || '_' || refund_no ELSE trade_no END AS channel_txn_id,
       CASE WHEN kind = '退款' THEN refund_no ELSE order_no END AS merchant_order_no,
       CASE WHEN kind = '退款' THEN 'REFUND' ELSE 'PAY' END AS txn_type,
       abs(CAST(amount AS DECIMAL(18,2))) AS amount, -CAST(fee AS DECIMAL(18,2)) AS fee,
       'SUCCESS' AS status, CAST(CAST(done AS TIMESTAMP) AS DATE) AS trade_date
FROM (SELECT trim(column00, E'\t ') AS trade_no, trim(column01, E'\t ') AS order_no,
             column02 AS kind, column05 AS done, column11 AS amount,
             trim(column21, E'\t ') AS refund_no, column22 AS fee
      FROM read_csv('{alipay}', header = false, skip = 5, auto_detect = false, delim = ',',
                    quote = '"', comment = '#', all_varchar = true, null_padding = true,
                    columns = {'column00': 'VARCHAR', 'column01': 'VARCHAR', 'column02': 'VARCHAR',
                               'column03': 'VARCHAR', 'column04': 'VARCHAR', 'column05': 'VARCHAR',
                               'column06': 'VARCHAR', 'column07': 'VARCHAR', 'column08': 'VARCHAR',
                               'column09': 'VARCHAR', 'column10': 'VARCHAR', 'column11': 'VARCHAR',
                               'column12': 'VARCHAR', 'column13': 'VARCHAR', 'column14': 'VARCHAR',
                               'column15': 'VARCHAR', 'column16': 'VARCHAR', 'column17': 'VARCHAR',
                               'column18': 'VARCHAR', 'column19': 'VARCHAR', 'column20': 'VARCHAR',
                               'column21': 'VARCHAR', 'column22': 'VARCHAR', 'column23': 'VARCHAR',
                               'column24': 'VARCHAR'}));

-- Allinpay withholding file: fen amounts, a TRAILER line.
CREATE TABLE allinpay AS
SELECT 'ALLINPAY' AS channel, id AS channel_txn_id, order_no AS merchant_order_no,
       CASE WHEN kind IN ('退货', '退款') THEN 'REFUND' ELSE 'PAY' END AS txn_type,
       CAST(CAST(fen AS DECIMAL(18,0)) * 0.01 AS DECIMAL(18,2)) AS amount,
       CAST(CAST(fee_fen AS DECIMAL(18,0)) * 0.01 AS DECIMAL(18,2)) AS fee,
       'SUCCESS' AS status, CAST(strptime(ts, '%Y%m%d%H%M%S') AS DATE) AS trade_date
FROM read_csv('{allinpay}', header = true, auto_detect = false, delim = '|', quote = '',
              null_padding = true,
              columns = {'id': 'VARCHAR', 'kind': 'VARCHAR', 'fen': 'VARCHAR', 'commission': 'VARCHAR',
                         'ts': 'VARCHAR', 'order_no': 'VARCHAR', 'orig_order_no': 'VARCHAR',
                         'orig_id': 'VARCHAR', 'mode': 'VARCHAR', 'ext': 'VARCHAR',
                         'settle_fen': 'VARCHAR', 'fee_fen': 'VARCHAR', 'card': 'VARCHAR'})
WHERE id <> 'TRAILER';

CREATE TABLE txns AS
SELECT * FROM wechat UNION ALL SELECT * FROM alipay UNION ALL SELECT * FROM allinpay;

-- Layer A: by merchant order no, else by channel_txn_id.
CREATE TABLE pairs AS
SELECT o.order_no, o.status AS p_status, o.amount AS p_amount, o.loan_no, o.installment_no,
       o.installment_due, t.channel, t.channel_txn_id, t.status AS c_status, t.amount AS c_amount
FROM orders o
JOIN txns t ON t.txn_type = 'PAY'
           AND (t.merchant_order_no = o.order_no)
WHERE o.order_type = 'REPAY';

CREATE TABLE differences AS
SELECT 'AMOUNT_MISMATCH' AS kind, order_no AS ref, p_amount AS expected, c_amount AS actual
FROM pairs WHERE p_status = 'SUCCESS' AND c_status = 'SUCCESS' AND p_amount <> c_amount
UNION ALL
SELECT 'PLATFORM_NOT_PAID', order_no, p_amount, c_amount
FROM pairs WHERE p_status <> 'SUCCESS' AND c_status = 'SUCCESS'
UNION ALL
SELECT 'CHANNEL_FAILED', order_no, p_amount, c_amount
FROM pairs WHERE p_status = 'SUCCESS' AND c_status <> 'SUCCESS'
UNION ALL
SELECT 'MISSING_ON_CHANNEL', o.order_no, o.amount, NULL
FROM orders o ANTI JOIN pairs p USING (order_no)
WHERE o.order_type = 'REPAY' AND o.status = 'SUCCESS'
UNION ALL
SELECT 'MISSING_ON_PLATFORM', coalesce(t.merchant_order_no, t.channel_txn_id), NULL, t.amount
FROM txns t ANTI JOIN orders o ON o.order_no = t.merchant_order_no
WHERE t.txn_type = 'PAY' AND t.status = 'SUCCESS'
UNION ALL
SELECT 'DUPLICATE_DEBIT', order_no, min(p_amount), sum(c_amount) - min(p_amount)
FROM pairs WHERE c_status = 'SUCCESS' GROUP BY order_no HAVING count(*) > 1
UNION ALL
SELECT 'DUPLICATE_DEBIT', loan_no || '#' || installment_no, max(installment_due), sum(p_amount)
FROM (SELECT DISTINCT order_no, loan_no, installment_no, installment_due, p_amount FROM pairs
      WHERE p_status = 'SUCCESS' AND c_status = 'SUCCESS')
GROUP BY loan_no, installment_no HAVING sum(p_amount) > max(installment_due);

-- Layer B: each channel's net per trade date, due the next day, against its bank credits.
CREATE TABLE credits AS
SELECT CASE WHEN column07 LIKE '%支付宝%' THEN 'ALIPAY' WHEN column07 LIKE '%财付通%' THEN 'WECHAT'
            WHEN column07 LIKE '%通联%' THEN 'ALLINPAY' END AS channel,
       CAST(strptime(column10, '%Y%m%d') AS DATE) AS value_date,
       CAST(replace(column04, ',', '') AS DECIMAL(18,2)) AS amount
FROM read_csv('{bank}', header = false, skip = 3, auto_detect = false, delim = ',', quote = '"',
              all_varchar = true, null_padding = true,
              columns = {'column00': 'VARCHAR', 'column01': 'VARCHAR', 'column02': 'VARCHAR',
                         'column03': 'VARCHAR', 'column04': 'VARCHAR', 'column05': 'VARCHAR',
                         'column06': 'VARCHAR', 'column07': 'VARCHAR', 'column08': 'VARCHAR',
                         'column09': 'VARCHAR', 'column10': 'VARCHAR', 'column11': 'VARCHAR',
                         'column12': 'VARCHAR', 'column13': 'VARCHAR'})
WHERE column04 IS NOT NULL AND column00 <> '合计';

CREATE TABLE settlement AS
SELECT s.channel, s.trade_date, s.trade_date + 1 AS settle_date, s.expected, c.amount AS credited,
       CASE WHEN c.amount IS NULL THEN 'SETTLEMENT_MISSING'
            WHEN c.amount <> s.expected THEN 'SETTLEMENT_MISMATCH' ELSE 'MATCHED' END AS status
FROM (SELECT channel, trade_date,
             CAST(sum(CASE WHEN txn_type = 'PAY' THEN amount ELSE -amount END) - sum(fee)
                  AS DECIMAL(18,2)) AS expected
      FROM txns WHERE status = 'SUCCESS' GROUP BY ALL) s
LEFT JOIN credits c ON c.channel = s.channel AND c.value_date = s.trade_date + 1;

COPY orders TO '{out}/orders.parquet' (FORMAT parquet);
COPY txns TO '{out}/channel_txns.parquet' (FORMAT parquet);
COPY differences TO '{out}/differences.parquet' (FORMAT parquet);
COPY settlement TO '{out}/settlement.parquet' (FORMAT parquet);
