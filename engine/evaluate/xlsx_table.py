"""Input rows from an Excel workbook (``kpi eval --inputs rows.xlsx``, ``kpi run --data``): the
first sheet, its first row the header — what ``kpi template --format xlsx`` writes.

The sheet is turned into CSV text cell by cell and read by
:func:`engine.evaluate.table.read_csv_text`, so a workbook is checked exactly as a CSV is (names,
ragged rows, sizes, every cell's type): a number is written as Python writes it (``1.0``), text
as it is, an empty cell as a blank, a date or time as ISO text (``2026-01-15``; a period column
typed as a date by Excel therefore reads as a day: keep it text, as the template does). Empty
rows after the last filled one are left out (a sheet formatted further down than it is filled);
an empty row between filled ones is a row of blanks, so that errors name the rows Excel shows
(data row n is the sheet's row n + 1).
"""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

from engine.core.errors import InputError
from engine.evaluate.table import MAX_COLUMNS, Columns, read_csv_text

#: most bytes a workbook may unpack to (its XML): a small file that unpacks to gigabytes (a
#: "zip bomb") is refused before it is read
MAX_UNPACKED_BYTES = 1 << 30


def read_xlsx(p: Path) -> Columns:
    """The first sheet of an .xlsx workbook as input rows (InputError KPI-E061 when the file is
    not a workbook openpyxl can read, or unpacks to more than :data:`MAX_UNPACKED_BYTES`)."""
    from openpyxl import load_workbook

    try:
        with zipfile.ZipFile(p) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
        if unpacked > MAX_UNPACKED_BYTES:
            raise InputError(
                f"{p.name} unpacks to {unpacked:,} bytes; a workbook of data may unpack to at "
                f"most {MAX_UNPACKED_BYTES:,}",
                code="KPI-E061",
                hint="give the data as CSV or Parquet",
            )
        book = load_workbook(p, read_only=True, data_only=True)
    except (zipfile.BadZipFile, OSError, KeyError, ValueError, TypeError) as err:
        raise InputError(
            f"cannot read {p.name} as an Excel workbook: {type(err).__name__}",
            code="KPI-E061",
            hint="save it from Excel as .xlsx (not .xls or .xlsm), or as CSV",
        ) from None
    try:
        sheet = book.worksheets[0]
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        width: int | None = None
        blank = 0
        for row in sheet.iter_rows(values_only=True):
            cells = [_text(v) for v in row[: (MAX_COLUMNS + 1) if width is None else width]]
            if width is None:  # the header: up to its last named column
                while cells and cells[-1] == "":
                    cells.pop()
                width = len(cells)
            elif not any(cells):
                blank += 1  # written only if a filled row follows
                continue
            cells += [""] * (width - len(cells))
            writer.writerows([[""] * width] * blank)
            blank = 0
            writer.writerow(cells)
    finally:
        book.close()
    return read_csv_text(buffer.getvalue(), source=p.name)


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time(0) else value.isoformat(" ")
    if isinstance(value, date | time):
        return value.isoformat()
    return str(value)
