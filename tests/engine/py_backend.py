"""A third backend of a plan's steps, for tests: plain Python over dicts of cells, one value at a
time, written from docs/evaluation.md and not from the NumPy code. It computes what it can — the
formulas without time functions, at day, month, quarter and year grains of non-week data — and
raises :class:`Unsupported` for the rest, so a test says what it compares.

Null is ``None``: arithmetic with null is null, division by zero is null, a comparison with
null is false, ``min`` / ``max`` of a null is null; a roll-up of a null is null, ``first`` /
``last`` take the first / last period present (null or not).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import timedelta
from typing import Any

import sympy

from engine.core.periods import Period, parse_period
from engine.evaluate.plan import Plan
from engine.evaluate.steps import (
    CombineMembers,
    CombinePeriods,
    ComputeMetrics,
    MeasureDirect,
    ReadInputs,
    ShapeOutput,
)
from engine.formula import NULL, Coalesce, If

Value = float | None
Key = tuple[tuple[str, ...], int]  # (dimension members, period index)


class Unsupported(Exception):
    """This backend does not compute that (a time function, week or "all" calendars, …)."""


@dataclass(frozen=True)
class PyState:
    grain: str
    dims: tuple[str, ...]
    cells: dict[Key, dict[str, Value]]
    count: dict[Key, int]  # base periods in each cell (the `periods` built-in)
    shaped: bool = False
    log: tuple[str, ...] = field(default=())


class PyBackend:
    """Executes a plan's steps over input rows given as dicts (``period`` label, dimensions,
    inputs; a missing or ``None`` cell is null, or the input's default when it has one)."""

    def __init__(self, plan: Plan, rows: Sequence[Mapping[str, Any]]) -> None:
        self.plan = plan
        self.rows = rows
        self.cut = plan.as_of + timedelta(days=1) if plan.as_of is not None else None

    # -- steps

    def read_inputs(self, step: ReadInputs) -> PyState:
        specs = self.plan.compiled.pack.inputs
        cells: dict[Key, dict[str, Value]] = {}
        for row in self.rows:
            period = parse_period(str(row["period"]))
            if period.grain != step.grain:
                raise Unsupported("rows of mixed grains")
            key = (tuple(str(row[d]) for d in step.dims), period.index)
            values: dict[str, Value] = {}
            for name in step.inputs:
                raw = row.get(name)
                if raw is None or raw == "":
                    default = specs[name].default
                    values[name] = None if default is None else float(default)
                else:
                    values[name] = float(raw)
            assert key not in cells, f"duplicate row {key}"
            cells[key] = values
        return PyState(step.grain, step.dims, cells, dict.fromkeys(cells, 1), log=("read",))

    def compute_metrics(self, state: PyState, step: ComputeMetrics) -> PyState:
        if step.level == "output" and not state.shaped:
            raise AssertionError("output metrics are computed on the shaped output")
        formulas = {m: s.parsed.expr for m, s in self.plan.compiled.metrics.items()}
        cells = {}
        for key, values in state.cells.items():
            env = dict(values)
            env["periods"] = float(state.count[key])
            env["days"] = float(self._days(state.grain, key[1]))
            env.update(self.plan.params)
            for m in step.metrics:  # evaluation order: what a metric uses comes first
                env[m] = _clean(_value(formulas[m], env))
            cells[key] = {
                **values,
                **{m: env[m] for m in step.metrics},
            }
        return replace(state, cells=cells, log=(*state.log, f"compute {step.level}"))

    def combine_members(self, state: PyState, step: CombineMembers) -> PyState:
        pos = [state.dims.index(d) for d in step.by]
        groups: dict[Key, list[Key]] = defaultdict(list)
        for key in state.cells:
            groups[(tuple(key[0][i] for i in pos), key[1])].append(key)
        cells, count = {}, {}
        for out, members in groups.items():
            cells[out] = {
                n: _combine([state.cells[k][n] for k in members], how) for n, how in step.carried
            }
            count[out] = max(state.count[k] for k in members)
        return PyState(state.grain, step.by, cells, count, log=(*state.log, "members"))

    def combine_periods(self, state: PyState, step: CombinePeriods) -> PyState:
        if step.grain == "all" or step.base == "week":
            raise Unsupported("the calendar of an 'all' period or of weeks")
        groups: dict[Key, list[Key]] = defaultdict(list)
        for key in state.cells:
            groups[(key[0], Period(step.base, key[1]).to(step.grain).index)].append(key)
        cells, count = {}, {}
        for out, keys in groups.items():
            keys.sort(key=lambda k: k[1])  # by period, for first and last
            cells[out] = {
                n: _combine([state.cells[k][n] for k in keys], how) for n, how in step.carried
            }
            count[out] = sum(state.count[k] for k in keys)
        return PyState(step.grain, state.dims, cells, count, log=(*state.log, "periods"))

    def measure_direct(self, state: PyState, step: MeasureDirect) -> PyState:
        raise Unsupported("measuring raw records")

    def shape_output(self, state: PyState, step: ShapeOutput) -> PyState:
        return replace(state, shaped=True, log=(*state.log, "shape"))

    # -- the results

    def values(self, state: PyState) -> dict[tuple[str, tuple[str, ...]], dict[str, Value]]:
        """(period label, dimension members) → the values of the cell."""
        return {
            (Period(state.grain, t).label, members): values
            for (members, t), values in state.cells.items()
        }

    def _days(self, grain: str, t: int) -> int:
        """Days the period covers, up to the data's last day (as of)."""
        p = Period(grain, t)
        start, end = p.start, p.end + timedelta(days=1)
        if self.cut is not None and self.cut < end:
            end = max(self.cut, start)
        return (end - start).days


def _combine(values: list[Value], how: str) -> Value:
    if how == "first":
        return values[0]
    if how == "last":
        return values[-1]
    if any(v is None for v in values):
        return None
    known = [v for v in values if v is not None]
    if how == "sum":
        return sum(known)
    if how == "avg":
        return sum(known) / len(known)
    if how == "min":
        return min(known)
    if how == "max":
        return max(known)
    raise Unsupported(f"rollup {how}")


def _clean(v: Any) -> Value:
    if v is None or isinstance(v, bool):
        return None if v is None else float(v)
    f = float(v)
    return f if math.isfinite(f) else None


def _value(node: Any, env: Mapping[str, Any]) -> Any:  # noqa: C901 - one case per node type
    """A number (or None), or a truth value for a condition."""
    if node is NULL:
        return None
    if node is sympy.true or node is sympy.false:
        return bool(node)
    if isinstance(node, sympy.Number):
        return float(node)
    if isinstance(node, sympy.Symbol):
        if node.name not in env:
            raise Unsupported(f"name {node.name}")
        return env[node.name]
    if isinstance(node, If):
        return _value(node.args[1] if _value(node.args[0], env) else node.args[2], env)
    if isinstance(node, Coalesce):
        for arg in node.args:
            v = _value(arg, env)
            if v is not None:
                return v
        return None
    if isinstance(node, sympy.And):
        return all(_value(a, env) for a in node.args)
    if isinstance(node, sympy.Or):
        return any(_value(a, env) for a in node.args)
    if isinstance(node, sympy.Not):
        return not _value(node.args[0], env)
    if isinstance(node, sympy.Mul):  # a / b is a × b⁻¹ in the tree: divide, as written
        top, bottom = [], []
        for factor in node.args:
            if isinstance(factor, sympy.Pow) and factor.exp.is_number and factor.exp < 0:
                base = _value(factor.base, env)
                bottom.append(None if base is None else base ** float(-factor.exp))
            else:
                top.append(_value(factor, env))
        if any(v is None for v in top + bottom):
            return None
        num, den = math.prod(top), math.prod(bottom)
        return None if den == 0 else num / den
    args = [_value(a, env) for a in node.args]
    if isinstance(node, sympy.Rel):
        a, b = args
        if a is None or b is None:
            return False
        return {"<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b, "==": a == b, "!=": a != b}[
            node.rel_op
        ]
    if any(a is None for a in args):
        return None
    if isinstance(node, sympy.Add):
        return sum(args)
    if isinstance(node, sympy.Pow):
        base, power = args
        if base == 0 and power < 0:
            return None  # division by zero
        return base**power
    if isinstance(node, sympy.Min):
        return min(args)
    if isinstance(node, sympy.Max):
        return max(args)
    if isinstance(node, sympy.Abs):
        return abs(args[0])
    raise Unsupported(type(node).__name__)
