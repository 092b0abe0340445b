"""An evaluation as an Excel workbook (docs/excel.md): a sheet per view, then every value, the
rules fired, the checks and the lineage of each metric.

Fed by the typed :class:`~engine.evaluate.evaluation.Evaluation` (exact values, row keys, the
judgement of bands, rules and checks) and the pack model — never by re-reading its JSON.

* value sheets: one row per period × dimension member, one column per metric (row 1 the labels
  in the evaluation's locale, row 2 the ids); values are numbers, exact, with the number format
  of the metric's format and places (as :func:`engine.core.display.shown` rounds them, more
  places near a band edge); null is an empty cell; the band is the cell's fill, in the colours
  of the web pages;
* the cells of a metric that is plain arithmetic of cells of its row hold an Excel formula
  (engine.render.sheet_formulas says which and why the cached value is the engine's);
* text from the data or the pack (dimension members, labels, rule texts) is written as text
  cells, never as formulas, whatever it starts with.
"""

from __future__ import annotations

import io
import math
import re
from collections.abc import Sequence
from typing import Any

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from engine.core.display import shown
from engine.core.errors import InputError
from engine.core.model import Pack
from engine.evaluate.evaluation import Evaluation
from engine.evaluate.explain import format_number
from engine.evaluate.workbook import XLSX_MEDIA_TYPE  # one home: the reader of workbooks
from engine.render.lineage import lineage, measure_text
from engine.render.sheet_formulas import cell_formula, exact_values

__all__ = ["BAND_FILLS", "XLSX_MEDIA_TYPE", "render_workbook", "sheet_name"]


#: band status → cell fill (RGB), the background colours of the web pages (api/web/static/web.css)
BAND_FILLS = {"good": "E3F2E4", "fair": "E1F0FA", "warning": "FFF1D6", "critical": "FDE4E4"}
#: severity of a rule or check → the fill of its row's severity cell
SEVERITY_FILLS = {"critical": "FDE4E4", "error": "FDE4E4", "warning": "FFF1D6", "info": "E1F0FA"}
STATUS_FILLS = {"pass": "E3F2E4", "fail": "FDE4E4"}

#: Excel's limits (rows and columns of a worksheet, characters of a cell)
MAX_ROWS = 1_048_576
MAX_COLUMNS = 16_384
MAX_CELL_CHARS = 32_767
HEADER_ROWS = 2  # labels, then ids

_WORDS = {
    "en": {
        "all": "All values",
        "rules": "Rules fired",
        "checks": "Checks",
        "lineage": "Lineage",
        "period": "Period",
        "partial": "Partial",
        "yes": "yes",
        "rule": "Rule",
        "severity": "Severity",
        "metric": "Metric",
        "value": "Value",
        "causes": "Causes",
        "remedies": "Remedies",
        "owners": "Owners",
        "check": "Check",
        "status": "Status",
        "residual": "Residual (left − right)",
        "id": "Id",
        "label": "Label",
        "kind": "Kind",
        "formula": "Formula",
        "formula_labeled": "Formula (labels)",
        "expanded": "Down to inputs",
        "inputs": "Inputs",
        "params": "Params",
        "unit": "Unit",
        "measured": "Measured from",
        "defined_in": "Defined in",
        "input": "input",
        "metric_kind": "metric",
        "rolled": "computed per member and base period, then combined ({dims}, {time})",
    },
    "zh": {
        "all": "全部数值",
        "rules": "触发的规则",
        "checks": "检查",
        "lineage": "指标血缘",
        "period": "期间",
        "partial": "未结束",
        "yes": "是",
        "rule": "规则",
        "severity": "级别",
        "metric": "指标",
        "value": "数值",
        "causes": "可能原因",
        "remedies": "改进措施",
        "owners": "负责方",
        "check": "检查",
        "status": "结果",
        "residual": "残差(左 − 右)",
        "id": "标识",
        "label": "名称",
        "kind": "类型",
        "formula": "公式",
        "formula_labeled": "公式(名称)",
        "expanded": "展开到输入",
        "inputs": "输入",
        "params": "参数",
        "unit": "单位",
        "measured": "计算自",
        "defined_in": "定义位置",
        "input": "输入",
        "metric_kind": "指标",
        "rolled": "先按成员和基础期间计算,再汇总({dims}, {time})",
    },
}

_SHEET_FORBIDDEN = re.compile(r"[\[\]:*?/\\\x00-\x1f\x7f]")


def sheet_name(title: str, taken: set[str]) -> str:
    """A worksheet name Excel accepts, unique among ``taken`` (which it joins): at most 31
    characters, none of ``[]:*?/\\``, not starting or ending with ``'``; names that differ only
    in case are the same to Excel, so a repeat gets `` (2)``, `` (3)``, …"""
    name = _SHEET_FORBIDDEN.sub("_", title).strip().strip("'").strip() or "Sheet"
    name = name[:31]
    candidate, n = name, 1
    while candidate.casefold() in taken:
        n += 1
        suffix = f" ({n})"
        candidate = name[: 31 - len(suffix)] + suffix
    taken.add(candidate.casefold())
    return candidate


def render_workbook(evaluation: Evaluation) -> bytes:
    """The workbook of an evaluation (.xlsx bytes); raises InputError KPI-E059 when the result
    does not fit a worksheet."""
    return _Writer(evaluation).write()


def number_format(fmt: str, digits: int | None) -> str:
    """Excel's number format for a value shown with ``digits`` places (of the ratio, for a
    percent: :func:`engine.core.display.places`)."""
    if digits is None:
        return "General"
    if fmt == "percent":
        shown_places = max(digits - 2, 0)
        return ("0." + "0" * shown_places if shown_places else "0") + "%"
    return "#,##0" + ("." + "0" * digits if digits > 0 else "")


def _text(value: Any) -> str:
    text: str = ILLEGAL_CHARACTERS_RE.sub("\ufffd", str(value))
    return text if len(text) <= MAX_CELL_CHARS else text[: MAX_CELL_CHARS - 1] + "…"


class _Writer:
    def __init__(self, evaluation: Evaluation) -> None:
        self.e = evaluation
        self.plan = evaluation.plan
        self.pack: Pack = evaluation.plan.compiled.pack
        self.locale = self.plan.locale
        self.words = _WORDS.get(self.locale, _WORDS["en"])
        self.judged = evaluation.judge()
        self.periods, self.dims = evaluation.row_keys()
        self.partial = evaluation.row_partial()
        self.book = Workbook()
        self.taken: set[str] = set()
        self.numbers: dict[int, dict[str, float]] = {}  # sheet index → cell → exact value
        self.fills: dict[str, PatternFill] = {}
        self.bold = Font(bold=True)
        self.grey = Font(color="777777", size=9)

    # -- sheets ----------------------------------------------------------------------------
    def write(self) -> bytes:
        self.book.remove(self.book.active)
        output = [m for m in self.plan.output if m in self.pack.metrics]
        for view in self.pack.views.values():
            chosen = [m for m in view.metrics if m in output]
            if chosen:
                self._values(view.label.get(self.locale, view.id), chosen)
        # the inputs the metrics shown are made of (and any asked for), at the output grain
        graph = self.plan.compiled.graph
        used = set(self.plan.output).union(*(graph.upstream(m) for m in output))
        readable = set(self.plan.combined) | set(self.plan.direct)
        inputs = [i for i in self.pack.inputs if i in used and i in readable]
        self._values(self.words["all"], [*inputs, *output])
        self._rules()
        self._checks()
        self._lineage(output, inputs)
        self.book.calculation.fullCalcOnLoad = True
        buffer = io.BytesIO()
        self.book.save(buffer)
        return exact_values(buffer.getvalue(), self.numbers)

    def _sheet(self, title: str, width: int, rows: int) -> Worksheet:
        if rows > MAX_ROWS or width > MAX_COLUMNS:
            raise InputError(
                f"the sheet '{title}' would have {rows:,} rows and {width:,} columns; a "
                f"worksheet holds at most {MAX_ROWS:,} rows and {MAX_COLUMNS:,} columns",
                code="KPI-E059",
                hint="ask for a coarser grain, fewer dimensions (--by), fewer metrics or "
                "a shorter period, or use --format csv or json",
            )
        ws = self.book.create_sheet(sheet_name(title, self.taken))
        self.numbers[len(self.book.worksheets) - 1] = {}
        return ws

    def _keys(self) -> list[str]:
        """The header words of the columns that say which row it is."""
        labels = [self.words["period"]]
        labels += [self.pack.dimensions[d].label.get(self.locale, d) for d in self.plan.by]
        if any(self.partial):
            labels.append(self.words["partial"])
        return labels

    def _key_cells(self, ws: Worksheet, row: int, i: int) -> int:
        """Writes the row's period, members (and partial mark); returns the next column."""
        cells = [self.periods[i], *(self.dims[d][i] for d in self.plan.by)]
        if any(self.partial):
            cells.append(self.words["yes"] if self.partial[i] else "")
        for col, value in enumerate(cells, 1):
            self._put_text(ws, row, col, value)
        return len(cells) + 1

    def _header(self, ws: Worksheet, labels: Sequence[str], ids: Sequence[str]) -> None:
        for col, label in enumerate(labels, 1):
            self._put_text(ws, 1, col, label).font = self.bold
            ws.column_dimensions[get_column_letter(col)].width = min(
                max(12, sum(2 if ord(ch) > 0x2E7F else 1 for ch in label) + 2), 50
            )
        for col, ident in enumerate(ids, 1):
            if ident:
                self._put_text(ws, 2, col, ident).font = self.grey
        ws.freeze_panes = ws.cell(HEADER_ROWS + 1, len(self._keys()) + 1)

    def _values(self, title: str, names: Sequence[str]) -> None:
        keys = self._keys()
        ws = self._sheet(title, len(keys) + len(names), len(self.e) + HEADER_ROWS)
        first = len(keys) + 1
        letters = {m: get_column_letter(first + k) for k, m in enumerate(names)}
        labels = [self._label(m) for m in names]
        ids = ["", *self.plan.by, *([""] if any(self.partial) else [])]
        self._header(ws, [*keys, *labels], [*ids, *names])
        columns = {m: self.e.values(m) for m in names}
        formulas = {m: self._formula(m, letters) for m in names}
        numbers = self.numbers[len(self.book.worksheets) - 1]
        for i in range(len(self.e)):
            row = i + HEADER_ROWS + 1
            self._key_cells(ws, row, i)
            values = {m: float(columns[m][i]) for m in names}
            for k, m in enumerate(names):
                value = values[m]
                if not math.isfinite(value):
                    continue  # null: an empty cell
                cell = ws.cell(row, first + k)
                formula = formulas[m]
                if formula is not None and formula.value(values) == value:
                    cell.value = formula.at(row)
                else:
                    cell.value = value
                numbers[cell.coordinate] = value + 0.0
                metric = self.pack.metrics.get(m)
                if metric is not None:
                    cell.number_format = number_format(metric.format, shown(value, metric)[1])
                band = self.judged.bands.get(m)
                if band is not None and band[i] >= 0 and metric is not None:
                    cell.fill = self._fill(BAND_FILLS.get(metric.bands[int(band[i])].status))

    def _formula(self, name: str, letters: dict[str, str]) -> Any:
        if name not in self.pack.metrics or name in self.plan.rolled:
            return None
        others = {m: c for m, c in letters.items() if m != name}
        return cell_formula(self.plan.compiled.metrics[name].parsed.expr, others, self.e.ctx.params)

    def _rules(self) -> None:
        w = self.words
        fired = [
            (i, r) for i in range(len(self.e)) for r in self.plan.rules if self.judged.fired[r][i]
        ]
        keys = self._keys()
        head = [w["rule"], w["label"], w["severity"], w["metric"], w["value"]]
        head += [w["causes"], w["remedies"], w["owners"]]
        ws = self._sheet(w["rules"], len(keys) + len(head), len(fired) + HEADER_ROWS)
        ids = ["", *self.plan.by, *([""] if any(self.partial) else [])]
        ids += ["id", "label", "severity", "metric", "value", "causes", "remedies", "owners"]
        self._header(ws, [*keys, *head], ids)
        numbers = self.numbers[len(self.book.worksheets) - 1]
        for n, (i, rid) in enumerate(fired):
            row = n + HEADER_ROWS + 1
            col = self._key_cells(ws, row, i)
            rule = self.pack.rules[rid]
            remedies = [self.pack.remedies[r] for r in rule.remedies]
            owners = list(dict.fromkeys(r.owner for r in remedies if r.owner))
            texts = [
                rid,
                rule.label.get(self.locale, rid),
                rule.severity,
                self._label(rule.metric) if rule.metric else "",
            ]
            for k, text in enumerate(texts):
                self._put_text(ws, row, col + k, text)
            ws.cell(row, col + 2).fill = self._fill(SEVERITY_FILLS.get(rule.severity))
            if rule.metric and rule.metric in self.e.ctx.columns:
                value = float(self.e.values(rule.metric)[i])
                if math.isfinite(value):
                    cell = ws.cell(row, col + 4, value)
                    numbers[cell.coordinate] = value + 0.0
                    metric = self.pack.metrics.get(rule.metric)
                    if metric is not None:
                        cell.number_format = number_format(metric.format, shown(value, metric)[1])
            wrap = Alignment(wrap_text=True, vertical="top")
            lists = [
                [c.get(self.locale) for c in rule.causes],
                [r.label.get(self.locale, r.id) for r in remedies],
                owners,
            ]
            for k, items in enumerate(lists):
                self._put_text(ws, row, col + 5 + k, "\n".join(items)).alignment = wrap

    def _checks(self) -> None:
        w = self.words
        keys = self._keys()
        head = [w["check"], w["label"], w["severity"], w["status"], w["residual"]]
        count = len(self.e) * len(self.plan.checks)
        ws = self._sheet(w["checks"], len(keys) + len(head), count + HEADER_ROWS)
        ids = ["", *self.plan.by, *([""] if any(self.partial) else [])]
        self._header(ws, [*keys, *head], [*ids, "id", "label", "severity", "status", "residual"])
        numbers = self.numbers[len(self.book.worksheets) - 1]
        row = HEADER_ROWS
        for i in range(len(self.e)):
            for cid, result in self.judged.checks.items():
                row += 1
                col = self._key_cells(ws, row, i)
                check = self.pack.checks[cid]
                status = result.status[i]
                for k, text in enumerate(
                    [cid, check.label.get(self.locale, cid), check.severity, status]
                ):
                    self._put_text(ws, row, col + k, text)
                ws.cell(row, col + 3).fill = self._fill(STATUS_FILLS.get(status))
                residual = float(result.residual[i])
                if not math.isnan(residual):
                    shown_residual = float(format_number(residual))  # as the JSON gives it
                    cell = ws.cell(row, col + 4, shown_residual)
                    numbers[cell.coordinate] = shown_residual + 0.0

    def _lineage(self, metrics: Sequence[str], inputs: Sequence[str]) -> None:
        w = self.words
        head = [w["id"], w["label"], w["kind"], w["unit"], w["formula"], w["formula_labeled"]]
        head += [w["expanded"], w["inputs"], w["params"], w["measured"], w["defined_in"]]
        ids = ["id", "label", "kind", "unit", "formula", "formula_labeled", "expanded"]
        ids += ["inputs", "params", "measured_from", "defined_in"]
        ws = self._sheet(w["lineage"], len(head), len(metrics) + len(inputs) + HEADER_ROWS)
        for col, label in enumerate(head, 1):
            self._put_text(ws, 1, col, label).font = self.bold
            ws.column_dimensions[get_column_letter(col)].width = 40 if col > 4 else 18
        for col, ident in enumerate(ids, 1):
            self._put_text(ws, 2, col, ident).font = self.grey
        ws.freeze_panes = "B3"
        wrap = Alignment(wrap_text=True, vertical="top")
        row = HEADER_ROWS
        for m in metrics:
            row += 1
            info = lineage(self.plan.compiled, m, self.locale, kind="metric")
            metric = self.pack.metrics[m]
            expanded = info.get("expanded") or info.get("expanded_note") or ""
            if m in self.plan.rolled and metric.rollup is not None:
                expanded = w["rolled"].format(dims=metric.rollup.dims, time=metric.rollup.time)
            cells = [
                m,
                info["label"],
                w["metric_kind"],
                metric.unit or ("%" if metric.format == "percent" else ""),
                metric.formula,
                info.get("formula_labeled") or "",
                expanded,
                ", ".join(info["inputs"]),
                ", ".join(info["params"]),
                "",
                f"{info['defined_in'].get('file', '')}:{info['defined_in'].get('line', '')}",
            ]
            for col, text in enumerate(cells, 1):
                self._put_text(ws, row, col, text).alignment = wrap
        for i in inputs:
            row += 1
            item = self.pack.inputs[i]
            origin = item.origin
            cells = [
                i,
                item.label.get(self.locale, i),
                w["input"],
                item.unit or "",
                "",
                "",
                "",
                "",
                "",
                measure_text(item.measure) if item.measure else "",
                f"{origin.file}:{origin.line}",
            ]
            for col, text in enumerate(cells, 1):
                self._put_text(ws, row, col, text).alignment = wrap

    # -- cells -----------------------------------------------------------------------------
    def _put_text(self, ws: Worksheet, row: int, col: int, value: Any) -> Any:
        """A text cell, never a formula (``=HYPERLINK(…)`` from the data stays text)."""
        cell = ws.cell(row, col)
        cell.value = _text(value)
        cell.data_type = "s"
        return cell

    def _fill(self, rgb: str | None) -> PatternFill:
        if rgb is None:
            return PatternFill()
        if rgb not in self.fills:
            self.fills[rgb] = PatternFill("solid", fgColor="FF" + rgb)
        return self.fills[rgb]

    def _label(self, name: str) -> str:
        node = self.pack.node(name)
        return node.label.get(self.locale, name) if node is not None else name
