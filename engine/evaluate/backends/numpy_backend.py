"""The in-process backend: formulas as NumPy operations over whole ``[groups × periods]`` arrays.

Each formula (an unevaluated sympy tree from the parser) is compiled once, by walking the
tree, into nested closures; no text is ever evaluated and no symbol name reaches ``exec`` or
``lambdify``. A closure takes ``(ctx, t)``: ``t is None`` computes every cell at once, an
integer ``t`` computes one period for all groups — used only for carry-over recurrences
(opening = previous closing), which are evaluated period by period.

Null is NaN while computing; division by zero and overflow give NaN, a comparison with NaN is
false. Metrics are sanitised so no inf/NaN escapes as a number. This backend is the reference
that the SQL backends are tested against.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import networkx as nx
import numpy as np
import sympy
from numpy.lib.stride_tricks import sliding_window_view

from engine.core.rounding import round_half_up
from engine.evaluate.frame import Frame
from engine.formula import (
    NULL,
    Change,
    Coalesce,
    CumulativeSum,
    Falling,
    Growth,
    If,
    Previous,
    Rising,
    RollingAvg,
    RollingSum,
    Round,
)

Fn = Callable[["Ctx", "int | None"], Any]


@dataclass
class Ctx:
    """What closures read: the frame's columns, params, and where each group starts."""

    frame: Frame
    params: Mapping[str, float]
    columns: dict[str, np.ndarray] = field(default_factory=dict)
    # cumulative sums in a recurrence
    running: dict[int, tuple[int, Any]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        g, t = self.frame.shape
        self.shape = (g, t)
        self.first = self.frame.first[:, None]
        self.col = np.arange(t)[None, :]
        self.columns = self.frame.columns
        self.columns.setdefault("periods", self.frame.count)
        self.columns.setdefault("days", np.broadcast_to(self.frame.days(), (g, t)))

    def full(self, value: Any) -> np.ndarray:
        return np.broadcast_to(np.asarray(value, dtype=np.float64), self.shape)


def _num(node: Any) -> float | None:
    if node is NULL:
        return float("nan")
    if isinstance(node, sympy.Number):
        return float(node)
    return None


class Compiler:
    """Turns sympy trees into closures, memoised per node."""

    def __init__(self) -> None:
        self._memo: dict[Any, Fn] = {}

    def __call__(self, node: Any) -> Fn:
        fn = self._memo.get(node)
        if fn is None:
            fn = self._build(node)
            self._memo[node] = fn
        return fn

    def _build(self, node: Any) -> Fn:  # noqa: C901 - one branch per node type of the language
        const = _num(node)
        if const is not None:
            return lambda ctx, t: const
        if node is sympy.true or node is sympy.false:
            truth = bool(node)
            return lambda ctx, t: truth
        if isinstance(node, sympy.Symbol):
            name = node.name

            def read(ctx: Ctx, t: int | None) -> Any:
                if name in ctx.params:
                    return ctx.params[name]
                column = ctx.columns[name]
                return column if t is None else column[:, t]

            return read
        args = [self(a) for a in node.args]
        if isinstance(node, sympy.Add):
            return lambda ctx, t: functools.reduce(np.add, (f(ctx, t) for f in args))
        if isinstance(node, sympy.Mul):
            return self._mul(node)
        if isinstance(node, sympy.Pow):
            return self._pow(node)
        if isinstance(node, sympy.Rel):
            return _relation(node.rel_op, args[0], args[1])
        if isinstance(node, sympy.And):
            return lambda ctx, t: functools.reduce(np.logical_and, (f(ctx, t) for f in args))
        if isinstance(node, sympy.Or):
            return lambda ctx, t: functools.reduce(np.logical_or, (f(ctx, t) for f in args))
        if isinstance(node, sympy.Not):
            return lambda ctx, t: np.logical_not(args[0](ctx, t))
        if isinstance(node, If):
            c, a, b = args
            return lambda ctx, t: np.where(c(ctx, t), a(ctx, t), b(ctx, t))
        if isinstance(node, Coalesce):

            def coalesce(ctx: Ctx, t: int | None) -> Any:
                out = args[0](ctx, t)
                for f in args[1:]:
                    out = np.where(np.isnan(out), f(ctx, t), out)
                return out

            return coalesce
        if isinstance(node, sympy.Min):
            return lambda ctx, t: functools.reduce(np.minimum, (f(ctx, t) for f in args))
        if isinstance(node, sympy.Max):
            return lambda ctx, t: functools.reduce(np.maximum, (f(ctx, t) for f in args))
        if isinstance(node, sympy.Abs):
            return lambda ctx, t: np.abs(args[0](ctx, t))
        if isinstance(node, Round):
            digits = int(node.args[1]) if len(node.args) > 1 else 0
            return lambda ctx, t: round_half_up(args[0](ctx, t), digits)
        if isinstance(node, Previous):
            return _previous(args[0], int(node.args[1]), args[2])
        if isinstance(node, Change):
            prev = _previous(args[0], 1, lambda ctx, t: np.nan)
            return lambda ctx, t: np.subtract(args[0](ctx, t), prev(ctx, t))
        if isinstance(node, Growth):
            before = _previous(args[0], 1, lambda ctx, t: np.nan)

            def growth(ctx: Ctx, t: int | None) -> Any:
                p = before(ctx, t)
                return _divide(np.subtract(args[0](ctx, t), p), p)

            return growth
        if isinstance(node, RollingSum | RollingAvg):
            return _rolling(args[0], int(node.args[1]), isinstance(node, RollingAvg))
        if isinstance(node, CumulativeSum):
            return _cumulative(args[0])
        if isinstance(node, Rising | Falling):
            return _streak(args[0], int(node.args[1]), isinstance(node, Rising))
        # parser bug, not user input
        raise TypeError(f"no NumPy rendering for {type(node).__name__}")

    def _mul(self, node: Any) -> Fn:
        num: list[Fn] = []
        den: list[Fn] = []
        for factor in node.args:
            if (
                isinstance(factor, sympy.Pow)
                and _num(factor.exp) is not None
                and float(factor.exp) < 0
            ):
                den.append(
                    self(sympy.Pow(factor.base, -factor.exp, evaluate=False))
                    if factor.exp != -1
                    else self(factor.base)
                )
            else:
                num.append(self(factor))

        def mul(ctx: Ctx, t: int | None) -> Any:
            top = functools.reduce(np.multiply, (f(ctx, t) for f in num)) if num else 1.0
            if not den:
                return top
            return _divide(top, functools.reduce(np.multiply, (f(ctx, t) for f in den)))

        return mul

    def _pow(self, node: Any) -> Fn:
        base = self(node.base)
        exp = float(node.exp)
        if exp < 0:
            return lambda ctx, t: _divide(1.0, np.power(base(ctx, t), -exp))
        return lambda ctx, t: np.power(base(ctx, t), exp)


def _divide(a: Any, b: Any) -> Any:
    """a / b, with null (NaN) where b is 0."""
    out = np.true_divide(a, b)
    if isinstance(out, np.ndarray):
        zero = np.equal(b, 0)
        if np.any(zero):
            out = np.where(zero, np.nan, out)
        return out
    return np.nan if b == 0 else out


def _relation(op: str, left: Fn, right: Fn) -> Fn:
    compare = {
        "<": np.less,
        "<=": np.less_equal,
        ">": np.greater,
        ">=": np.greater_equal,
        "==": np.equal,
    }.get(op)
    if compare is not None:  # NaN already compares false
        return lambda ctx, t: compare(left(ctx, t), right(ctx, t))

    def not_equal(ctx: Ctx, t: int | None) -> Any:
        a, b = left(ctx, t), right(ctx, t)
        return np.not_equal(a, b) & ~np.isnan(a) & ~np.isnan(b)

    return not_equal


def _previous(x: Fn, n: int, default: Fn) -> Fn:
    def previous(ctx: Ctx, t: int | None) -> Any:
        if t is None:
            value = ctx.full(x(ctx, None))
            shifted = np.full(ctx.shape, np.nan)
            if n < ctx.shape[1]:
                shifted[:, n:] = value[:, : ctx.shape[1] - n]
            return np.where(ctx.col - n < ctx.first, default(ctx, None), shifted)
        before = (t - n) < ctx.first[:, 0]
        earlier = x(ctx, t - n) if t - n >= 0 else np.nan
        return np.where(before, default(ctx, t), earlier)

    return previous


def _rolling(x: Fn, n: int, average: bool) -> Fn:
    def rolling(ctx: Ctx, t: int | None) -> Any:
        out: Any
        if t is None:
            value = ctx.full(x(ctx, None))
            out = np.full(ctx.shape, np.nan)
            if n <= ctx.shape[1]:
                out[:, n - 1 :] = sliding_window_view(value, n, axis=1).sum(axis=-1)
        else:
            out = (
                np.nan
                if t - n + 1 < 0
                else functools.reduce(np.add, (x(ctx, s) for s in range(t - n + 1, t + 1)))
            )
        return np.divide(out, n) if average else out

    return rolling


def _cumulative(x: Fn) -> Fn:
    def cumulative(ctx: Ctx, t: int | None) -> Any:
        if t is None:
            value = np.where(ctx.col < ctx.first, 0.0, ctx.full(x(ctx, None)))
            return np.cumsum(value, axis=1)
        # inside a recurrence periods come in order: keep a running total instead of re-summing
        memo = ctx.running.get(id(cumulative))
        if memo is not None and memo[0] == t - 1:
            total = memo[1] + np.where(t < ctx.first[:, 0], 0.0, x(ctx, t))
        else:
            total = np.zeros(ctx.shape[0])
            for s in range(t + 1):
                total = total + np.where(s < ctx.first[:, 0], 0.0, x(ctx, s))
        ctx.running[id(cumulative)] = (t, total)
        return total

    return cumulative


def _streak(x: Fn, n: int, rising: bool) -> Fn:
    step = np.greater if rising else np.less

    def streak(ctx: Ctx, t: int | None) -> Any:
        if t is None:
            value = ctx.full(x(ctx, None))
            ok = np.zeros(ctx.shape, bool)
            ok[:, 1:] = step(value[:, 1:], value[:, :-1])
            out = np.zeros(ctx.shape, bool)
            if n < ctx.shape[1]:
                out[:, n:] = sliding_window_view(ok[:, 1:], n, axis=1).all(axis=-1)
            return out
        if t - n < 0:
            return np.zeros(ctx.shape[0], bool)
        return functools.reduce(
            np.logical_and, (step(x(ctx, s), x(ctx, s - 1)) for s in range(t - n + 1, t + 1))
        )

    return streak


class NumpyBackend:
    """Evaluates metrics over a frame, in place (``frame.columns`` gains one array per metric)."""

    name = "numpy"

    def __init__(self) -> None:
        self.compile = Compiler()

    def run(
        self,
        frame: Frame,
        metrics: Sequence[str],
        formulas: Mapping[str, Any],
        graph: Any,
        params: Mapping[str, float],
    ) -> Ctx:
        ctx = Ctx(frame, params)
        wanted = [m for m in metrics if m not in frame.columns]
        sub = graph.subgraph(wanted)
        condensed = nx.condensation(sub)
        position = {m: i for i, m in enumerate(wanted)}
        with np.errstate(all="ignore"):
            # components in dependency order (lagged edges included: previous(y) needs all of y),
            # ties broken by the plan's order so that evaluation is deterministic
            for comp in nx.lexicographical_topological_sort(
                condensed, key=lambda c: _rank(condensed, c, position)
            ):
                members = sorted(condensed.nodes[comp]["members"], key=position.__getitem__)
                recurrence = len(members) > 1 or sub.has_edge(members[0], members[0])
                if not recurrence:
                    m = members[0]
                    # read-only
                    ctx.columns[m] = _clean(ctx.full(self.compile(formulas[m])(ctx, None)))
                    continue
                for m in members:
                    ctx.columns[m] = np.full(ctx.shape, np.nan)
                fns = [(m, self.compile(formulas[m])) for m in members]
                for t in range(ctx.shape[1]):
                    for m, fn in fns:
                        ctx.columns[m][:, t] = fn(ctx, t)
                for m in members:
                    ctx.columns[m] = _clean(ctx.columns[m])
        return ctx

    def value(self, ctx: Ctx, expr: Any) -> np.ndarray:
        """Any expression (a check side, a rule condition, a sub-formula) over the whole frame."""
        with np.errstate(all="ignore"):
            out = self.compile(expr)(ctx, None)
        if isinstance(out, np.ndarray) and out.dtype == bool or isinstance(out, bool | np.bool_):
            return np.broadcast_to(np.asarray(out, bool), ctx.shape)
        return ctx.full(out)


def _rank(condensed: Any, comp: int, position: Mapping[str, int]) -> int:
    return min(position[m] for m in condensed.nodes[comp]["members"])


def _clean(values: Any) -> np.ndarray:
    """A metric's values with ±inf (overflow) made null. Arrays are never written to afterwards,
    so a column shared with an input (a metric that is just ``x``) is safe."""
    out = np.asarray(values, dtype=np.float64)
    overflow = np.isinf(out)
    if overflow.any():
        out = np.where(overflow, np.nan, out)
    return out
