"""KPI-R010 overlapping or empty bands (and domains), KPI-R007 a band naming an unknown remedy.

A band's edges are inclusive or exclusive (``min`` / ``at_most`` include the edge, ``above`` /
``max`` do not), so two bands meeting at 15% overlap only if both include it.
"""

from __future__ import annotations

from collections.abc import Iterator
from fractions import Fraction

from engine.core.model import Band
from engine.core.problems import Problem
from engine.validate.context import Context, suggest


def _fmt(x: Fraction | None) -> str:
    return "open" if x is None else f"{float(x):g}"


def check_bands(ctx: Context) -> Iterator[Problem]:
    remedies = set(ctx.pack.remedies)
    for m in ctx.pack.metrics.values():
        if m.domain is not None and None not in m.domain and m.domain[0] > m.domain[1]:  # type: ignore[operator]
            yield Problem.at(
                "KPI-R010",
                f"metric '{m.id}': domain [{m.domain[0]:g}, {m.domain[1]:g}] is empty",
                m.loc("domain"),
                path=f"metrics.{m.id}.domain",
                hint="write [low, high] with low <= high",
            )
        for i, band in enumerate(m.bands):
            if _empty(band):
                yield Problem.at(
                    "KPI-R010",
                    f"metric '{m.id}', band {i + 1} ({band.status}): it holds no value "
                    f"({band.edges()})",
                    m.loc("bands", i),
                    path=f"metrics.{m.id}.bands.{i}",
                    hint="the lower bound (min / above) must "
                    "be below the upper one (max / at_most)",
                )
                continue
            for j in range(i):
                other = m.bands[j]
                if _overlap(band, other):
                    yield Problem.at(
                        "KPI-R010",
                        f"metric '{m.id}': band {i + 1} ({band.status}, {band.edges()}) "
                        f"overlaps band {j + 1} ({other.status}, {other.edges()})",
                        m.loc("bands", i),
                        path=f"metrics.{m.id}.bands.{i}",
                        hint="a value may fall in one band only; min and "
                        "at_most include their edge, above and max do not",
                    )
                    break
            for k, rid in enumerate(band.remedies):
                if rid not in remedies:
                    yield Problem.at(
                        "KPI-R007",
                        f"metric '{m.id}', band {i + 1}: unknown remedy '{rid}'",
                        m.loc("bands", i, "remedies", k),
                        path=f"metrics.{m.id}.bands.{i}.remedies.{k}",
                        hint=suggest(rid, remedies) or "define it under remedies",
                    )


_INF = Fraction(10) ** 400


def _low(b: Band) -> tuple[Fraction, bool]:
    return (-_INF, True) if b.min is None else (b.min, b.min_inclusive)


def _high(b: Band) -> tuple[Fraction, bool]:
    return (_INF, True) if b.max is None else (b.max, b.max_inclusive)


def _empty(b: Band) -> bool:
    (lo, lo_in), (hi, hi_in) = _low(b), _high(b)
    return lo > hi or (lo == hi and not (lo_in and hi_in))


def _overlap(a: Band, b: Band) -> bool:
    """Whether some value is in both bands."""
    (la, la_in), (lb, lb_in) = _low(a), _low(b)
    (ha, ha_in), (hb, hb_in) = _high(a), _high(b)
    lo, lo_in = (la, la_in) if la > lb else (lb, lb_in) if lb > la else (la, la_in and lb_in)
    hi, hi_in = (ha, ha_in) if ha < hb else (hb, hb_in) if hb < ha else (ha, ha_in and hb_in)
    return lo < hi or (lo == hi and lo_in and hi_in)
