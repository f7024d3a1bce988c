"""Helpers for the import/export tests: writing .xlsx/.csv files and starting jobs."""

from __future__ import annotations

import csv
import datetime
from collections.abc import Iterable, Sequence
from pathlib import Path

import openpyxl
import xlsxwriter
from django.core.files import File

from kefu.customers.io.importing import import_check, import_commit, import_job_create
from kefu.customers.models.imports import ImportMode

# A few valid resident ID numbers (checksums right) for tests.
IDS = ["11010519491231002X", "110101199003070011", "440308199901011234"]


def valid_ids():
    """Distinct valid resident IDs, computed (GB 11643 check digit)."""
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    codes = "10X98765432"
    start = datetime.date(1950, 1, 1)
    seq = 0
    while True:
        seq += 1
        born = start + datetime.timedelta(days=seq // 1000)
        body = f"110101{born:%Y%m%d}{seq % 1000:03d}"
        total = sum(int(d) * w for d, w in zip(body, weights, strict=True))
        yield body + codes[total % 11]


def write_xlsx(path: Path, header: Sequence[str], rows: Iterable[Sequence], *, shared_strings: bool = False) -> Path:
    """Inline strings (what the export writes, constant memory) or, with
    `shared_strings`, a shared-strings table (what Excel writes)."""
    options = {"strings_to_numbers": False} if shared_strings else {"constant_memory": True}
    workbook = xlsxwriter.Workbook(str(path), options)
    sheet = workbook.add_worksheet("客户档案")
    date_format = workbook.add_format({"num_format": "yyyy-mm-dd"})
    for col, text in enumerate(header):
        sheet.write_string(0, col, text)
    for r, row in enumerate(rows, start=1):
        for col, value in enumerate(row):
            if value is None or value == "":
                continue
            if isinstance(value, str):
                sheet.write_string(r, col, value)
            elif isinstance(value, datetime.date):
                sheet.write_datetime(r, col, value, date_format)
            else:
                sheet.write(r, col, value)
    workbook.close()
    return path


def write_openpyxl(path: Path, header: Sequence[str], rows: Iterable[Sequence]) -> Path:
    """A workbook written by openpyxl (date cells with a date style, numbers, booleans)."""
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(list(header))
    for row in rows:
        sheet.append(list(row))
    workbook.save(path)
    return path


def write_csv(path: Path, header: Sequence[str], rows: Iterable[Sequence], *, encoding: str = "utf-8-sig") -> Path:
    with path.open("w", encoding=encoding, newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def upload(actor, path: Path):
    with path.open("rb") as handle:
        return import_job_create(actor=actor, upload=File(handle, name=path.name), max_bytes=None)


def check(actor, path: Path):
    return import_check(job=upload(actor, path))


def run_import(actor, path: Path, mode: str = ImportMode.ALL_OR_NOTHING):
    job = check(actor, path)
    return import_commit(job=job, mode=mode)


def read_xlsx(path: Path) -> list[tuple]:
    workbook = openpyxl.load_workbook(path, read_only=True)
    try:
        return [tuple(row) for row in workbook.active.iter_rows(values_only=True)]
    finally:
        workbook.close()
