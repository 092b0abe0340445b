"""Evaluation input: rows from CSV, JSON, Parquet or .xlsx → validated columns.

Rows arrive as a list of flat objects (JSON), as columns (a mapping of column name to a list
or NumPy array: the fast path for large data), or from a file. Every bad cell is an
:class:`InputError` naming its 1-based data row and column, and nothing is evaluated.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from engine.core.characters import describe_char, foreign_digit
from engine.core.errors import InputError
from engine.core.periods import Period, parse_period
from engine.evaluate.cells import export_number, export_period

Rows = Sequence[Mapping[str, Any]] | Mapping[str, Any]
#: the Excel workbooks read (read_table, `kpi run --source`, the web upload and HTTP take the same:
#: .xlsx, whose media type the server accepts; an .xlsm is refused with a hint to save as .xlsx)
WORKBOOK_SUFFIXES = (".xlsx",)


@dataclass
class Columns:
    """Input as columns of equal length ``n``; ``text_only``: every cell is text (a CSV).
    ``headers``: the header each column had in the file, for the columns read by a label
    (engine.evaluate.headers), so that messages name the column as the file does."""

    n: int
    data: dict[str, Any]
    text_only: bool = False
    headers: dict[str, str] = field(default_factory=dict)

    def __contains__(self, name: str) -> bool:
        return name in self.data

    def header(self, name: str) -> str:
        """The column ``name`` as the file heads it."""
        return self.headers.get(name, name)


def read_table(path: Path | str, sheet: str | None = None) -> Columns:
    """Read CSV (with a header; UTF-8, UTF-16 or GB18030: :mod:`engine.core.encodings`), JSON (a
    list of objects), Parquet or an Excel workbook (``sheet``, or ``book.xlsx#Sheet``: default
    the first sheet), by file extension."""
    p, named = _split_sheet(path)
    sheet = sheet if sheet is not None else named
    suffix = p.suffix.lower()
    if not p.is_file():
        raise InputError(f"file not found: {p}", code="KPI-E001")
    if sheet is not None and suffix not in WORKBOOK_SUFFIXES:
        raise InputError(
            f"{p.name} is not an Excel workbook: a sheet is chosen only in a .xlsx file",
            code="KPI-E052",
        )
    if suffix == ".csv":
        return read_csv_text(read_text_file(p), source=str(p))
    if suffix in WORKBOOK_SUFFIXES:
        return _read_xlsx(p, sheet)
    if suffix == ".json":
        try:
            data = json.loads(p.read_text(encoding="utf-8-sig"), parse_constant=_no_constant)
        except (ValueError, UnicodeDecodeError) as err:
            raise InputError(f"{p} is not valid JSON: {err}", code="KPI-E004") from None
        if not isinstance(data, list):
            raise InputError(f"{p} must hold a JSON list of row objects", code="KPI-E005")
        return to_columns(data)
    if suffix == ".parquet":
        return _read_parquet(p)
    raise InputError(
        f"cannot read '{p.name}': use a .csv, .json, .parquet or .xlsx file",
        code="KPI-E002",
        hint="save the workbook as .xlsx (Excel: File → Save As → Excel Workbook)"
        if suffix in (".xlsm", ".xls", ".xlsb")
        else None,
    )


def read_text_file(p: Path) -> str:
    """A text file's content, decoded as :func:`engine.core.encodings.decode_text` says."""
    from engine.core.encodings import decode_text

    return decode_text(p.read_bytes(), source=str(p))[0]


def _split_sheet(path: Path | str) -> tuple[Path, str | None]:
    from engine.evaluate.workbook import split_sheet

    return split_sheet(path)


def _read_xlsx(p: Path, sheet: str | None) -> Columns:
    from engine.evaluate.workbook import MAX_FILE_BYTES, read_xlsx

    with p.open("rb") as fh:
        data = fh.read(MAX_FILE_BYTES + 1)
    return read_xlsx(data, sheet, source=str(p))


MAX_COLUMNS = 2_000


def read_csv_text(text: str, *, source: str = "the CSV", max_rows: int | None = None) -> Columns:
    """CSV text (a header row first) as text columns. Strict: an unclosed quote, a NUL character,
    a ragged row, a repeated or missing column name, too many columns or rows are errors."""
    if "\x00" in text:
        line = text[: text.index("\x00")].count("\n") + 1
        raise InputError(
            f"{source} holds a NUL character (line {line}): it is not a text CSV",
            code="KPI-E006",
            kind="malformed",
        )
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(reader, None)
        if not header:
            raise InputError(f"{source} is empty: a CSV needs a header row", code="KPI-E007")
        if len(header) > MAX_COLUMNS:
            raise InputError(
                f"{source} has {len(header):,} columns; at most {MAX_COLUMNS:,} are read",
                code="KPI-E008",
            )
        names = [h.strip() for h in header]
        _unique_names(names)
        cols: list[list[str]] = [[] for _ in names]
        n = 0
        for record in reader:
            if not record:
                continue
            n += 1
            if max_rows is not None and n > max_rows:
                raise InputError(
                    f"{source} has more than {max_rows:,} rows; one evaluation takes at most "
                    f"{max_rows:,}",
                    code="KPI-E009",
                    kind="too_many_rows",
                )
            if len(record) != len(names):
                raise InputError(
                    f"has {len(record)} cells but the header has {len(names)}",
                    code="KPI-E006",
                    row=n,
                )
            for col, cell in zip(cols, record, strict=True):
                col.append(cell)
    except csv.Error as err:
        raise InputError(
            f"{source} is not valid CSV near data row {reader.line_num - 1}: {err}",
            code="KPI-E006",
            kind="malformed",
        ) from None
    return Columns(n, dict(zip(names, cols, strict=True)), text_only=True)


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number JSON allows")


def _read_parquet(p: Path) -> Columns:
    try:
        import duckdb
    except ImportError:  # pragma: no cover - duckdb is a dependency
        raise InputError("reading Parquet needs the duckdb package", code="KPI-E010") from None
    try:
        con = duckdb.connect()
        rel = con.read_parquet(str(p))
        names = list(rel.columns)
        arrays = rel.fetchnumpy()
    except duckdb.Error as err:
        raise InputError(f"cannot read {p.name} as Parquet: {err}", code="KPI-E010") from None
    data: dict[str, Any] = {}
    for name in names:
        arr: Any = arrays[name]
        if np.ma.isMaskedArray(arr):
            arr = (
                np.ma.filled(arr.astype(np.float64), np.nan)
                if arr.dtype.kind in "iuf"
                else np.ma.filled(arr, None)
            )
        if arr.dtype.kind == "M":  # a DATE / TIMESTAMP column: its day, as a period label
            data[name] = [str(v) for v in np.datetime_as_string(arr, unit="D")]
            continue
        data[name] = (
            arr
            if arr.dtype.kind in "iuf"
            else [None if v is None else str(v) for v in arr.tolist()]
        )
    n = len(next(iter(data.values()))) if data else 0
    return Columns(n, data)


def _unique_names(names: list[str]) -> None:
    seen: set[str] = set()
    for name in names:
        if not name:
            raise InputError("a column of the header has no name", code="KPI-E011")
        if name in seen:
            raise InputError(
                f"column '{_clip(name)}' appears twice in the header",
                code="KPI-E011",
                column=_clip(name),
            )
        seen.add(name)


def _clip(text: str) -> str:
    return text if len(text) <= 60 else text[:57] + "…"


def to_columns(rows: Rows | Columns) -> Columns:
    """Rows (a list of objects) or columns (a mapping of name → list/array) as :class:`Columns`."""
    if isinstance(rows, Columns):
        return rows
    if isinstance(rows, Mapping):
        for name, col in rows.items():
            if isinstance(col, str | bytes) or not hasattr(col, "__len__") or np.ndim(col) != 1:
                raise InputError(
                    f"column '{_clip(str(name))}' must be a list or a one-dimensional array",
                    code="KPI-E005",
                    column=_clip(str(name)),
                )
        lengths = {name: len(col) for name, col in rows.items()}
        if len(set(lengths.values())) > 1:
            raise InputError(f"columns have different lengths: {lengths}", code="KPI-E005")
        return Columns(next(iter(lengths.values()), 0), dict(rows))
    if not isinstance(rows, Sequence) or isinstance(rows, str | bytes):
        raise InputError("rows must be a list of objects or a mapping of columns", code="KPI-E005")
    names: dict[str, None] = {}
    for i, row in enumerate(rows, 1):
        if not isinstance(row, Mapping):
            raise InputError("each row must be an object of column: value", code="KPI-E005", row=i)
        for key in row:
            names.setdefault(str(key), None)
    data = {name: [row.get(name) for row in rows] for name in names}
    return Columns(len(rows), data)


def _text_array(raw: Any) -> np.ndarray:
    """A column as a fixed-width unicode array (sorting those is fast; Python objects are not)."""
    if isinstance(raw, np.ndarray) and raw.dtype.kind == "U":
        return raw
    values = raw.tolist() if isinstance(raw, np.ndarray) else raw
    return np.asarray(
        [cell_text(v) for v in values],
        dtype=str,
    )


def periods_of(columns: Columns) -> tuple[np.ndarray, str]:
    """The period column as indices, and the rows' grain (one grain per request)."""
    if columns.n == 0:
        raise InputError(
            "the data has no rows",
            code="KPI-E012",
            hint="send at least one row: period, dimensions and inputs",
        )
    if "period" not in columns:
        raise InputError(
            "the data has no 'period' column",
            code="KPI-E013",
            column="period",
            hint="add a column 'period' (or 期间, 月份) holding e.g. 2026-01",
        )
    column = columns.header("period")
    values = _text_array(columns.data["period"])
    labels, inverse = np.unique(values, return_inverse=True)
    inverse = inverse.reshape(-1)
    parsed: list[Period] = []
    for k, label in enumerate(labels):
        try:
            if not str(label).strip():
                raise ValueError("the period is empty")
            parsed.append(parse_period(export_period(str(label))))
        except ValueError as err:
            row = int(np.flatnonzero(inverse == k)[0]) + 1
            raise InputError(str(err), code="KPI-E014", row=row, column=column) from None
        except InputError as err:  # a date that reads two ways (KPI-E057)
            row = int(np.flatnonzero(inverse == k)[0]) + 1
            raise InputError(
                err.reason, code="KPI-E057", row=row, column=column, hint=err.hint
            ) from None
    grains = np.asarray([p.grain for p in parsed], dtype=object)
    if len(set(grains.tolist())) > 1:
        first_grain = grains[inverse[0]]
        bad = int(np.flatnonzero(grains[inverse] != first_grain)[0])
        raise InputError(
            f"'{values[bad]}' is a {grains[inverse[bad]]}, but row 1 is a {first_grain}: "
            "all rows of one request must have the same grain",
            code="KPI-E015",
            row=bad + 1,
            column=column,
        )
    index = (
        np.asarray([p.index for p in parsed], dtype=np.int64)[inverse]
        if parsed
        else np.zeros(0, np.int64)
    )
    return index, (parsed[0].grain if parsed else "month")


def dimension_codes(columns: Columns, dim: str) -> tuple[np.ndarray, list[str]]:
    """A dimension column as integer codes into its sorted distinct values."""
    raw = columns.data[dim]
    if not (isinstance(raw, np.ndarray) and raw.dtype.kind == "U"):
        values = raw.tolist() if isinstance(raw, np.ndarray) else raw
        for i, v in enumerate(values):
            if (
                v is None
                or isinstance(v, bool | list | dict | bytes)
                or (isinstance(v, float) and not math.isfinite(v))
            ):
                raise InputError(
                    "a dimension value must be non-empty text",
                    code="KPI-E016",
                    row=i + 1,
                    column=columns.header(dim),
                )
    text = np.char.strip(_text_array(raw))
    labels, codes = np.unique(text, return_inverse=True)
    if len(labels) and labels[0] == "":
        raise InputError(
            "a dimension value must be non-empty text",
            code="KPI-E016",
            row=int(np.flatnonzero(codes == 0)[0]) + 1,
            column=columns.header(dim),
        )
    return codes.reshape(-1).astype(np.int64), [str(x) for x in labels]


def cell_text(v: Any) -> str:
    """A cell as the text a period or dimension value is read as: a whole number without its
    ``.0`` (a workbook's number cell 101 arrives as 101.0), empty for a missing cell."""
    if v is None:
        return ""
    if isinstance(v, str):
        return v
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def numeric(
    columns: Columns,
    name: str,
    default: float | None = None,
    fill_blank: bool = False,
    *,
    percent: bool = False,
) -> np.ndarray:
    """A column as float64 with NaN for null. ``fill_blank``: blanks take ``default``.
    Text cells may be written as exports write them (engine.evaluate.cells: ``1,200``,
    ``¥1,200.50``, ``(120)``; ``12.5%`` where ``percent``, for an input that is a ratio)."""
    raw = columns.data[name]
    column = columns.header(name)
    blank_value = np.nan if default is None or not fill_blank else float(default)
    if isinstance(raw, np.ndarray) and raw.dtype.kind in "iuf":
        out = raw.astype(np.float64)
        bad = np.isinf(out)
        if bad.any():
            raise InputError(
                f"'{out[bad][0]}' is not a finite number",
                code="KPI-E018",
                row=int(np.flatnonzero(bad)[0]) + 1,
                column=column,
            )
        if fill_blank:
            out[np.isnan(out)] = blank_value
        return out
    if columns.text_only:
        return _numeric_text(raw, column, blank_value, percent)
    values = raw.tolist() if isinstance(raw, np.ndarray) else raw
    out = np.empty(len(values), dtype=np.float64)
    for i, v in enumerate(values):
        if v is None or (isinstance(v, str) and not v.strip()):
            out[i] = blank_value
            continue
        if (
            isinstance(v, bool)
            or not isinstance(v, int | float | str)
            or (isinstance(v, str) and "_" in v)
        ):
            raise InputError(
                f"{_show(v)} is not a number", code="KPI-E017", row=i + 1, column=column
            )
        try:
            x = _text_number(v, i + 1, column, percent) if isinstance(v, str) else float(v)
        except OverflowError:  # an int past float's range
            raise InputError(
                f"{_show(v)} is not a finite number", code="KPI-E018", row=i + 1, column=column
            ) from None
        if not math.isfinite(x):
            raise InputError(
                f"{_show(v)} is not a finite number", code="KPI-E018", row=i + 1, column=column
            )
        out[i] = x
    return out


def _text_number(cell: str, row: int, column: str, percent: bool) -> float:
    """One text cell as a number: a plain one, or one written as exports write them."""
    _refuse_foreign_digits(cell, row, column)
    try:
        return float(cell)
    except (ValueError, OverflowError):
        pass
    x = export_number(cell, percent=percent, row=row, column=column)
    if x is None:
        raise InputError(f"{_show(cell)} is not a number", code="KPI-E017", row=row, column=column)
    return x


def _numeric_text(raw: Sequence[str], name: str, blank_value: float, percent: bool) -> np.ndarray:
    arr = np.asarray(raw, dtype=object)
    stripped = np.char.strip(arr.astype(str))
    blank = stripped == ""
    underscore = np.char.find(stripped, "_") >= 0  # float() would read 1_000 as 1000
    if underscore.any():
        i = int(np.flatnonzero(underscore)[0])
        raise InputError(
            f"{_show(stripped[i])} is not a number", code="KPI-E017", row=i + 1, column=name
        )
    if len(
        stripped
    ):  # float() would read ١٢٣ and １２３ as 123: look at the cells with non-ASCII text
        codes = stripped.view(np.uint32).reshape(len(stripped), -1)
        for i in np.flatnonzero((codes > 0x7F).any(axis=1)).tolist():
            _refuse_foreign_digits(str(stripped[i]), i + 1, name)
    out = np.full(len(arr), blank_value, dtype=np.float64)
    try:
        out[~blank] = stripped[~blank].astype(np.float64)
    except ValueError:  # some cell is no plain number: read it as an export writes it, or refuse
        for i in np.flatnonzero(~blank).tolist():
            out[i] = _text_number(str(stripped[i]), i + 1, name, percent)
    bad = ~blank & ~np.isfinite(out)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise InputError(
            f"{_show(stripped[i])} is not a finite number", code="KPI-E018", row=i + 1, column=name
        )
    return out


def _refuse_foreign_digits(cell: str, row: int, column: str) -> None:
    """A number cell must be written with the digits 0-9: ``float`` also reads Arabic-Indic,
    full-width and other scripts' digits, which a reader of the data may not take for numbers."""
    digit = foreign_digit(cell)
    if digit is not None:
        raise InputError(
            f"{_show(cell)} is not a number: {describe_char(digit)} is not one of the digits 0-9",
            code="KPI-E019",
            row=row,
            column=column,
            hint="write digits 0-9",
        )


def _show(v: Any) -> str:
    try:
        text = json.dumps(v, ensure_ascii=False) if not isinstance(v, str) else f"'{v}'"
    except (TypeError, ValueError):  # Decimal, complex, dates… from Python callers
        text = repr(v)
    return text if len(text) <= 40 else text[:37] + "…"


def take_rows(columns: Columns, keep: np.ndarray) -> Columns:
    """The rows where ``keep`` is true (a boolean array over the rows)."""
    index = np.flatnonzero(keep)
    data: dict[str, Any] = {}
    for name, col in columns.data.items():
        data[name] = col[index] if isinstance(col, np.ndarray) else [col[i] for i in index.tolist()]
    return Columns(len(index), data, columns.text_only, dict(columns.headers))
