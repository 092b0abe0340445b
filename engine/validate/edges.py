"""KPI-R021: a rule and a band of the same metric that put an edge value on different sides.

The document reads "流失率 > 15%" as a rule and "critical from 15%" as a band; at exactly 15%
the band would say critical while the rule stays silent. For each comparison of a metric with a
number in a rule's ``when`` (``churn_rate > 15%``, ``15% < churn_rate``), if the number is also
an edge of one of the metric's bands, the band that holds the number itself must be on the
side where the rule puts it: ``>`` and ``<=`` put it below the edge (``at_most`` / ``above``),
``>=`` and ``<`` above it (``min`` / ``max``).
"""

from __future__ import annotations

from collections.abc import Iterator
from fractions import Fraction

import sympy

from engine.core.model import Band, Metric
from engine.core.problems import Problem
from engine.validate.context import Context

#: the side of the edge where a comparison puts the edge value itself
_SIDE = {">": "below", "<=": "below", ">=": "above", "<": "above"}
_FLIP = {">": "<", "<": ">", ">=": "<=", "<=": ">="}


def check_edges(ctx: Context) -> Iterator[Problem]:
    metrics = ctx.pack.metrics
    for site in ctx.rules.values():
        for rel in (
            n for n in sympy.preorder_traversal(site.parsed.expr) if isinstance(n, sympy.Rel)
        ):
            op = rel.rel_op
            if op not in _SIDE:
                continue
            left, right = rel.args
            if isinstance(right, sympy.Symbol) and isinstance(left, sympy.Number):
                left, right, op = right, left, _FLIP[op]
            if not (isinstance(left, sympy.Symbol) and isinstance(right, sympy.Number)):
                continue
            metric = metrics.get(left.name)
            if metric is None or not metric.bands:
                continue
            edge = (
                Fraction(str(right))
                if isinstance(right, sympy.Float)
                else Fraction(int(right.p), int(right.q))
            )
            side = _band_side(metric, edge)
            if side is None or side[0] == _SIDE[op]:
                continue
            _, band, bound = side
            rule, shown = site.owner.id, f"{float(edge):g}"
            says = "fires" if op in (">=", "<=") else "does not fire"
            verdict = (
                f"it is in the band '{band.status}' {band.edges()}"
                if bound in ("min", "at_most")
                else f"the band '{band.status}' {band.edges()} leaves it out"
            )
            fix = _FIX[bound]
            yield Problem.at(
                "KPI-R021",
                f"rule '{rule}' {says} at exactly {metric.id} = {shown} ({left.name} "
                f"{op} {shown}), but {verdict}: at the edge they disagree",
                site.loc(0),
                path=site.path,
                hint=f"write `{fix[1]}: {shown}` instead of `{fix[0]}: "
                f"{shown}` in the band, or change the rule's comparison (> "
                "and <= leave the edge value below it, >= and < above it)",
            )


#: the bound of the band that decides an edge → (as written, what agrees with the rule)
_FIX = {
    "min": ("min", "above"),
    "at_most": ("at_most", "max"),
    "above": ("above", "min"),
    "max": ("max", "at_most"),
}


def _band_side(metric: Metric, edge: Fraction) -> tuple[str, Band, str] | None:
    """Which side of ``edge`` the bands put the value ``edge`` itself on ("above" / "below"), the
    band that decides it, and its bound there (min, above, max or at_most)."""
    for band in metric.bands:
        if band.min == edge and band.min_inclusive:
            return "above", band, "min"
        if band.max == edge and band.max_inclusive:
            return "below", band, "at_most"
    for (
        band
    ) in metric.bands:  # no band holds the value: the one that starts or ends there leaves it out
        if band.min == edge:
            return "below", band, "above"
        if band.max == edge:
            return "above", band, "max"
    return None
