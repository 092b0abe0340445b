"""KPI-R010 overlapping or empty bands, KPI-R007 a band naming an unknown remedy."""

from __future__ import annotations

from collections.abc import Iterator
from fractions import Fraction

from engine.problems import Problem
from engine.validate.context import Context, suggest


def _fmt(x: Fraction | None) -> str:
    return "open" if x is None else f"{float(x):g}"


def check_bands(ctx: Context) -> Iterator[Problem]:
    remedies = set(ctx.pack.remedies)
    for m in ctx.pack.metrics.values():
        for i, band in enumerate(m.bands):
            if band.min is not None and band.max is not None and band.min >= band.max:
                yield Problem.at("KPI-R010", f"metric '{m.id}', band {i + 1} ({band.status}): min {_fmt(band.min)} "
                                 f"is not below max {_fmt(band.max)}", m.loc("bands", i), path=f"metrics.{m.id}.bands.{i}",
                                 hint="min is inclusive and max exclusive: min must be smaller than max")
                continue
            for j in range(i):
                other = m.bands[j]
                lo = max(_low(band.min), _low(other.min))
                hi = min(_high(band.max), _high(other.max))
                if lo < hi:
                    yield Problem.at(
                        "KPI-R010", f"metric '{m.id}': band {i + 1} ({band.status}, {_fmt(band.min)}..{_fmt(band.max)}) "
                        f"overlaps band {j + 1} ({other.status}, {_fmt(other.min)}..{_fmt(other.max)})",
                        m.loc("bands", i), path=f"metrics.{m.id}.bands.{i}",
                        hint="a value may fall in one band only; min is inclusive, max exclusive")
                    break
            for k, rid in enumerate(band.remedies):
                if rid not in remedies:
                    yield Problem.at("KPI-R007", f"metric '{m.id}', band {i + 1}: unknown remedy '{rid}'",
                                     m.loc("bands", i, "remedies", k), path=f"metrics.{m.id}.bands.{i}.remedies.{k}",
                                     hint=suggest(rid, remedies) or "define it under remedies")


_INF = Fraction(10) ** 400


def _low(x: Fraction | None) -> Fraction:
    return -_INF if x is None else x


def _high(x: Fraction | None) -> Fraction:
    return _INF if x is None else x
