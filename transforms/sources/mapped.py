"""Declarative mapped formats: a CSV or XLSX layout described in recon.toml, not in code.

A new bank or channel layout is a few lines of configuration::

    [formats.acme_bank]               # a format named acme_bank (sources use format = "acme_bank")
    table = "bank_lines"              # bank_lines | channel_txns | platform_orders (required)
    file = "csv"                      # csv | xlsx (default csv)
    encoding = "gb18030"              # csv only: utf-8 (default), gbk/gb18030, utf-8-sig, ...
    delimiter = ","                   # csv only, one character (default ",")
    # sheet = "明细"                   # xlsx only: sheet name or 1-based number (default: first)
    header_row = 3                    # 1-based line (csv) or sheet row (xlsx) of the header;
                                      # rows above it are skipped (default 1)
    skip_footer_prefixes = ["合计"]    # rows whose first non-empty cell starts with one of these
                                      # are footers, not data (default none)
    name_pattern = "acme_*.csv"       # identify: file-name glob (default "*.csv" / "*.xlsx")
    amount_unit = "yuan"              # yuan (2 decimals at most) | fen (integers) (default yuan)
    sign = "debit_credit"             # debit_credit: a debit and a credit column;
                                      # signed: one amount column, positive = credit / money in;
                                      # signed_negative_in: one amount column, negative = money in;
                                      # indicator: one positive amount column plus a direction
                                      #   column (columns.direction) holding credit_values /
                                      #   debit_values (default signed)

    [formats.acme_bank.columns]       # canonical column -> header name in the file
    txn_time = "Trans Date"           # a list of names is joined with a space:
                                      #   txn_time = ["交易日期", "交易时间"]
    debit = "Withdrawal"              # with sign = debit_credit
    credit = "Deposit"
    # amount = "Amount"               # instead of debit/credit, with sign = signed* / indicator
    balance = "Balance"
    counterparty_name = "Payer"
    bank_txn_id = "Ref"
    narrative = "Memo"

    [formats.acme_bank.time_formats]  # per time/date column: strptime formats (string or list)
    txn_time = ["%d/%m/%Y %H:%M", "%d/%m/%Y"]

Mappable columns are the canonical columns of the table (transforms/lake.py),
plus `debit`/`credit` (money out / money in) and, for `sign = "indicator"`,
`direction`. Not mappable, because they are derived: bank_lines.direction
(from the sign), channel_txns.channel (the source's `channel`),
channel_txns.txn_type and platform_orders.order_type (from `type_column`),
and biz_date (the local date of the transaction time).

Required columns: bank_lines needs txn_time or value_date; channel_txns needs
channel_txn_id and txn_time; platform_orders needs order_no, status and
created_at; all need the amount columns their `sign` names. Without a
bank_txn_id column a bank line gets a stable hash of its content; without
account_no the source's `account_no` is used; without currency, CNY.

Further optional keys:

- `type_column = "Type"` (header name) with `refund_values = ["Refund", "退款"]`:
  rows whose type is one of the values are REFUND, others PAY (channel_txns) or
  REPAY (platform_orders); a channel PAY row with money out (a negative signed
  amount) is rejected rather than read as its absolute value. Without a type
  column, channel_txns rows are PAY unless the sign makes them money out (a
  debit, or a negative signed amount), which is REFUND; platform_orders rows
  are REPAY.
- `status_values = { SUCCESS = ["成功"], FAILED = ["失败"] }`: raw status values
  per canonical status (SUCCESS / FAILED, plus PROCESSING for platform_orders).
  Without it the upper-cased value must already be canonical. A channel file
  without a status column is SUCCESS throughout.
- `credit_values` / `debit_values` (sign = indicator): defaults 贷/C/CR/CREDIT/收入/收
  and 借/D/DR/DEBIT/支出/支 (compared case-insensitively).
- `description = "..."`: shown by `recon inspect`.

Header names are compared after removing spaces, TABs and U+3000 and normalizing
full-width parentheses, so `" Amount（CNY） "` in the file matches `"Amount (CNY)"`.
identify() says yes only when the file name matches `name_pattern` and the
header row holds every mapped header name (else it lists the missing and the
found names); normalize() raises the same as an InputFileError naming the
header line, and hints at the other usual encoding when the header would match
under it. A platform_orders layout needs `sign = "signed"` (the default). A
channel `fee` in yuan may have up to 6 decimals and is rounded half-up to the fen.

A row with a cell over 131,072 characters (MAX_CELL_CHARS, transforms/limits.py) is
rejected naming the row, the column and the limit.

Money cells may carry thousands separators, spaces, ¥ and a lone `-` for "no
amount". A row whose required field is empty, or whose amount/time/number does not
parse, is rejected with the column's header name, the expected form and the
text found; the file's other rows are kept. With a balance column the running
balance is checked (file order ascending or descending).
"""

from __future__ import annotations

import codecs
import csv
import fnmatch
from dataclasses import dataclass, field
from pathlib import Path

from transforms import lake
from transforms.config import check_file_pattern, check_keys, key_path, suggest
from transforms.errors import ConfigError, InputFileError
from transforms.sources import sql
from transforms.sources.base import FileContext, Format, Normalized, Verdict, no, yes
from transforms.sources.cnbank import currency_sql, running_balance_check
from transforms.tabular import delimited_rows, is_excel, iter_rows, normalize_header, stage_rows
from transforms.textio import MAX_COLUMNS, BadRow, check_width

TABLES = ("bank_lines", "channel_txns", "platform_orders")
SIGNS = ("debit_credit", "signed", "signed_negative_in", "indicator")
UNITS = ("yuan", "fen")
FILES = ("csv", "xlsx")
STATUSES = {
    "channel_txns": ("SUCCESS", "FAILED"),
    "platform_orders": ("SUCCESS", "FAILED", "PROCESSING"),
}
DERIVED = {
    "bank_lines": {"direction"},
    "channel_txns": {"channel", "txn_type", "biz_date"},
    "platform_orders": {"order_type", "biz_date"},
}
REQUIRED = {
    "bank_lines": [],  # txn_time or value_date: checked separately
    "channel_txns": ["channel_txn_id", "txn_time"],
    "platform_orders": ["order_no", "status", "created_at"],
}
MONEY_TYPE = lake.MONEY
DEFAULT_TIME_FORMATS = [
    "%Y-%m-%d %H:%M:%S",
    "%Y/%m/%d %H:%M:%S",
    "%Y%m%d %H:%M:%S",
    "%Y%m%d%H%M%S",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y/%m/%d %H:%M",
    "%Y-%m-%d",
    "%Y/%m/%d",
    "%Y%m%d",
]
DEFAULT_CREDIT_VALUES = ["贷", "C", "CR", "CREDIT", "收入", "收"]
DEFAULT_DEBIT_VALUES = ["借", "D", "DR", "DEBIT", "支出", "支"]
KEYS = {
    "table",
    "file",
    "encoding",
    "delimiter",
    "sheet",
    "header_row",
    "skip_footer_prefixes",
    "name_pattern",
    "amount_unit",
    "sign",
    "columns",
    "time_formats",
    "type_column",
    "refund_values",
    "status_values",
    "credit_values",
    "debit_values",
    "description",
}


@dataclass(frozen=True)
class MappedSpec:
    name: str
    table: str
    file: str = "csv"
    encoding: str = "utf-8"
    delimiter: str = ","
    sheet: str | int | None = None  # name, or 0-based index once validated
    header_row: int = 1
    skip_footer_prefixes: tuple[str, ...] = ()
    name_pattern: str = "*.csv"
    amount_unit: str = "yuan"
    sign: str = "signed"
    columns: dict[str, tuple[str, ...]] = field(default_factory=dict)
    time_formats: dict[str, tuple[str, ...]] = field(default_factory=dict)
    type_column: str | None = None
    refund_values: tuple[str, ...] = ()
    status_values: dict[str, tuple[str, ...]] = field(default_factory=dict)
    credit_values: tuple[str, ...] = tuple(DEFAULT_CREDIT_VALUES)
    debit_values: tuple[str, ...] = tuple(DEFAULT_DEBIT_VALUES)
    description: str = ""

    def header_names(self) -> list[str]:
        """Every header name the file must have, in config order, without repeats."""
        names = [n for names in self.columns.values() for n in names]
        if self.type_column:
            names.append(self.type_column)
        return list(dict.fromkeys(names))


def mappable_columns(table: str) -> list[str]:
    cols = [c for c, _ in lake.CANONICAL[table] if c not in DERIVED[table]]
    if table in ("bank_lines", "channel_txns"):
        cols += ["debit", "credit", "direction"]
    return cols


def _column_types(table: str) -> dict[str, str]:
    types = dict(lake.CANONICAL[table])
    types.update({"debit": MONEY_TYPE, "credit": MONEY_TYPE, "direction": "VARCHAR"})
    return types


def _str_list(value, path, key: str, allow_empty: bool = False) -> tuple[str, ...]:
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not all(isinstance(v, str) and v for v in items):
        raise ConfigError(path, key, f"expected a string or a list of strings, found {value!r}")
    if not items and not allow_empty:
        raise ConfigError(path, key, "expected at least one value, found an empty list")
    return tuple(items)


def validate_mapped(name: str, spec: dict, config_path: object = "<config>") -> MappedSpec:
    """Check one `[formats.NAME]` table and return it with defaults filled in.

    Raises ConfigError naming the key (`formats.NAME.columns.debit`, ...).
    """
    where = f"formats.{name}"
    path = config_path
    if not isinstance(spec, dict):
        raise ConfigError(path, where, "expected a table ([formats.NAME] with keys)")
    from transforms.sources import FORMATS  # late: the registry imports this module

    if name in {f.name for f in FORMATS}:
        raise ConfigError(path, where, f"{name!r} is a built-in format; choose another name")
    check_keys(spec, KEYS, path, where)

    def choice(key: str, options: tuple[str, ...], default: str | None) -> str:
        value = spec.get(key, default)
        if value not in options:
            raise ConfigError(path, f"{where}.{key}", f"expected one of {options}, found {value!r}")
        return value

    table = choice("table", TABLES, None)
    file = choice("file", FILES, "csv")
    sign = choice("sign", SIGNS, "signed")
    unit = choice("amount_unit", UNITS, "yuan")

    encoding = spec.get("encoding", "utf-8")
    if file == "xlsx" and "encoding" in spec:
        raise ConfigError(path, f"{where}.encoding", 'only for file = "csv"')
    try:
        if not isinstance(encoding, str):
            raise LookupError
        codecs.lookup(encoding)
    except LookupError:
        raise ConfigError(
            path, f"{where}.encoding", f"unknown encoding {encoding!r}; e.g. utf-8 or gb18030"
        ) from None
    if encoding.lower().replace("-", "").replace("_", "") in ("gbk", "gb2312", "cp936"):
        encoding = "gb18030"  # a superset: files labelled GBK often hold GB18030 characters
    delimiter = spec.get("delimiter", ",")
    if not isinstance(delimiter, str) or len(delimiter) != 1 or delimiter in '"\r\n':
        raise ConfigError(
            path, f"{where}.delimiter", f'expected one character such as ",", found {delimiter!r}'
        )
    sheet = spec.get("sheet")
    if sheet is not None:
        if file != "xlsx":
            raise ConfigError(path, f"{where}.sheet", 'only for file = "xlsx"')
        if isinstance(sheet, bool) or not isinstance(sheet, str | int) or sheet == "":
            raise ConfigError(
                path, f"{where}.sheet", f"expected a sheet name or number, found {sheet!r}"
            )
        if isinstance(sheet, int):
            if sheet < 1:
                raise ConfigError(
                    path, f"{where}.sheet", f"sheet numbers start at 1, found {sheet}"
                )
            sheet -= 1
    header_row = spec.get("header_row", 1)
    if isinstance(header_row, bool) or not isinstance(header_row, int) or header_row < 1:
        raise ConfigError(
            path,
            f"{where}.header_row",
            f"expected a line number of 1 or more, found {header_row!r}",
        )
    footers = _str_list(
        spec.get("skip_footer_prefixes", []), path, f"{where}.skip_footer_prefixes", True
    )
    pattern = spec.get("name_pattern", "*.csv" if file == "csv" else "*.xlsx")
    check_file_pattern(pattern, path, f"{where}.name_pattern", "acme_*.csv")
    if file == "xlsx" and not pattern.lower().endswith((".xlsx", ".xlsm", "*")):
        raise ConfigError(
            path, f"{where}.name_pattern", f'file = "xlsx" reads .xlsx files, found {pattern!r}'
        )

    raw_columns = spec.get("columns")
    if not isinstance(raw_columns, dict) or not raw_columns:
        raise ConfigError(
            path, f"{where}.columns", 'required; a table of canonical column = "header name"'
        )
    allowed = mappable_columns(table)
    columns: dict[str, tuple[str, ...]] = {}
    for col, header in raw_columns.items():
        key = key_path(f"{where}.columns", col)
        if col not in allowed:
            if col in DERIVED[table] or col in ("debit", "credit", "direction"):
                hint = f" ({col} is derived, not read); expected one of {', '.join(allowed)}"
            else:
                hint = f"; {suggest(col, allowed)}"
            raise ConfigError(path, key, f"unknown column for {table}{hint}")
        columns[col] = _str_list(header, path, key)

    def need(cols: list[str], why: str) -> None:
        for col in cols:
            if col not in columns:
                raise ConfigError(path, f"{where}.columns.{col}", f"required {why}")

    need(REQUIRED[table], f"for table {table}")
    if table == "bank_lines" and "txn_time" not in columns and "value_date" not in columns:
        raise ConfigError(
            path, f"{where}.columns.txn_time", "required for bank_lines (or value_date)"
        )
    if table == "platform_orders":
        if sign != "signed":
            raise ConfigError(path, f"{where}.sign", "platform_orders amounts are read as signed")
        need(["amount"], "for table platform_orders")
    elif sign == "debit_credit":
        need(["debit", "credit"], 'with sign = "debit_credit"')
        if "amount" in columns:
            raise ConfigError(
                path,
                f"{where}.columns.amount",
                'not with sign = "debit_credit" (use debit and credit)',
            )
    else:
        need(["amount"], f"with sign = {sign!r}")
        for col in ("debit", "credit"):
            if col in columns:
                raise ConfigError(
                    path, f"{where}.columns.{col}", f'only with sign = "debit_credit", not {sign!r}'
                )
    if sign == "indicator":
        need(["direction"], 'with sign = "indicator"')
    elif "direction" in columns:
        raise ConfigError(path, f"{where}.columns.direction", 'only with sign = "indicator"')

    types = _column_types(table)
    raw_formats = spec.get("time_formats", {})
    if not isinstance(raw_formats, dict):
        raise ConfigError(path, f"{where}.time_formats", "expected a table of column = format(s)")
    time_formats = {}
    for col, fmts in raw_formats.items():
        key = key_path(f"{where}.time_formats", col)
        if col not in columns:
            raise ConfigError(path, key, f"not a mapped column; {suggest(col, columns)}")
        if types[col] not in (lake.INSTANT, "DATE"):
            raise ConfigError(path, key, f"{col} is not a time or date column")
        values = _str_list(fmts, path, key)
        for f in values:
            if "%" not in f:
                raise ConfigError(
                    path, key, f'expected strptime formats such as "%d/%m/%Y", found {f!r}'
                )
        time_formats[col] = values

    type_column = spec.get("type_column")
    if type_column is not None:
        if table == "bank_lines":
            raise ConfigError(
                path, f"{where}.type_column", "only for channel_txns or platform_orders"
            )
        if not isinstance(type_column, str) or not type_column:
            raise ConfigError(
                path, f"{where}.type_column", f"expected a header name, found {type_column!r}"
            )
    refund_values = _str_list(spec.get("refund_values", []), path, f"{where}.refund_values", True)
    if type_column and not refund_values:
        raise ConfigError(
            path, f"{where}.refund_values", "required with type_column (the refund values)"
        )
    if refund_values and not type_column:
        raise ConfigError(path, f"{where}.type_column", "required with refund_values")

    status_values: dict[str, tuple[str, ...]] = {}
    raw_status = spec.get("status_values", {})
    if not isinstance(raw_status, dict):
        raise ConfigError(
            path,
            f"{where}.status_values",
            f"expected a table STATUS = [values], found {raw_status!r}",
        )
    if raw_status:
        if table not in STATUSES:
            raise ConfigError(path, f"{where}.status_values", f"not for {table}")
        if "status" not in columns:
            raise ConfigError(path, f"{where}.columns.status", "required with status_values")
        check_keys(raw_status, STATUSES[table], path, f"{where}.status_values", "status")
        for status, values in raw_status.items():
            key = key_path(f"{where}.status_values", status)
            status_values[status] = _str_list(values, path, key)

    def values_key(key: str, default: list[str]) -> tuple[str, ...]:
        if key in spec and sign != "indicator":
            raise ConfigError(path, f"{where}.{key}", 'only with sign = "indicator"')
        return _str_list(spec.get(key, default), path, f"{where}.{key}")

    description = spec.get("description", "")
    if not isinstance(description, str):
        raise ConfigError(path, f"{where}.description", "expected a string")

    return MappedSpec(
        name=name,
        table=table,
        file=file,
        encoding=encoding,
        delimiter=delimiter,
        sheet=sheet,
        header_row=header_row,
        skip_footer_prefixes=footers,
        name_pattern=pattern,
        amount_unit=unit,
        sign=sign,
        columns=columns,
        time_formats=time_formats,
        type_column=type_column,
        refund_values=refund_values,
        status_values=status_values,
        credit_values=values_key("credit_values", DEFAULT_CREDIT_VALUES),
        debit_values=values_key("debit_values", DEFAULT_DEBIT_VALUES),
        description=description,
    )


def _lit(value: str) -> str:
    return sql.sql_literal(value)


def _in_list(values) -> str:
    return ", ".join(_lit(v) for v in values)


def _label(text: str) -> str:
    """Text placed inside a SQL string literal by the sql helpers."""
    return text.replace("'", "''")


class MappedFormat(Format):
    """A CSV/XLSX layout described in the config (see the module docstring)."""

    def __init__(self, name: str, spec: dict | MappedSpec):
        self.spec = spec if isinstance(spec, MappedSpec) else validate_mapped(name, spec)
        self.name = name
        self.table = self.spec.table
        self.description = self.spec.description or f"mapped {self.spec.file} layout ({self.table})"

    # -- reading ---------------------------------------------------------------------------

    def _rows(self, path: Path):
        s = self.spec
        if s.file == "xlsx":
            if not is_excel(path):
                raise InputFileError(path, None, 'expected an .xlsx workbook (file = "xlsx")')
            return iter_rows(path, sheet=s.sheet)
        return delimited_rows(path, s.encoding, s.delimiter)

    def _header(self, path: Path, rows) -> tuple[list[str], list[str]]:
        """(header cells, missing header names) from the configured header row."""
        s = self.spec
        where = "sheet row" if s.file == "xlsx" else "line"
        for line_no, cells in rows:
            if line_no < s.header_row:
                continue
            if line_no > s.header_row:
                break
            return cells, self._missing(cells)
        raise InputFileError(
            path,
            s.header_row,
            f"expected the header on {where} {s.header_row} (header_row); it is empty or missing",
        )

    def _missing(self, cells: list[str]) -> list[str]:
        names = [normalize_header(c) for c in cells]
        return [n for n in self.spec.header_names() if normalize_header(n) not in names]

    def _encoding_hint(self, path: Path) -> str:
        """When the header matches under the other usual encoding, say so."""
        s = self.spec
        if s.file != "csv":
            return ""
        try:
            with open(path, "rb") as f:
                for _ in range(s.header_row - 1):
                    f.readline()
                line = f.readline()
        except OSError:
            return ""
        for other in ("utf-8", "gb18030"):
            if codecs.lookup(other).name == codecs.lookup(s.encoding).name:
                continue
            try:
                text = line.decode(other).lstrip("\ufeff").rstrip("\r\n")
            except UnicodeDecodeError:
                continue
            if not self._missing(next(csv.reader([text], delimiter=s.delimiter), [])):
                return f" (decoded as {other} the header has every mapped column: is the file {other}, not {s.encoding}?)"
        return ""

    def identify(self, path: Path, head: bytes) -> Verdict:
        s = self.spec
        if not fnmatch.fnmatch(path.name, s.name_pattern):
            return no(f"file name does not match name_pattern {s.name_pattern!r}")
        try:
            header, missing = self._header(path, self._rows(path))
        except InputFileError as exc:
            return no(str(exc).removeprefix(f"{path}").lstrip(", :"))
        if missing:
            found = [c.strip() for c in header if c.strip()]
            return no(
                f"header row {s.header_row} lacks {missing}; columns found: {found}"
                + self._encoding_hint(path)
            )
        return yes(f"header row {s.header_row} has every mapped column")

    # -- normalizing -----------------------------------------------------------------------

    def normalize(self, ctx: FileContext) -> Normalized:
        s = self.spec
        path = ctx.path
        rows = self._rows(path)
        header, missing = self._header(path, rows)
        if missing:
            found = [c.strip() for c in header if c.strip()]
            raise InputFileError(
                path,
                s.header_row,
                f"expected columns {missing} (format {self.name}); columns found: {found}"
                + self._encoding_hint(path),
            )
        if len(header) > MAX_COLUMNS:  # e.g. a sheet formatted out to column XFD
            header = header[: max(i for i, c in enumerate(header) if c.strip()) + 1]
            check_width(path, s.header_row, len(header))
        names = [normalize_header(c) for c in header]
        data, unreadable = [], []
        for line_no, cells in rows:
            if isinstance(cells, BadRow):
                unreadable.append((line_no, cells.raw, cells.reason))
                continue
            first = next((c.strip() for c in cells if c.strip()), "")
            if s.skip_footer_prefixes and first.startswith(s.skip_footer_prefixes):
                continue
            data.append((line_no, cells))
        cols = [f"c{i}" for i in range(len(header))]
        staged = stage_rows(
            ctx.con,
            ctx.t("rows"),
            data,
            cols,
            "," if s.file == "xlsx" else s.delimiter,
            labels=header,
        )
        sql.add_rejects(ctx.con, staged, unreadable)

        def text(col: str) -> str:
            """Cleaned text of a mapped column (several headers joined by a space), else NULL."""
            if col not in s.columns:
                return "NULL::VARCHAR"
            parts = [sql.clean(f"c{names.index(normalize_header(h))}") for h in s.columns[col]]
            return (
                parts[0] if len(parts) == 1 else f"NULLIF(concat_ws(' ', {', '.join(parts)}), '')"
            )

        def label(col: str) -> str:
            return _label("+".join(s.columns[col]))

        types = _column_types(s.table)
        exprs: dict[str, str] = {}
        checks: list[tuple[str, str, str]] = []
        required: list[tuple[str, str]] = []
        local: dict[str, str] = {}
        extra_reasons: list[str] = []
        for col in s.columns:
            typ = types[col]
            raw = text(col)
            if typ == lake.MONEY:
                raw = f"NULLIF({raw}, '-')"  # banks print a lone dash for "no amount"
                if s.amount_unit == "fen":
                    parsed = sql.fen(raw)
                elif col == "fee":
                    parsed = sql.money_rounded(raw)
                else:
                    parsed = sql.money(raw)
                unit = "integer fen" if s.amount_unit == "fen" else "yuan"
                checks.append((f"{label(col)} (expected {unit})", raw, parsed))
            elif typ in (lake.INSTANT, "DATE"):
                fmts = [_label(f) for f in s.time_formats.get(col, DEFAULT_TIME_FORMATS)]
                parsed = sql.local_time(raw, fmts)
                local[col] = parsed
                checks.append((f"{label(col)} (expected {' or '.join(fmts)})", raw, parsed))
                parsed = (
                    sql.instant(parsed, ctx.timezone)
                    if typ == lake.INSTANT
                    else f"CAST({parsed} AS DATE)"
                )
            elif typ == "INTEGER":
                parsed = sql.integer(raw)
                checks.append((f"{label(col)} (expected a whole number)", raw, parsed))
            else:
                parsed = raw
            exprs[col] = parsed

        for col in REQUIRED[s.table]:
            required.append((label(col), text(col)))

        # the signed amount, positive = money in (credit / pay)
        if s.table != "platform_orders":
            if s.sign == "debit_credit":
                debit, credit = exprs["debit"], exprs["credit"]
                signed = (
                    f"CASE WHEN {debit} IS NULL AND {credit} IS NULL THEN NULL "
                    f"ELSE coalesce({credit}, 0) - coalesce({debit}, 0) END"
                )
                extra_reasons.append(
                    f"CASE WHEN {debit} <> 0 AND {credit} <> 0 THEN '{label('debit')}/{label('credit')}: "
                    "expected one of them, found both' END"
                )
                amount_label = f"{label('debit')} or {label('credit')}"
            elif s.sign == "indicator":
                d = f"upper({text('direction')})"
                upper = lambda vals: _in_list([v.upper() for v in vals])  # noqa: E731
                signed = (
                    f"CASE WHEN {d} IN ({upper(s.credit_values)}) THEN {exprs['amount']} "
                    f"WHEN {d} IN ({upper(s.debit_values)}) THEN -({exprs['amount']}) END"
                )
                allowed = _label("/".join(s.credit_values + s.debit_values))
                extra_reasons.append(
                    f"CASE WHEN {text('direction')} IS NULL OR {d} NOT IN "
                    f"({upper(s.credit_values + s.debit_values)}) THEN '{label('direction')}: "
                    f"expected one of {allowed}, found ' || coalesce({text('direction')}, 'nothing') END"
                )
                amount_label = label("amount")
            else:
                factor = "-" if s.sign == "signed_negative_in" else ""
                signed = f"{factor}({exprs['amount']})"
                amount_label = label("amount")
            required_amount = (
                f"CASE WHEN ({signed}) = 0 THEN 'amount: expected a non-zero amount, found 0' END"
            )
            # the last word, when nothing more specific explains a missing amount
            fallback = f"CASE WHEN ({signed}) IS NULL THEN 'amount: expected {amount_label}, found none' END"

        select: dict[str, str] = {}
        if s.table == "bank_lines":
            t, v = local.get("txn_time"), local.get("value_date")
            select["account_no"] = exprs.get("account_no", sql.sql_literal(ctx.source.account_no))
            select["value_date"] = (
                f"coalesce(CAST({v} AS DATE), CAST({t} AS DATE))"
                if v and t
                else f"CAST({v or t} AS DATE)"
            )
            select["txn_time"] = exprs.get("txn_time", "NULL::TIMESTAMPTZ")
            select["direction"] = f"CASE WHEN ({signed}) >= 0 THEN 'CREDIT' ELSE 'DEBIT' END"
            select["amount"] = f"abs({signed})"
            select["currency"] = currency_sql(exprs.get("currency", "NULL::VARCHAR"))
            for col in ("balance", "counterparty_name", "counterparty_account", "narrative"):
                select[col] = exprs.get(col, "NULL")
            stated_id = exprs.get("bank_txn_id", "NULL::VARCHAR")
            content = ", ".join(
                [select["account_no"], t or v, signed]
                + [
                    select[c]
                    for c in ("balance", "counterparty_account", "counterparty_name", "narrative")
                ]
            )
            select["bank_txn_id"] = (
                f"coalesce({stated_id}, 'L' || substr(sha256(concat_ws('|', {content})), 1, 20))"
            )
            select["_signed"] = signed
            required.append(
                (
                    label("txn_time" if "txn_time" in s.columns else "value_date"),
                    text("txn_time" if "txn_time" in s.columns else "value_date"),
                )
            )
            extra_reasons.append(required_amount)
        elif s.table == "channel_txns":
            t = local["txn_time"]
            if s.type_column:
                kind = sql.clean(f"c{names.index(normalize_header(s.type_column))}")
                is_refund = f"(coalesce({kind}, '') IN ({_in_list(s.refund_values)}))"
                # the type column gives the direction: a payment must be money in, not the
                # absolute value of money out
                extra_reasons.append(
                    f"CASE WHEN NOT {is_refund} AND ({signed}) < 0 THEN '{amount_label}: "
                    f"expected a positive amount on a payment row, found ' || ({signed}) END"
                )
            else:
                is_refund = f"(({signed}) < 0)"
            select["channel"] = sql.sql_literal(ctx.source.channel)
            select["txn_type"] = f"CASE WHEN {is_refund} THEN 'REFUND' ELSE 'PAY' END"
            select["amount"] = f"abs({signed})"
            select["status"] = self._status(
                text("status") if "status" in s.columns else None, extra_reasons
            )
            select["biz_date"] = f"CAST({t} AS DATE)"
            for col in exprs:
                if col not in ("debit", "credit", "direction", "amount", "status"):
                    select[col] = exprs[col]
            extra_reasons.append(required_amount)
        else:  # platform_orders
            created, paid = local["created_at"], local.get("paid_at")
            if s.type_column:
                kind = sql.clean(f"c{names.index(normalize_header(s.type_column))}")
                select["order_type"] = (
                    f"CASE WHEN coalesce({kind}, '') IN ({_in_list(s.refund_values)}) THEN 'REFUND' ELSE 'REPAY' END"
                )
            else:
                select["order_type"] = "'REPAY'"
            select["status"] = self._status(text("status"), extra_reasons)
            select["biz_date"] = (
                f"CAST(coalesce({paid}, {created}) AS DATE)" if paid else f"CAST({created} AS DATE)"
            )
            for col in exprs:
                if col != "status":
                    select[col] = exprs[col]
            required.append((label("amount"), text("amount")))

        reason = sql.first_reason(
            sql.required(required) if required else "NULL",
            sql.field_checks(checks) if checks else "NULL",
            *extra_reasons,
        )
        if s.table != "platform_orders":
            reason = f"coalesce({reason}, {fallback})"
        body = ",\n                ".join(f"{expr} AS {col}" for col, expr in select.items())
        typed = ctx.t("typed")
        ctx.con.execute(
            f"""
            CREATE OR REPLACE TABLE {typed} AS
            SELECT line_no, raw,
                {body},
                coalesce(reject_reason, {reason}) AS reject_reason
            FROM {staged}
            """
        )
        rows_in = ctx.con.execute(f"SELECT count(*) FROM {typed}").fetchall()[0][0]
        checks_out = []
        if s.table == "bank_lines" and "balance" in s.columns:
            checks_out.append(running_balance_check(ctx.con, typed))
        return Normalized(s.table, typed, rows_in, checks_out)

    def _status(self, raw: str | None, reasons: list[str]) -> str:
        """Canonical status from the mapped status column; unknown values are rejects."""
        s = self.spec
        if raw is None:
            return "'SUCCESS'"
        allowed = STATUSES[s.table]
        if s.status_values:
            whens = " ".join(
                f"WHEN {raw} IN ({_in_list(vals)}) THEN '{status}'"
                for status, vals in s.status_values.items()
            )
            expr = f"CASE {whens} END"
            known = _label("/".join(v for vals in s.status_values.values() for v in vals))
        else:
            expr = f"CASE WHEN upper({raw}) IN ({_in_list(allowed)}) THEN upper({raw}) END"
            known = "/".join(allowed)
        label = _label("+".join(s.columns["status"]))
        reasons.append(
            f"CASE WHEN ({expr}) IS NULL THEN '{label}: expected one of {known}, found ' "
            f"|| coalesce({raw}, 'nothing') END"
        )
        return expr
