"""A file to fill in (``kpi template``, docs/excel.md "Templates"): the columns a pack's data needs,
with one example row that is valid data.

* Input rows (the default): ``period``, the pack's dimensions, then every input, measured ones
  too (``kpi eval`` reads them from the rows; ``kpi run`` computes them from the source's
  records, and reads only the others from ``--data``).
* A source's raw ledger (``source``): its time column, the columns of its dimensions and entity,
  its declared columns, then the columns its measures read that it does not declare (a number
  where they are summed or compared with a number).

The header row holds what ``kpi eval --inputs`` and ``kpi run --source`` read — the ids; for a
source, each column headed as the source's ``headers`` maps it — and row 2 an example. The CSV
has nothing else (one header row is all a CSV can have); the workbook has a second sheet, Notes
(说明), with each column's label, unit, whether it is needed, and its description.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font

from engine.compile.pack import CompiledPack
from engine.core.errors import InputError
from engine.core.model import Dimension
from engine.core.periods import from_date
from engine.render.lineage import measure_text
from engine.render.report import write_csv
from engine.render.workbook import sheet_name

__all__ = ["TemplateColumn", "render_template", "template_columns"]

#: the day the example row is of
EXAMPLE_DAY = date(2026, 1, 15)

_WORDS: dict[str, dict[str, Any]] = {
    "en": {
        "data": "Data",
        "notes": "Notes",
        "head": ["Column", "Label", "Kind", "Unit", "Needed", "Description", "Note"],
        "yes": "yes",
        "no": "optional",
        "period": "Period",
        "period_note": "a period at the pack's grain ({grain}), e.g. {example}",
        "measured": "kpi run computes it from the records of source '{source}' ({measure})",
        "default": "optional: missing values count as {default}",
        "values": "one of: {values}",
        "min": "at least {min}",
        "used": "read by the measures (the source does not declare it)",
        "kinds": {
            "period": "period",
            "dimension": "dimension",
            "input": "input",
            "time": "time",
            "entity": "entity",
            "column": "column",
        },
    },
    "zh": {
        "data": "数据",
        "notes": "说明",
        "head": ["列", "名称", "类型", "单位", "必填", "说明", "备注"],
        "yes": "是",
        "no": "可选",
        "period": "期间",
        "period_note": "本包粒度({grain})的期间,例如 {example}",
        "measured": "kpi run 由数据源「{source}」的记录计算({measure})",
        "default": "可选:缺失时按 {default} 计",
        "values": "取值之一:{values}",
        "min": "不小于 {min}",
        "used": "指标计算要用到此列(数据源未声明)",
        "kinds": {
            "period": "期间",
            "dimension": "维度",
            "input": "输入",
            "time": "时间",
            "entity": "实体",
            "column": "列",
        },
    },
}


@dataclass(frozen=True)
class TemplateColumn:
    """One column of a template: its id (the header), what it is, and the example's value."""

    id: str
    kind: str  # period, dimension, input; for a source: time, dimension, entity, column
    label: str
    unit: str | None
    required: bool
    description: str
    note: str
    example: str | float


def template_columns(
    c: CompiledPack, locale: str | None = None, source: str | None = None
) -> list[TemplateColumn]:
    """The columns of the pack's input rows, or of ``source``'s raw records (InputError KPI-E060
    for a source the pack does not have)."""
    pack = c.pack
    loc = locale or pack.default_locale
    w = _WORDS.get(loc, _WORDS["en"])
    if source is not None:
        return _source_columns(c, source, loc)
    period = from_date(EXAMPLE_DAY, pack.grain).label if pack.grain != "all" else "2026-01"
    out = [
        TemplateColumn(
            "period",
            "period",
            w["period"],
            None,
            True,
            "",
            w["period_note"].format(grain=pack.grain, example=period),
            period,
        )
    ]
    for d in _dimensions(c):
        out.append(
            TemplateColumn(
                d.id, "dimension", d.label.get(loc, d.id), None, True,
                d.description.get(loc), "", f"{d.id}_1",
            )
        )  # fmt: skip
    for i in pack.inputs.values():
        notes = []
        if i.measure is not None:
            notes.append(
                w["measured"].format(source=i.measure.source, measure=measure_text(i.measure))
            )
        if i.has_default:
            notes.append(w["default"].format(default=i.default))
        example = float(i.default) if i.has_default and i.default is not None else 1.0
        out.append(
            TemplateColumn(
                i.id, "input", i.label.get(loc, i.id), i.unit, i.required and not i.has_default,
                i.description.get(loc), "; ".join(notes), example,
            )
        )  # fmt: skip
    return out


def _dimensions(c: CompiledPack) -> list[Dimension]:
    """The pack's own dimensions and those its sources map (an extended pack's other dimensions
    can be added as columns); every dimension when that leaves none."""
    pack = c.pack
    mapped = {d for src in pack.sources.values() for d in src.dimensions}
    chosen = [d for d in pack.dimensions.values() if d.origin.pack == pack.id or d.id in mapped]
    return chosen or list(pack.dimensions.values())


def _source_columns(c: CompiledPack, sid: str, loc: str) -> list[TemplateColumn]:
    pack = c.pack
    w = _WORDS.get(loc, _WORDS["en"])
    src = pack.sources.get(sid)
    if src is None:
        known = ", ".join(pack.sources) or "none"
        raise InputError(
            f"pack '{pack.id}' has no source '{sid}'",
            code="KPI-E060",
            hint=f"the pack's sources: {known}",
        )
    from engine.evaluate.measures.checks import number_columns_of, used_columns

    dims = {column: d for d, column in src.dimensions.items()}
    declared_names = [src.time, *src.dimensions.values(), *(
        [src.entity] if src.entity else []), *src.columns]  # fmt: skip
    # and the columns the measures read that the source does not declare (amount, kind …)
    used = [n for n in used_columns(c, sid) if n not in declared_names]
    numbers = set(number_columns_of(c, sid))
    names = list(dict.fromkeys([*declared_names, *used]))
    out = []
    for name in names:
        declared = src.columns.get(name)
        if name == src.time:
            kind, label, example = "time", name, EXAMPLE_DAY.isoformat()
        elif name in dims:
            d = pack.dimensions[dims[name]]
            kind, label, example = "dimension", d.label.get(loc, d.id), f"{d.id}_1"
        elif name == src.entity:
            kind, label, example = "entity", name, f"{name}_1"
        else:
            kind, label, example = "column", name, "x"
        example_value: str | float = example
        notes = []
        if declared is not None and declared.values:
            notes.append(w["values"].format(values=", ".join(declared.values)))
            example_value = declared.values[0]
        if declared is not None and declared.type == "number":
            example_value = max(1.0, float(declared.min)) if declared.min is not None else 1.0
            if declared.min is not None:
                notes.append(w["min"].format(min=declared.min))
        if declared is not None and declared.type == "time":
            example_value = EXAMPLE_DAY.isoformat()
        if name in used:
            notes.append(w["used"])
            example_value = 1.0 if name in numbers else example
        out.append(
            TemplateColumn(  # headed as the source reads it: its `headers` mapping, if any
                src.headers.get(name, name), kind, label, None, kind != "column" or name in used,
                src.description.get(loc) if kind == "time" else "", "; ".join(notes),
                example_value,
            )
        )  # fmt: skip
    return out


def render_template(
    c: CompiledPack, fmt: str = "csv", locale: str | None = None, source: str | None = None
) -> bytes:
    """The template as CSV (UTF-8 with a byte-order mark, for spreadsheets) or as a workbook."""
    columns = template_columns(c, locale, source)
    if fmt == "csv":
        text = write_csv([[col.id for col in columns], [col.example for col in columns]])
        return ("\ufeff" + text + "\n").encode("utf-8")
    w = _WORDS.get(locale or c.pack.default_locale, _WORDS["en"])
    book = Workbook()
    taken: set[str] = set()
    data = book.active
    assert data is not None
    data.title = sheet_name(w["data"], taken)
    bold = Font(bold=True)
    for k, col in enumerate(columns, 1):
        head = data.cell(1, k, col.id)
        head.data_type, head.font = "s", bold
        cell = data.cell(2, k, col.example)
        if isinstance(col.example, str):
            cell.data_type = "s"
        if col.kind in ("period", "time", "dimension", "entity"):  # typed as text, not a date
            for row in range(2, 1002):
                data.cell(row, k).number_format = "@"
        data.column_dimensions[head.column_letter].width = max(12, len(col.id) + 2)
    data.freeze_panes = "A2"
    notes = book.create_sheet(sheet_name(w["notes"], taken))
    for k, text in enumerate(w["head"], 1):
        notes.cell(1, k, text).font = bold
    wrap = Alignment(wrap_text=True, vertical="top")
    for row, col in enumerate(columns, 2):
        cells = [
            col.id, col.label, w["kinds"][col.kind], col.unit or "",
            w["yes"] if col.required else w["no"], col.description, col.note,
        ]  # fmt: skip
        for k, text in enumerate(cells, 1):
            cell = notes.cell(row, k, text)
            cell.data_type, cell.alignment = "s", wrap
    for letter, width in zip("ABCDEFG", (24, 24, 10, 10, 8, 50, 50), strict=True):
        notes.column_dimensions[letter].width = width
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
