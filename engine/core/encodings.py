"""Bytes → text for every text file the engine reads (CSV input rows, ledger CSVs, posted CSV).

One strict order, the same everywhere, so that a file is read the same way by ``kpi eval``,
``kpi run``, the HTTP API and the web upload (docs/evaluation.md, "Files and encodings"):

1. a UTF-8 byte-order mark → UTF-8 (the rest must be valid UTF-8);
2. a UTF-16 byte-order mark (``FF FE`` little-endian, ``FE FF`` big-endian) → UTF-16;
3. valid UTF-8 (ASCII included) → UTF-8;
4. valid GB18030 (which contains GBK and GB2312, what Chinese Excel and POS systems write) that
   reads as Chinese text → GB18030: the text holds at least one Chinese character, no control
   character other than tab and line breaks, no private-use character, and at least 80 % of its
   distinct non-ASCII characters are in GB2312 (the 6,763 common simplified characters, which
   cover nearly all of any Chinese text). Latin-1 or Windows-1252 bytes often decode as GB18030
   too, mostly into rare characters outside GB2312 (``Müller`` → ``M黮ler``): the last test
   refuses them;
5. anything else is refused (:data:`CODE`), with a hint saying how to save the file as UTF-8.

No guessing library is used: a fixed order gives the same answer for the same bytes, and a wrong
guess would turn numbers and names into other ones without a word.
"""

from __future__ import annotations

import codecs
import unicodedata
from collections.abc import Iterable

from engine.core.errors import InputError

#: the code of a file whose bytes are not text in an encoding read here
CODE = "KPI-E003"
#: how to re-save a file as UTF-8, in English and Chinese (engine messages have no locale yet)
HINT = (
    "save it as UTF-8: in Excel, File → Save As → CSV UTF-8 (Comma delimited) (*.csv) / "
    "在 Excel 中选择 文件 → 另存为 → CSV UTF-8(逗号分隔)(*.csv)"
)
ENCODINGS = ("utf-8", "utf-16-le", "utf-16-be", "gb18030")

_BOMS = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
_LINE_BREAKS = frozenset("\t\n\r")


def _is_chinese(ch: str) -> bool:
    o = ord(ch)
    return (
        0x4E00 <= o <= 0x9FFF  # CJK unified ideographs
        or 0x3400 <= o <= 0x4DBF  # extension A
        or 0xF900 <= o <= 0xFAFF  # compatibility ideographs
        or 0x20000 <= o <= 0x3134F  # extensions B-G (four-byte GB18030)
    )


def _in_gb2312(ch: str) -> bool:
    try:
        ch.encode("gb2312")
    except UnicodeEncodeError:
        return False
    return True


def plausible_chinese(text: str) -> bool:
    """Whether GB18030-decoded ``text`` reads as Chinese text (step 4 of the module's order)."""
    chinese = False
    wide = common = 0
    for ch in set(text):  # distinct characters: the test's cost does not grow with the file
        if ch < "\x80":
            if ch < " " and ch not in _LINE_BREAKS or ch == "\x7f":
                return False
            continue
        category = unicodedata.category(ch)
        if category in ("Cc", "Co", "Cs", "Cn"):
            return False
        chinese = chinese or _is_chinese(ch)
        wide += 1
        common += _in_gb2312(ch)
    return chinese and 5 * common >= 4 * wide


def _refuse(source: str, data: bytes, err: UnicodeDecodeError | None, why: str) -> InputError:
    where = ""
    if err is not None:
        line = data[: err.start].count(b"\n") + 1
        where = f": byte 0x{data[err.start]:02X} at line {line} is not {why}"
    return InputError(
        f"{source} is not text in an encoding read here (UTF-8, UTF-16 with a byte-order mark, "
        f"or GB18030/GBK Chinese text){where}",
        code="KPI-E003",
        hint=HINT,
        kind="malformed",
    )


def decode_text(data: bytes, *, source: str = "the file") -> tuple[str, str]:
    """``data`` as text and the encoding it was read in (one of :data:`ENCODINGS`), in the
    module's order; an :class:`InputError` (:data:`CODE`, with :data:`HINT`) if none fits."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                return data[len(bom) :].decode(encoding), encoding
            except UnicodeDecodeError as err:
                err.start += len(bom)
                raise _refuse(source, data, err, f"{encoding.upper()} after its mark") from None
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError as err:
        utf8_error = err
    try:
        text = data.decode("gb18030")
    except UnicodeDecodeError:
        raise _refuse(source, data, utf8_error, "UTF-8 (nor GB18030)") from None
    if not plausible_chinese(text):
        raise _refuse(
            source,
            data,
            utf8_error,
            "UTF-8, and the file does not read as GB18030 Chinese text either",
        )
    return text, "gb18030"


def is_utf8(chunks: Iterable[bytes]) -> bool:
    """Whether the bytes of ``chunks`` (a file read piece by piece) are UTF-8 without a mark: the
    file can then be handed as it is to a reader that reads only UTF-8 (DuckDB's CSV reader)."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    first = True
    try:
        for chunk in chunks:
            if first and chunk:
                first = False
                if chunk.startswith(codecs.BOM_UTF8):
                    return False  # a marked UTF-8 file is transcoded too: DuckDB keeps the mark
            if chunk.isascii() and not decoder.getstate()[0]:
                continue  # nothing pending: ASCII is UTF-8 (checked far faster than decoded)
            decoder.decode(chunk)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True
