"""Substituting metric formulas into each other, down to inputs and params.

Expansion stops at ``previous(...)`` (last period's value is a value of its own, and a
carry-over recurrence would otherwise never end). Substituting formulas into each other can
blow up (16 levels of doubling make a megabyte), so the size and depth of an expansion are
computed from the graph first, and nothing larger than the limits is ever built.
Everything here is iterative: expanded trees can be far deeper than Python's stack.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import sympy
from sympy.logic.boolalg import BooleanFunction

from engine.compile.graph import DependencyGraph
from engine.formula import Previous, symbol
from engine.formula import rebuild as rebuild_as_written
from engine.formula.sites import MetricFormula

MAX_EXPANDED_NODES = 4000
MAX_EXPANDED_DEPTH = 120
SIZE_CAP = 10**12  # sizes are counted up to here (a doubling chain grows as 2**n)


def rebuild(node: Any, args: tuple[Any, ...], evaluate: bool) -> Any:
    """``node`` with new arguments; evaluated (so algebra applies) or kept as the parser built it.

    Conditions (and / or / not and our condition functions) are never re-evaluated: sympy's
    ``And``/``Or`` would simplify ``x < 1 or x >= 1`` to true, which is wrong when x is null.
    """
    if not evaluate or isinstance(node, BooleanFunction):
        return rebuild_as_written(node, args)
    return node.func(*args)


def transform(expr: Any, leaf: Callable[[Any], Any | None], evaluate: bool) -> Any:
    """Rebuild ``expr`` bottom-up, replacing a node where ``leaf(node)`` returns a value.

    ``previous(...)`` is kept whole: nothing inside it is replaced.
    """
    memo: dict[Any, Any] = {}
    stack: list[tuple[Any, bool]] = [(expr, False)]
    while stack:
        node, ready = stack.pop()
        if node in memo:
            continue
        replaced = leaf(node)
        if replaced is not None:
            memo[node] = replaced
            continue
        if not node.args or isinstance(node, Previous):
            memo[node] = rebuild(node, node.args, evaluate) if evaluate and node.args else node
            continue
        if ready:
            memo[node] = rebuild(node, tuple(memo[a] for a in node.args), evaluate)
        else:
            stack.append((node, True))
            stack.extend((a, False) for a in node.args if a not in memo)
    return memo[expr]


@dataclass
class Expander:
    """Expands metrics (and checks' and rules' conditions) down to inputs and params."""

    metrics: Mapping[str, MetricFormula]  # metric id → its formula
    graph: DependencyGraph
    _size: dict[str, int] = field(default_factory=dict)
    _depth: dict[str, int] = field(default_factory=dict)
    _cache: dict[tuple[str, bool], Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # sizes in dependency order: a reference to a metric costs that metric's expansion
        for m in self.graph.order:
            parsed = self.metrics[m].parsed
            size, depth = parsed.node_count, parsed.depth
            for ref in parsed.refs:
                if not ref.lagged and ref.name in self._size:
                    size += self._size[ref.name] - 1
                    depth = max(depth, parsed.depth + self._depth[ref.name])
            self._size[m] = min(size, SIZE_CAP)
            self._depth[m] = depth

    def cost(self, refs: Any, node_count: int, depth: int) -> tuple[int, int]:
        """Size and depth that expanding a formula with these refs would produce."""
        size, d = node_count, depth
        for ref in refs:
            if not ref.lagged and ref.name in self._size:
                size += self._size[ref.name] - 1
                d = max(d, depth + self._depth[ref.name])
        return size, d

    def fits(self, metric: str) -> bool:
        return (
            self._size.get(metric, 0) <= MAX_EXPANDED_NODES
            and self._depth.get(metric, 0) <= MAX_EXPANDED_DEPTH
        )

    def size(self, metric: str) -> int:
        return self._size.get(metric, 0)

    def metric(self, metric: str, evaluate: bool = False) -> Any | None:
        """The expansion of a metric, or None if it would be too large."""
        if not self.fits(metric):
            return None
        key = (metric, evaluate)
        if key not in self._cache:
            self._cache[key] = self.expression(self.metrics[metric].parsed.expr, evaluate)
        return self._cache[key]

    def expression(self, expr: Any, evaluate: bool = False) -> Any:
        """Expand every metric named in ``expr`` (callers check the cost first)."""

        def leaf(node: Any) -> Any | None:
            if isinstance(node, sympy.Symbol) and node.name in self.metrics:
                return self.metric(node.name, evaluate)
            return None

        return transform(expr, leaf, evaluate)


def evaluated(expr: Any) -> Any:
    """The same tree with sympy's algebra applied (for proofs only, never for values)."""
    return transform(expr, lambda _node: None, evaluate=True)


__all__ = ["Expander", "evaluated", "rebuild", "symbol", "transform"]
