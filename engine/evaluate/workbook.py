"""Excel workbooks (.xlsx) → columns, read with python-calamine (read-only, no macros run).

One sheet is read: the one named (``--sheet NAME``, or ``book.xlsx#NAME``), else the first. Its
first non-empty row is the header; empty rows and columns after the data are left out. Cells
keep their Excel types: a number is a number, a date a date (an ISO date; a date with a time an
ISO timestamp), a formula its cached value (what Excel last computed: the formula is not run), a
boolean true/false (refused where a number is needed). An Excel error value (``#DIV/0!``,
``#N/A`` …) is refused, with its cell: calamine would read it as a blank.

Hostile files are refused before calamine decompresses anything (docs/evaluation.md): a file
past :data:`MAX_FILE_BYTES`, a zip whose parts would expand past :data:`MAX_XML_BYTES` (a zip
bomb: every part is inflated here, in pieces, counting its real size and checking its CRC, so
that a lying size field cannot get past), more than :data:`MAX_SHEETS` sheets, or a sheet past
:data:`MAX_CELLS` cells.
"""

from __future__ import annotations

import html
import io
import re
import zipfile
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from engine.core.errors import InputError
from engine.evaluate.table import MAX_COLUMNS, WORKBOOK_SUFFIXES, Columns, _unique_names

#: the workbook suffixes every reader accepts (files, `kpi run --source`, the web upload, HTTP):
#: .xlsx only, the one media type the server and the upload page take
SUFFIXES = WORKBOOK_SUFFIXES
XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
#: most bytes of a workbook file
MAX_FILE_BYTES = 64 * 1024 * 1024
#: most bytes its zip parts expand to, all together (sheets, shared strings, styles …)
MAX_XML_BYTES = 256 * 1024 * 1024
MAX_PARTS = 10_000
MAX_SHEETS = 256
#: most cells of the sheet read (rows × columns of its used range)
MAX_CELLS = 10_000_000
_CHUNK = 1024 * 1024


_SHEET_TAG = re.compile(rb"<(?:\w+:)?sheet\s([^>]*?)/?>")
_REL_TAG = re.compile(rb"<(?:\w+:)?Relationship\s([^>]*?)/?>")
_ATTR = re.compile(rb'([\w:]+)\s*=\s*"([^"]*)"')
_ERROR_TAG = re.compile(rb"<(?:\w+:)?c\s[^>]*?\bt\s*=\s*[\"']e[\"'][^>]*>")
_REF = re.compile(rb"\br\s*=\s*[\"']([A-Z]{1,3})([0-9]{1,7})[\"']")

Cell = Any  # str | float | int | bool | date | datetime | time | timedelta


def split_sheet(path: Path | str) -> tuple[Path, str | None]:
    """``book.xlsx#Sheet1`` → (``book.xlsx``, ``Sheet1``); a path that exists as written, or
    that names no workbook before a ``#``, is kept whole."""
    p = Path(path)
    text = str(path)
    if p.exists() or "#" not in text:
        return p, None
    head, _, sheet = text.rpartition("#")
    if Path(head).suffix.lower() in SUFFIXES and sheet:
        return Path(head), sheet
    return p, None


def _attrs(raw: bytes) -> dict[str, str]:
    return {
        k.decode("utf-8", "replace").rpartition(":")[2]: html.unescape(v.decode("utf-8", "replace"))
        for k, v in _ATTR.findall(raw)
    }


def _sheet_parts(z: zipfile.ZipFile) -> dict[str, str]:
    """Sheet name → its part (``xl/worksheets/sheet1.xml``), from workbook.xml and its rels;
    empty if they cannot be read (every worksheet part is then checked for error cells)."""
    try:
        book = z.read("xl/workbook.xml")
        rels = z.read("xl/_rels/workbook.xml.rels")
    except (KeyError, zipfile.BadZipFile, OSError):
        return {}
    targets = {}
    for raw in _REL_TAG.findall(rels):
        a = _attrs(raw)
        if "Id" in a and "Target" in a:
            target = a["Target"]
            targets[a["Id"]] = target.lstrip("/") if target.startswith("/") else f"xl/{target}"
    parts = {}
    for raw in _SHEET_TAG.findall(book):
        a = _attrs(raw)
        if "name" in a and a.get("id") in targets:
            parts[a["name"]] = targets[a["id"]]
    return parts


def _inflate(z: zipfile.ZipFile, source: str, scan: set[str]) -> dict[str, tuple[int, int]]:
    """Inflate every part (counting its real size against :data:`MAX_XML_BYTES`); of the parts in
    ``scan``, the (row, column) of the first Excel error cell."""
    infos = z.infolist()
    if len(infos) > MAX_PARTS:
        raise InputError(f"{source} has {len(infos):,} zip parts", code="KPI-E050")
    declared = sum(i.file_size for i in infos)
    if declared > MAX_XML_BYTES:
        raise _too_large(source, declared)
    total = 0
    errors: dict[str, tuple[int, int]] = {}
    for info in infos:
        tail = b""
        with z.open(info) as fh:
            while chunk := fh.read(_CHUNK):
                total += len(chunk)
                if total > MAX_XML_BYTES:
                    raise _too_large(source, total)
                if info.filename in scan and info.filename not in errors:
                    window = tail + chunk
                    found = _ERROR_TAG.search(window)
                    ref = _REF.search(found.group(0)) if found else None
                    if ref:
                        errors[info.filename] = (int(ref.group(2)), _column_index(ref.group(1)))
                    elif found:  # a writer that leaves out the cell's reference
                        errors[info.filename] = (0, -1)
                    tail = window[-512:]
    return errors


def _column_index(letters: bytes) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ch - 64
    return n - 1


def _too_large(source: str, size: int) -> InputError:
    return InputError(
        f"{source} expands to more than {MAX_XML_BYTES // (1024 * 1024):,} MB of sheet data "
        f"({size:,} bytes so far): it is refused before it is read",
        code="KPI-E050",
        hint="split the workbook, or save the sheet as CSV UTF-8",
    )


def read_sheet(
    data: bytes, sheet: str | None, *, source: str, max_rows: int | None = None
) -> tuple[list[str], list[list[Cell]], str]:
    """The header (as text) and data rows of ``sheet`` (default: the first), and the sheet's
    name. Raises :class:`InputError` for a file that is not a workbook, a sheet it does not have,
    too much data (``max_rows``: data rows of the used range, counted before any is read), or an
    Excel error cell."""
    from python_calamine import CalamineError, CalamineWorkbook

    if len(data) > MAX_FILE_BYTES:
        raise InputError(
            f"{source} is {len(data):,} bytes; a workbook may have at most "
            f"{MAX_FILE_BYTES // (1024 * 1024)} MB",
            code="KPI-E050",
            hint="split the workbook, or save the sheet as CSV UTF-8",
        )
    try:
        z = zipfile.ZipFile(io.BytesIO(data))
        parts = _sheet_parts(z)
        if sheet is not None and parts and sheet not in parts:
            raise _no_sheet(source, sheet, list(parts))
        if len(parts) > MAX_SHEETS:
            raise InputError(
                f"{source} has {len(parts):,} sheets; at most {MAX_SHEETS} are read",
                code="KPI-E050",
            )
        chosen = parts.get(sheet) if sheet is not None else next(iter(parts.values()), None)
        scan = {chosen} if chosen else {n for n in z.namelist() if n.startswith("xl/worksheets/")}
        errors = _inflate(z, source, scan)
        book = CalamineWorkbook.from_filelike(io.BytesIO(data))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, EOFError) as err:
        raise _not_workbook(source, str(err)) from None  # NotImplementedError: a zip method
    except CalamineError as err:
        raise _not_workbook(source, _first_line(err)) from None
    with book:
        names = list(book.sheet_names)
        if not names:
            raise _not_workbook(source, "it has no sheets")
        if len(names) > MAX_SHEETS:
            raise InputError(
                f"{source} has {len(names):,} sheets; at most {MAX_SHEETS} are read",
                code="KPI-E050",
            )
        name = names[0] if sheet is None else sheet
        if name not in names:
            raise _no_sheet(source, name, names)
        try:
            values = book.get_sheet_by_name(name)
            cells = values.height * values.width
            if cells > MAX_CELLS:
                raise InputError(
                    f"sheet '{name}' of {source} has {values.height:,} rows × {values.width:,} "
                    f"columns = {cells:,} cells; at most {MAX_CELLS:,} are read",
                    code="KPI-E050",
                    hint="split the sheet, or save it as CSV UTF-8",
                )
            if max_rows is not None and values.height - 1 > max_rows:
                raise InputError(
                    f"sheet '{name}' of {source} has {values.height - 1:,} rows below its header "
                    f"(its used range); one evaluation takes at most {max_rows:,}",
                    code="KPI-E009",
                    kind="too_many_rows",
                )
            start = values.start or (0, 0)
            rows = values.to_python(skip_empty_area=True)
        except CalamineError as err:  # a broken sheet
            raise _not_workbook(source, _first_line(err)) from None
    header, body = _trim(rows)
    error = errors.get(parts.get(name, ""), None) or next(iter(errors.values()), None)
    if error is not None:
        raise _error_cell(source, name, error, start, header)
    return header, body, name


def _first_line(err: Exception) -> str:
    return str(err).splitlines()[0] if str(err) else type(err).__name__


def _trim(rows: list[list[Cell]]) -> tuple[list[str], list[list[Cell]]]:
    """The header as text and the data rows, without the empty rows and columns at the end."""
    while rows and all(_blank(v) for v in rows[-1]):
        rows.pop()
    if not rows:
        return [], []
    width = max(len(r) for r in rows)
    while width and all(len(r) < width or _blank(r[width - 1]) for r in rows):
        width -= 1
    header = [_header_text(v) for v in rows[0][:width]]
    return header, [r[:width] + [""] * (width - len(r)) for r in rows[1:]]


def _blank(v: Cell) -> bool:
    return v is None or (isinstance(v, str) and not v.strip())


def _header_text(v: Cell) -> str:
    return text_cell(v).strip()


def _error_cell(
    source: str, sheet: str, at: tuple[int, int], start: tuple[int, int], header: list[str]
) -> InputError:
    excel_row, col = at
    index = col - start[1]
    letters = ""
    n = col + 1
    while n:
        n, rem = divmod(n - 1, 26)
        letters = chr(65 + rem) + letters
    row = excel_row - (start[0] + 1)
    cell = f"cell {letters}{excel_row}" if excel_row else "a cell"
    return InputError(
        f"sheet '{sheet}' of {source}, {cell}, holds an Excel error value "
        "(#DIV/0!, #N/A, #VALUE! …), not a value",
        code="KPI-E051",
        row=row if excel_row and row >= 1 else None,
        column=header[index] if excel_row and 0 <= index < len(header) else None,
        hint="fix the formula in Excel (or clear the cell for a blank), save, and send it again",
    )


def _not_workbook(source: str, why: str) -> InputError:
    return InputError(
        f"{source} is not a readable .xlsx workbook" + (f": {why[:200]}" if why else ""),
        code="KPI-E048",
        hint="save it from Excel as an Excel Workbook (*.xlsx) without a password, "
        "or as CSV UTF-8 / 在 Excel 中另存为 Excel 工作簿(*.xlsx,不设密码)或 CSV UTF-8",
    )


def _no_sheet(source: str, sheet: str, names: list[str]) -> InputError:
    shown = ", ".join(f"'{n}'" for n in names[:20]) + (" …" if len(names) > 20 else "")
    return InputError(
        f"{source} has no sheet '{sheet[:100]}'; its sheets: {shown}",
        code="KPI-E049",
        hint="name one of its sheets (--sheet NAME, or book.xlsx#NAME)",
    )


def _day_text(v: date | datetime) -> str:
    if isinstance(v, datetime):
        if v.time() == time(0):
            return v.date().isoformat()
        return v.isoformat(sep=" ")
    return v.isoformat()


def text_cell(v: Cell) -> str:
    """A cell as the text a CSV of the sheet holds (how Excel's "CSV UTF-8" writes it, with ISO
    dates): blank "", whole numbers without ``.0``, true/false."""
    if v is None:
        return ""
    if isinstance(v, str):
        return v
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return str(int(v)) if v.is_integer() and abs(v) < 2**53 else repr(v)
    if isinstance(v, date):  # datetime too
        return _day_text(v)
    if isinstance(v, time):
        return v.isoformat()
    if isinstance(v, timedelta):
        return str(v)
    return str(v)


def typed_cell(v: Cell) -> Any:
    """A cell as an input value: numbers and booleans as they are, dates as ISO text, a blank as
    None."""
    if isinstance(v, str):
        return v if v.strip() else None
    if isinstance(v, bool | int | float):
        return v
    return text_cell(v)


def columns_of(
    header: list[str], rows: list[list[Cell]], convert: Callable[[Cell], Any]
) -> dict[str, list[Any]]:
    """The sheet's rows as columns (the header checked by the caller)."""
    return {name: [convert(r[i]) for r in rows] for i, name in enumerate(header)}


def read_xlsx(
    data: bytes,
    sheet: str | None = None,
    *,
    source: str = "the workbook",
    text: bool = False,
    max_rows: int | None = None,
) -> Columns:
    """A sheet of a workbook as :class:`Columns`: typed values (input rows: numbers stay numbers)
    or, with ``text``, every cell as the text a CSV of it holds (a source's raw records, typed
    then as DuckDB types a CSV: :mod:`engine.evaluate.measures.memory`)."""
    header, rows, name = read_sheet(data, sheet, source=source, max_rows=max_rows)
    where = f"sheet '{name}' of {source}"
    if not header:
        raise InputError(f"{where} is empty: a sheet needs a header row", code="KPI-E007")
    if len(header) > MAX_COLUMNS:
        raise InputError(
            f"{where} has {len(header):,} columns; at most {MAX_COLUMNS:,} are read",
            code="KPI-E008",
        )
    _unique_names(header)
    if max_rows is not None and len(rows) > max_rows:
        raise InputError(
            f"{where} has {len(rows):,} rows; one evaluation takes at most {max_rows:,}",
            code="KPI-E009",
            kind="too_many_rows",
        )
    columns = columns_of(header, rows, text_cell if text else typed_cell)
    return Columns(len(rows), dict(columns), text_only=text)
