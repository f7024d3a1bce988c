"""Reading spreadsheets: the fast sheet reader gives exactly what openpyxl's own row
reader gives (shared and inline strings, numbers, dates, booleans, gaps); CSV encodings."""

import datetime

import openpyxl
import pytest

from kefu.core.errors import ValidationFailed
from kefu.customers.io import reading
from kefu.customers.io.reading import cell_text, open_rows
from tests.factories_customers_io import write_csv, write_openpyxl, write_xlsx

ROWS = [
    ["张三", 13812345678, datetime.date(1990, 3, 7), True, None, "=1+2"],
    [None, None, None, None, None, None],
    ["李四", 3.5, datetime.datetime(2026, 1, 31, 8, 30), False, "末尾", "  空格  "],
]
HEADER = ["名称", "手机/电话", "生日", "大客户", "备注", "公式"]


def rows_of(path, *, fast=True, monkeypatch=None):
    if not fast:
        monkeypatch.setattr(reading, "_fast_possible", lambda workbook, sheet: False)
    with path.open("rb") as handle, open_rows(handle, path.name) as rows:
        return [(n, [cell_text(v) for v in values]) for n, values in rows if any(v is not None for v in values)]


@pytest.mark.parametrize("writer", ["inline", "shared", "openpyxl"])
def test_fast_reader_matches_openpyxl(tmp_path, monkeypatch, writer):
    path = tmp_path / f"{writer}.xlsx"
    if writer == "openpyxl":
        write_openpyxl(path, HEADER, ROWS)
    else:
        write_xlsx(path, HEADER, ROWS, shared_strings=writer == "shared")

    fast = rows_of(path)
    slow = rows_of(path, fast=False, monkeypatch=monkeypatch)

    assert fast == slow
    # openpyxl stores "=1+2" as a formula never calculated: data-only reading sees no value
    formula = "" if writer == "openpyxl" else "=1+2"
    assert fast[1] == (2, ["张三", "13812345678", "1990-03-07", "是", "", formula])
    assert fast[2][0] == 4 and fast[2][1][:3] == ["李四", "3.5", "2026-01-31 08:30:00"]


def test_reader_takes_the_active_sheet_and_handles_rich_text(tmp_path):
    from openpyxl.cell.rich_text import CellRichText, TextBlock
    from openpyxl.cell.text import InlineFont

    workbook = openpyxl.Workbook()
    workbook.active.title = "其他"
    sheet = workbook.create_sheet("客户")
    sheet.append(["名称"])
    sheet["A2"] = CellRichText(["张", TextBlock(InlineFont(b=True), "三")])
    workbook.active = 1
    path = tmp_path / "rich.xlsx"
    workbook.save(path)
    assert rows_of(path) == [(1, ["名称"]), (2, ["张三"])]


def test_not_a_workbook_is_a_clear_error(tmp_path):
    path = tmp_path / "fake.xlsx"
    path.write_bytes(b"not a zip")
    with pytest.raises(ValidationFailed, match="无法读取该 Excel 文件"):
        rows_of(path)


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030", "gbk"])
def test_csv_encodings(tmp_path, encoding):
    path = write_csv(tmp_path / "x.csv", ["名称", "备注"], [["张三", "多行\n备注"], ["镕", ""]], encoding=encoding)
    assert rows_of(path) == [(1, ["名称", "备注"]), (2, ["张三", "多行\n备注"]), (3, ["镕", ""])]


def test_cell_text():
    assert cell_text(13812345678.0) == "13812345678"
    assert cell_text(1.25) == "1.25"
    assert cell_text(datetime.datetime(2026, 1, 2)) == "2026-01-02"
    assert cell_text(False) == "否"
    assert cell_text("  x ") == "x"
