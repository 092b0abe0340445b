"""The columns of input rows by the names a person heads them with: ids, or the pack's labels.

An export from a POS system or a spreadsheet heads its columns ``充值金额`` or ``Recharge amount``
rather than ``recharge_amount``. A header names an input or a dimension when it is its id (as
written), or one of its labels in any locale; the period column may also be headed ``期间``,
``月份``, ``年月`` or ``Period``. Labels are compared after NFKC normalisation (full-width
``Ｒｅｃｈａｒｇｅ`` is ``Recharge``), trimming and case folding (``recharge AMOUNT``); ids are
compared exactly (docs/evaluation.md, "Column headers").

A header that could name two things — two inputs share a label, or it is one input's id and
another's label — is refused (KPI-E053), and so are two columns that name one thing (KPI-E054):
no rule silently prefers one reading, not even an id over a label.
"""

from __future__ import annotations

import difflib
import unicodedata
from collections.abc import Mapping

from engine.core.errors import InputError
from engine.core.model import Definition, Pack
from engine.evaluate.table import Columns

#: headers of the period column besides ``period`` (compared like labels)
PERIOD_HEADERS = ("period", "期间", "月份", "年月")


def header_key(text: str) -> str:
    """How a header is compared with a label: NFKC, surrounding spaces trimmed, case folded."""
    return unicodedata.normalize("NFKC", text).strip().casefold()


def _readings(pack: Pack) -> dict[str, dict[str, str]]:
    """Header key → {the id it may name: how it names it}."""
    out: dict[str, dict[str, str]] = {}
    named: list[tuple[str, Mapping[str, Definition]]] = [
        ("input", pack.inputs),
        ("dimension", pack.dimensions),
    ]
    for kind, defs in named:
        for ident, d in defs.items():
            for locale, text in d.label.items:
                if text.strip():
                    out.setdefault(header_key(text), {})[ident] = (
                        f"the {locale} label of {kind} '{ident}'"
                    )
    for text in PERIOD_HEADERS:
        out.setdefault(header_key(text), {})["period"] = "a name of the period column"
    return out


def name_columns(pack: Pack, columns: Columns) -> tuple[Columns, list[dict[str, object]]]:
    """``columns`` with each column headed by a label renamed to the id it names, and a warning
    (KPI-W011) listing those columns; unchanged when every header is an id or names nothing."""
    ids = {*pack.inputs, *pack.dimensions, "period"}
    readings = _readings(pack)
    renamed: dict[str, str] = {}  # header -> id
    for header in columns.data:
        found = dict(readings.get(header_key(header), {}))
        if header in ids:
            found[header] = "its id"
        if len(found) > 1:
            (a, how_a), (b, how_b) = sorted(found.items())[:2]
            raise InputError(
                f"column '{_clip(header)}' could be '{a}' ({how_a}) or '{b}' ({how_b})",
                code="KPI-E053",
                column=_clip(header),
                hint=f"head the column with the id it stands for: {a} or {b}",
            )
        if found and next(iter(found)) != header:
            renamed[header] = next(iter(found))
    if not renamed:
        return columns, []
    by_id: dict[str, str] = {}
    for header in columns.data:
        ident = renamed.get(header, header)
        if ident in by_id:
            raise InputError(
                f"columns '{_clip(by_id[ident])}' and '{_clip(header)}' both stand for '{ident}'",
                code="KPI-E054",
                column=_clip(header),
                hint="keep one of them",
            )
        by_id[ident] = header
    data = {renamed.get(h, h): col for h, col in columns.data.items()}
    headers = {**columns.headers, **{ident: h for h, ident in renamed.items()}}
    note: dict[str, object] = {
        "code": "KPI-W011",
        "columns": dict(renamed),
        "message": "columns read by their labels: "
        + ", ".join(f"'{h}' as {ident}" for h, ident in renamed.items()),
    }
    return Columns(columns.n, data, columns.text_only, headers), [note]


def missing_dimension(pack: Pack, columns: Columns, err: InputError) -> InputError | None:
    """The real cause of a duplicate row (KPI-E020) when the data has no column for a dimension of
    the pack but has columns that are none of its names: rows of different members (stores)
    then share a key. None when that is not the case."""
    if err.code != "KPI-E020":
        return None
    missing = [d for d in pack.dimensions if d not in columns]
    known = {*pack.inputs, *pack.dimensions, *pack.params, *pack.metrics, "period"}
    unknown = [h for h in columns.data if h not in known]
    if not missing or not unknown:
        return None
    dim = missing[0]
    names = [dim, *(t for _, t in pack.dimensions[dim].label.items)]
    guess = _closest(unknown, names)
    others = ", ".join(f"'{_clip(h)}'" for h in unknown[:5]) + (" …" if len(unknown) > 5 else "")
    verb = "is not a column" if len(unknown) == 1 else "are not columns"
    return InputError(
        f"the data has no column for dimension '{dim}' ({others} {verb} of this pack), so rows "
        f"of different {dim} members share a key: {err.reason}",
        code="KPI-E055",
        row=err.row,
        column=dim,
        hint=f"did you mean '{_clip(guess)}'? head it "
        + " or ".join(f"'{n}'" for n in dict.fromkeys(names)),
    )


def _closest(headers: list[str], names: list[str]) -> str:
    """The header most like one of ``names`` (the first header when none is alike)."""
    best, score = headers[0], 0.0
    for h in headers[:200]:
        for n in names:
            ratio = difflib.SequenceMatcher(None, header_key(h), header_key(n)).ratio()
            if ratio > score:
                best, score = h, ratio
    return best


def _clip(text: str) -> str:
    return text if len(text) <= 60 else text[:57] + "…"
