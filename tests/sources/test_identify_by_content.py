"""A file delivered as `.dat`, `.txt`, without an extension or with a date as extension is
recognised by its content; a file that is clearly not a statement is still refused, with
every format's reason and, when it looks like a table, a hint to map it."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from transforms.errors import UnrecognizedFormat
from transforms.inspect import inspect_file

FIXTURES = Path(__file__).parent.parent / "fixtures"
REFUSED = Path(__file__).parent.parent / "refused"
SAMPLES = [
    "cn_bank/bocom_debit_借贷.csv",
    "cn_bank/abc_活期交易明细.xlsx",
    "cn_bank/spd_交易明细.xls",
    "cn_bank/icbc_corporate_historydetail_gbk.csv",
    "mt940/generic.sta",
    "camt053/camt053.v8.generated.xml",
    "camt053/camt053_download.zip",
    "wechatpay_bill/legacy_tradebill_ALL.csv",
    "alipay_bill/alipay_20261101_业务明细.csv",
]


@pytest.mark.parametrize("renamed", ["statement.dat", "statement", "statement.20261101"])
@pytest.mark.parametrize("sample", SAMPLES)
def test_sample_under_a_generic_name_reads_the_same(tmp_path, sample, renamed):
    original = FIXTURES / sample
    copy = tmp_path / renamed
    shutil.copyfile(original, copy)
    a, b = inspect_file(original), inspect_file(copy)
    assert b.format == a.format == original.parent.name
    assert (b.rows_in, b.rows_ok, b.rows_rejected) == (a.rows_in, a.rows_ok, a.rows_rejected)
    assert [{**r, "file_name": None} for r in b.rows] == [{**r, "file_name": None} for r in a.rows]


def test_a_file_that_is_clearly_not_a_statement_is_still_refused(tmp_path):
    path = tmp_path / "notes.dat"
    path.write_text("meeting notes\nnothing to see\n", encoding="utf-8")
    with pytest.raises(UnrecognizedFormat) as exc:
        inspect_file(path)
    assert len(exc.value.reasons) >= 7 and "looks like a table" not in str(exc.value)


def test_refused_tabular_file_suggests_a_mapped_format(tmp_path):
    path = tmp_path / "acme.dat"
    shutil.copyfile(REFUSED / "wechat_personal_export.csv", path)
    with pytest.raises(UnrecognizedFormat) as exc:
        inspect_file(path)
    message = str(exc.value)
    assert "cn_bank: line 17 is not a bank statement header" in message
    assert "looks like a table (columns on line 17" in message and "mapped format" in message


def test_a_zip_that_is_not_a_statement_is_refused(tmp_path):
    import zipfile

    path = tmp_path / "photos"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("a.jpg", b"\xff\xd8\xff")
    with pytest.raises(UnrecognizedFormat, match="camt053: zip without a .xml entry"):
        inspect_file(path)
