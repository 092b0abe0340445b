"""Excel formulas for the metrics of a workbook that are plain arithmetic of cells of their row.

A metric's cell gets a formula only when all of this holds (docs/excel.md, "Formulas"):

* its formula is ``+ − × ÷`` (and negation) of numbers, params and inputs or metrics that are
  columns of the same sheet — no function at all (no ``previous``, ``if``, ``coalesce``,
  ``min``/``max``, ``round``, …), no power other than a division, no built-in (``periods``,
  ``days``), and the metric is not rolled up (a metric with ``rollup`` is computed per member
  and base period, then combined: its value is not its formula of the row's totals);
* every number and param it uses is written exactly by 15 significant digits;
* on that row, every cell it reads holds a number, and the formula computed as Excel computes
  it — left to right, ``(a*b)/(c*d)`` as the engine does — gives exactly the engine's value.

Otherwise the cell holds the engine's value. Either way the value stored in the cell (a
formula's cached value) is the engine's value, written with every digit (:func:`exact_values`);
Excel computes the same formula of the same numbers in the same IEEE order, so recalculating
gives it again. A formula with a division is wrapped in ``IFERROR(…,"")``: where an edited cell
makes a divisor 0, Excel shows an empty cell, as the engine gives null, never ``#DIV/0!``.
"""

from __future__ import annotations

import functools
import io
import math
import operator
import re
import zipfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import sympy

#: a row's values by column id → the formula's value (NaN: null)
Compute = Callable[[Mapping[str, float]], float]


class _Unsafe(Exception):
    """The expression is outside the subset that becomes an Excel formula."""


@dataclass(frozen=True)
class CellFormula:
    """A metric's formula as Excel text for any row (``{r}`` stands for the row number), the
    column ids it reads, and how to compute it from a row's values exactly as Excel does."""

    template: str
    reads: tuple[str, ...]
    compute: Compute

    def at(self, row: int) -> str:
        return "=" + self.template.replace("{r}", str(row))

    def value(self, values: Mapping[str, float]) -> float | None:
        """The formula's value on a row, or None when it cannot be shown as a formula there
        (a cell it reads is empty, or a divisor is 0)."""
        if any(not math.isfinite(values[name]) for name in self.reads):
            return None
        result = self.compute(values)
        return result if math.isfinite(result) else None


def cell_formula(
    expr: sympy.Basic, columns: Mapping[str, str], params: Mapping[str, float]
) -> CellFormula | None:
    """The Excel formula of ``expr`` over the columns of a sheet (id → column letter), params
    written as constants; None when ``expr`` is outside the subset (see the module's text)."""
    reads: list[str] = []
    try:
        text, _, compute, divides = _build(expr, columns, params, reads)
    except _Unsafe:
        return None
    if not reads:
        return None  # a constant: nothing to follow
    if divides:
        text = f'IFERROR({text},"")'
    return CellFormula(text, tuple(dict.fromkeys(reads)), compute)


def _constant(value: float) -> str:
    """A number as Excel reads it back exactly (15 significant digits at most)."""
    text = f"{value:.15g}"
    if not math.isfinite(value) or float(text) != value:
        raise _Unsafe
    return text


#: how tightly a piece of formula text binds: a cell or a positive number, a negation, a
#: product or quotient, a sum
ATOM, NEG, MUL, ADD = range(4)
Piece = tuple[str, int, Compute, bool]  # text, how it binds, how to compute it, whether it divides


def _build(
    node: sympy.Basic,
    columns: Mapping[str, str],
    params: Mapping[str, float],
    reads: list[str],
) -> Piece:
    """One node as a piece of Excel formula; raises _Unsafe."""
    if isinstance(node, sympy.Symbol):
        name = node.name
        if name in columns:
            reads.append(name)
            return f"{columns[name]}{{r}}", ATOM, operator.itemgetter(name), False
        if name in params:
            value = float(params[name])
            return _constant(value), NEG if value < 0 else ATOM, lambda _: value, False
        raise _Unsafe
    if isinstance(node, sympy.Number):
        number = float(node)
        return _constant(number), NEG if number < 0 else ATOM, lambda _: number, False
    if isinstance(node, sympy.Add):
        return _sum(node, columns, params, reads)
    if isinstance(node, sympy.Mul):
        return _product(node, columns, params, reads)
    if isinstance(node, sympy.Pow) and node.exp == -1:
        base, bind, fn, _ = _build(node.base, columns, params, reads)
        return f"1/{_wrap(base, bind, ATOM)}", MUL, lambda v: _divide(1.0, fn(v)), True
    raise _Unsafe


def _wrap(text: str, bind: int, loosest: int) -> str:
    """``text`` in parentheses when it binds looser than ``loosest`` allows."""
    return f"({text})" if bind > loosest else text


def _sum(
    node: sympy.Basic,
    columns: Mapping[str, str],
    params: Mapping[str, float],
    reads: list[str],
) -> Piece:
    """``a + b - c``: added left to right, as the NumPy backend adds (``- c`` is ``+ (-1 * c)``,
    the same number in IEEE arithmetic)."""
    pieces = [_build(a, columns, params, reads) for a in node.args]
    text = pieces[0][0]
    for arg, (piece, bind, _, _) in zip(node.args[1:], pieces[1:], strict=True):
        if _negated(arg):  # -x written as a subtraction of x
            inner, inner_bind, _, _ = _build(arg.args[1], columns, params, [])
            text += "-" + (f"({inner})" if inner_bind in (NEG, ADD) else inner)
        else:
            text += "+" + _wrap(piece, bind, MUL if bind != NEG else ATOM)
    fns = [f for _, _, f, _ in pieces]
    return (
        text,
        ADD,
        lambda v: functools.reduce(operator.add, (f(v) for f in fns)),
        any(p[3] for p in pieces),
    )


def _negated(node: sympy.Basic) -> bool:
    """``Mul(-1, x)``: how the parser builds ``-x``."""
    return isinstance(node, sympy.Mul) and len(node.args) == 2 and node.args[0] == -1


def _product(
    node: sympy.Basic,
    columns: Mapping[str, str],
    params: Mapping[str, float],
    reads: list[str],
) -> Piece:
    """``a * b / c``: the product of the factors over the product of the divisors, as the NumPy
    backend computes it (engine.evaluate.backends.numpy_backend)."""
    top: list[Piece] = []
    bottom: list[Piece] = []
    for factor in node.args:
        if isinstance(factor, sympy.Pow) and factor.exp == -1:
            bottom.append(_build(factor.base, columns, params, reads))
        elif isinstance(factor, sympy.Pow):
            raise _Unsafe
        else:
            top.append(_build(factor, columns, params, reads))
    if _negated(node):  # -x
        text, bind, fn, divides = top[1]
        return "-" + _wrap(text, bind, ATOM), NEG, lambda v: -1.0 * fn(v), divides
    up = [f for _, _, f, _ in top]
    down = [f for _, _, f, _ in bottom]
    divides = any(p[3] for p in top + bottom)

    def numerator(v: Mapping[str, float]) -> float:
        return functools.reduce(operator.mul, (f(v) for f in up)) if up else 1.0

    text = "*".join(_wrap(t, b, ATOM if k else MUL) for k, (t, b, _, _) in enumerate(top)) or "1"
    if not bottom:
        return text, MUL, numerator, divides
    if len(bottom) == 1:
        divisor = _wrap(bottom[0][0], bottom[0][1], ATOM)
    else:
        divisor = "(" + "*".join(_wrap(t, b, ATOM) for t, b, _, _ in bottom) + ")"

    def quotient(v: Mapping[str, float]) -> float:
        return _divide(numerator(v), functools.reduce(operator.mul, (f(v) for f in down)))

    return f"{_wrap(text, MUL, MUL)}/{divisor}", MUL, quotient, True


def _divide(a: float, b: float) -> float:
    """a / b, NaN (null) where b is 0, as the engine divides."""
    if b == 0 or math.isnan(a) or math.isnan(b):
        return math.nan
    return a / b


_CELL = re.compile(r'<c r="([A-Z]+[0-9]+)"([^>]*)>(<f>[^<]*</f>)?(<v ?/>|<v>[^<]*</v>)</c>')
_TYPE = re.compile(r'\st="[^"]*"')


def exact_values(workbook: bytes, numbers: Mapping[int, Mapping[str, float]]) -> bytes:
    """The saved workbook with every number of ``numbers`` (sheet index → cell → value) written
    with all its digits (openpyxl writes 16 significant digits: 0.1 + 0.2 would read back as
    0.3), and each formula cell's cached value: its engine value (openpyxl writes none)."""
    source = zipfile.ZipFile(io.BytesIO(workbook))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            data = source.read(info)
            match = re.fullmatch(r"xl/worksheets/sheet([0-9]+)\.xml", info.filename)
            cells = numbers.get(int(match.group(1)) - 1) if match else None
            if cells:
                data = _rewrite(data.decode("utf-8"), cells).encode("utf-8")
            target.writestr(info, data)
    return out.getvalue()


def _rewrite(xml: str, cells: Mapping[str, float]) -> str:
    def cell(m: re.Match[str]) -> str:
        ref, attrs, formula = m.group(1), m.group(2), m.group(3) or ""
        if ref not in cells:
            return m.group(0)
        attrs = _TYPE.sub("", attrs) + ' t="n"'
        return f'<c r="{ref}"{attrs}>{formula}<v>{cells[ref]!r}</v></c>'

    return _CELL.sub(cell, xml)
