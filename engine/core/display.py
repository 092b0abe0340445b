"""Numbers for people: how a value is rounded and written in tables, CSV and web pages.

The JSON of an evaluation carries exact values (full float64 precision) and bands judge the
exact value. What people read is rounded half away from zero to the metric's places — and
never so that the number shown contradicts its colour: when rounding would carry a value
across a band edge (0.29996 is ``fair`` below ``min: 30%``, but rounds to 30.0%), more places
are shown until the number is on the band's side of the edge (29.996%), at most
:data:`MAX_EXTRA_PLACES` more (docs/evaluation.md, "Output values").
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from engine.core.model import Band, Metric
from engine.core.rounding import round_half_up

#: places added one at a time to keep a shown number on its band's side of an edge; past them the
#: number is shown with every significant digit a float64 holds
MAX_EXTRA_PLACES = 6


def places(fmt: str, decimals: int | None) -> int | None:
    """Decimal places of the value as shown (for a percent, of the ratio: 1 decimal of % is 3);
    None: 15 significant digits."""
    if fmt == "percent":
        return (1 if decimals is None else decimals) + 2
    if fmt == "currency":
        return 2 if decimals is None else decimals
    if fmt == "integer":
        return 0
    return decimals


def band_index(value: float, bands: Sequence[Band]) -> int:
    """The band (its index) the value is in, or -1 (none, or not a number)."""
    if not math.isfinite(value):
        return -1
    return next((k for k, band in enumerate(bands) if band.contains(value)), -1)


def shown(value: float, metric: Metric | None) -> tuple[float, int | None]:
    """The value as shown, and its places: rounded half away from zero to the metric's places,
    with more places where rounding would move it into another band than the exact value's."""
    if not math.isfinite(value) or metric is None:
        return _significant(value), None
    digits = places(metric.format, metric.decimals)
    if digits is None:
        return _significant(value), None
    rounded = float(round_half_up(value, digits))
    if metric.bands:
        band = band_index(value, metric.bands)
        extra = 0
        while band_index(rounded, metric.bands) != band and extra < MAX_EXTRA_PLACES:
            extra += 1
            rounded = float(round_half_up(value, digits + extra))
        if band_index(rounded, metric.bands) != band:  # nearer an edge than six more places tell
            return _significant(value), _places_of(value)
        digits += extra
    return rounded + 0.0, digits


def format_value(
    value: float | None, fmt: str, decimals: int | None, digits: int | None = None
) -> str:
    """A number as a reader expects it: 31.0%, 10,250.00, 1,204. ``digits`` (places of the value,
    as :func:`places` counts them) overrides the format's own places."""
    if value is None or not math.isfinite(value):
        return "—"
    if digits is None:
        digits = places(fmt, decimals)
    if digits is not None:
        value = float(round_half_up(value, digits))
    if fmt == "percent":
        return f"{value * 100:,.{max((digits if digits is not None else 3) - 2, 0)}f}%"
    if digits is not None:
        return f"{value:,.{digits}f}"
    return f"{value:,.4f}".rstrip("0").rstrip(".") if abs(value) < 1e15 else f"{value:.6g}"


def display_text(value: float | None, metric: Metric | None) -> str:
    """A value of a metric (or an input, ``metric`` None) as shown: rounded by :func:`shown`."""
    if value is None:
        return "—"
    number, digits = shown(value, metric)
    if metric is None:
        return format_value(number, "number", None)
    return format_value(number, metric.format, metric.decimals, digits)


def _places_of(value: float) -> int:
    """Decimal places that show ``value`` with its 15 significant digits (0.2999999999 → 10)."""
    text = f"{value:.15g}"
    if "e" in text:
        mantissa, exponent = text.split("e")
        return max(len(mantissa.partition(".")[2]) - int(exponent), 0)
    return len(text.partition(".")[2])


def _significant(value: float) -> float:
    """15 significant digits (what a float64 holds): hides binary noise like 0.30000000000000004."""
    if not math.isfinite(value):
        return value
    return float(f"{value:.15g}") + 0.0
