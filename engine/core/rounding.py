"""Rounding half away from zero (四舍五入), the rule
of formulas' round() and of every number shown."""

from __future__ import annotations

from typing import Any

import numpy as np


def round_half_up(x: Any, digits: int) -> Any:
    """Round half away from zero (四舍五入), correcting binary representation (2.675 → 2.68)."""
    scale = 10.0**digits
    x = np.asarray(x, dtype=np.float64)
    with np.errstate(all="ignore"):
        y = np.abs(x) * scale
        # 2.675 × 100 is 267.49999999999997: a few units in the last place are binary noise, not
        # a value below the half (and 2.4999996 stays below it)
        out = np.sign(x) * np.floor(y + 0.5 + 8 * np.spacing(y)) / scale
    # a number too large to scale (1e308 × 100) has no digits to round: keep it as it is;
    # + 0.0 turns -0.0 into 0.0
    return np.where(np.isfinite(out), out, x) + 0.0
