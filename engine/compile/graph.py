"""Stage 6: the dependency graph of inputs, params, built-ins and metrics (networkx).

An edge ``a → b`` means "b's formula names a". Edges through the first argument of
``previous(...)`` are *lagged*: they reach into the previous period, so a carry-over
recurrence (opening balance = previous closing balance) is not a cycle. Any cycle of
non-lagged edges is an error reported as its path. The evaluation order is the topological
generations of the non-lagged graph, each sorted by definition order for determinism.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import networkx as nx

from engine.core.model import Pack
from engine.core.problems import Problem
from engine.formula.functions import BUILTINS
from engine.formula.sites import MetricFormula


@dataclass(frozen=True)
class DependencyGraph:
    """The graph plus the order in which metrics can be computed."""

    graph: Any  # nx.DiGraph: node attrs kind, label; edge attr lagged
    generations: tuple[tuple[str, ...], ...]  # metrics only, dependencies first

    @property
    def order(self) -> tuple[str, ...]:
        return tuple(m for gen in self.generations for m in gen)

    def upstream(self, node: str) -> set[str]:
        """Everything ``node`` is made of, through lagged edges too."""
        return set(nx.ancestors(self.graph, node))

    def downstream(self, node: str) -> set[str]:
        """Every metric whose value depends on ``node`` (now or in later periods)."""
        return set(nx.descendants(self.graph, node))

    def lagged(self, a: str, b: str) -> bool:
        return bool(self.graph.edges[a, b].get("lagged"))


def build_graph(
    pack: Pack, metrics: Mapping[str, MetricFormula]
) -> tuple[DependencyGraph, list[Problem]]:
    """Build the graph from the metric formulas; report cycles (KPI-R006)."""
    g = nx.DiGraph()
    rank: dict[str, int] = {}
    for kind, section in (
        ("builtin", BUILTINS),
        ("param", pack.params),
        ("input", pack.inputs),
        ("metric", pack.metrics),
    ):
        for ident in section:
            g.add_node(ident, kind=kind)
            rank[ident] = len(rank)
    for target, site in metrics.items():
        for ref in site.parsed.refs:
            if ref.name not in g:
                continue  # an unknown name, reported by KPI-R001
            lagged = ref.lagged
            if g.has_edge(ref.name, target):  # named inside and outside previous(): direct wins
                lagged = lagged and g.edges[ref.name, target]["lagged"]
            g.add_edge(ref.name, target, lagged=lagged)
    now = nx.DiGraph()
    now.add_nodes_from(g.nodes)
    now.add_edges_from((a, b) for a, b, lagged in g.edges(data="lagged") if not lagged and a != b)
    problems = list(_cycles(now, pack, rank))
    if problems:
        return DependencyGraph(g, ()), problems
    generations = tuple(
        tuple(sorted((n for n in gen if g.nodes[n]["kind"] == "metric"), key=rank.__getitem__))
        for gen in nx.topological_generations(now)
    )
    return DependencyGraph(g, tuple(gen for gen in generations if gen)), []


def _cycles(now: Any, pack: Pack, rank: dict[str, int]) -> Iterable[Problem]:
    """One problem per strongly connected group of metrics, naming one cycle's path."""
    for component in sorted(
        nx.strongly_connected_components(now), key=lambda c: min(rank[n] for n in c)
    ):
        if len(component) < 2:
            continue
        sub = now.subgraph(component)
        start = min(component, key=rank.__getitem__)
        edges = nx.find_cycle(sub, source=start)
        path = [a for a, _ in edges]
        turn = path.index(start) if start in path else 0
        path = path[turn:] + path[:turn]
        text = " → ".join([*path, path[0]])
        metric = pack.metrics[path[0]]
        yield Problem.at(
            "KPI-R006",
            f"dependency cycle: {text}",
            metric.loc(),
            path=f"metrics.{path[0]}",
            hint="break the circle, or use previous(...) "
            "if a value should come from the last period",
            related=tuple(path),
        )
