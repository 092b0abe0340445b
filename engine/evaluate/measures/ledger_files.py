"""A source's records file as DuckDB can read it: a CSV that is not UTF-8 (GB18030 from a Chinese
POS, UTF-16 or UTF-8 with a byte-order mark from Excel) becomes a UTF-8 copy, and a sheet of an
Excel workbook becomes a table of text, typed as DuckDB types the same sheet saved as CSV.

DuckDB's CSV reader reads UTF-8 only: a file that is UTF-8 without a mark (checked in pieces,
without holding it in memory) is handed to it as it is; any other is decoded in the order of
:mod:`engine.core.encodings` and written to a temporary UTF-8 copy, which the caller reads into a
table at once and which is removed as soon as that is done, whatever happens.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from engine.core.encodings import decode_text, is_utf8
from engine.core.errors import InputError
from engine.evaluate.table import Columns

#: most bytes of a CSV that is converted to UTF-8 (one that is UTF-8 already has no limit here)
MAX_CONVERTED_BYTES = 256 * 1024 * 1024
_CHUNK = 8 * 1024 * 1024


def _chunks(path: Path) -> Iterator[bytes]:
    with path.open("rb") as fh:
        while chunk := fh.read(_CHUNK):
            yield chunk


@contextmanager
def utf8_csv(path: Path, sid: str) -> Iterator[tuple[Path, bool]]:
    """(a UTF-8 CSV with the records of ``path``, whether it is a converted copy); the copy is
    removed when the block ends."""
    if is_utf8(_chunks(path)):
        yield path, False
        return
    size = path.stat().st_size
    if size > MAX_CONVERTED_BYTES:
        raise InputError(
            f"source '{sid}' ({path.name}) is {size:,} bytes and not UTF-8 text: at most "
            f"{MAX_CONVERTED_BYTES // (1024 * 1024)} MB are converted to UTF-8",
            code="KPI-E047",
            hint="save it as CSV UTF-8 / 另存为 CSV UTF-8",
        )
    text, _ = decode_text(path.read_bytes(), source=f"source '{sid}' ({path.name})")
    fd, name = tempfile.mkstemp(prefix="kpi-ledger-", suffix=".csv")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as out:
            out.write(text)
        del text
        yield Path(name), True
    finally:
        os.unlink(name)


def xlsx_records(path: Path, sheet: str | None, sid: str) -> Columns:
    """A sheet of a workbook (default the first) as text columns, cell by cell as a CSV of it."""
    from engine.evaluate.workbook import MAX_FILE_BYTES, read_xlsx

    with path.open("rb") as fh:
        data = fh.read(MAX_FILE_BYTES + 1)
    return read_xlsx(data, sheet, source=f"source '{sid}' ({path.name})", text=True)
