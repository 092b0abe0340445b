"""Why a value is null, and what a value is made of (trace), for one cell at a time.

Values are computed column-wise without tracking reasons (that would double the work for the
rare null). When a null is shown, this module walks the metric's formula at that cell, using
the backend's own values of each sub-expression — so the semantics live in one place — down to
the first cause: a division by zero, a blank cell, a period with no data, an overflow.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import sympy

from engine.compile.expand import transform
from engine.evaluate.backends.numpy_backend import Ctx, NumpyBackend
from engine.evaluate.frame import Frame
from engine.formula import (
    NULL,
    Change,
    CumulativeSum,
    Falling,
    Growth,
    If,
    Previous,
    Rising,
    RollingAvg,
    RollingSum,
    to_text,
)
from engine.formula.functions import TIME_CLASSES


def format_number(value: float) -> str:
    """A number as a person writes it: 17000, 0.31, 1.5e-07 (15 significant digits)."""
    if not math.isfinite(value):
        return "null"
    text = f"{value:.15g}"
    if "e" not in text and "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


class Explainer:
    def __init__(
        self,
        ctx: Ctx,
        backend: NumpyBackend,
        formulas: dict[str, Any],
        inputs: set[str],
        rolled: set[str],
    ) -> None:
        self.ctx = ctx
        self.frame: Frame = ctx.frame
        self.backend = backend
        self.formulas = formulas
        self.inputs = inputs
        self.rolled = rolled
        self._values: dict[Any, np.ndarray] = {}
        self._reasons: dict[tuple[str, int, int], str] = {}

    def _value(self, node: Any) -> np.ndarray:
        if node not in self._values:
            self._values[node] = np.asarray(self.backend.value(self.ctx, node), dtype=np.float64)
        return self._values[node]

    def _at(self, node: Any, g: int, t: int) -> float:
        return float(self._value(node)[g, t])

    def reason(self, name: str, g: int, t: int) -> str:
        """Why ``name`` (a metric or an input) is null at cell (g, t)."""
        key = (name, g, t)
        if key not in self._reasons:
            self._reasons[key] = self._reason(name, g, t)
        return self._reasons[key]

    def _reason(self, name: str, g: int, t: int) -> str:
        period = self.frame.label(t)
        if not self.frame.present[g, t]:
            return f"no data for {period}"
        if name in self.formulas and name not in self.rolled:
            value = float(self.ctx.columns[name][g, t])
            if not math.isnan(value):
                return ""
            raw = self._at(self.formulas[name], g, t)
            if math.isinf(raw):
                return f"overflow: {name} is too large"
            return self._why(self.formulas[name], g, t) or f"{name} is not a number"
        if name in self.rolled:
            return f"{name} has no value to combine for {period}"
        if name in self.inputs:
            return f"{name} is empty in the data for {period}"
        return f"{name} has no value"

    def _why(self, node: Any, g: int, t: int) -> str | None:  # noqa: C901 - one case per node type
        if t < 0:
            return None
        value = self._at(node, g, t)
        if not math.isnan(value) and not math.isinf(value):
            return None
        if math.isinf(value):
            return f"overflow in {_short(node)}"
        if node is NULL:
            return "null in the formula"
        if isinstance(node, sympy.Symbol):
            return self.reason(node.name, g, t) or None
        if isinstance(node, sympy.Mul | sympy.Pow):
            for den in _denominators(node):
                if self._at(den, g, t) == 0:
                    text = to_text(den)
                    if isinstance(den, sympy.Number):
                        return f"division by zero: the formula divides by {text}"
                    return f"division by zero: {text} = 0"
        if isinstance(node, Previous | Change | Growth):
            x, n = node.args[0], int(node.args[1]) if isinstance(node, Previous) else 1
            if t - n < self.frame.first[g]:
                if isinstance(node, Previous) and node.args[2] is not NULL:
                    return (
                        self._why(node.args[2], g, t) or f"no period before {self.frame.label(t)}"
                    )
                return f"no period before {self.frame.label(t)}"
            if not self.frame.present[g, t - n]:
                return f"no data for {self.frame.label(t - n)}"
            if isinstance(node, Growth) and self._at(x, g, t - 1) == 0:
                return f"division by zero: previous({to_text(x)}) = 0"
            return self._elsewhere(self._why(x, g, t - n), t - n) or self._why(x, g, t)
        if isinstance(node, RollingSum | RollingAvg | CumulativeSum):
            x = node.args[0]
            start = (
                int(self.frame.first[g])
                if isinstance(node, CumulativeSum)
                else t - int(node.args[1]) + 1
            )
            if start < self.frame.first[g]:
                return f"fewer than {int(node.args[1])} periods up to {self.frame.label(t)}"
            for s in range(start, t + 1):
                if not self.frame.present[g, s]:
                    return f"no data for {self.frame.label(s)}"
                found = self._elsewhere(self._why(x, g, s), s) if s != t else self._why(x, g, s)
                if found:
                    return found
            return None
        if isinstance(node, If):
            branch = node.args[1] if bool(self._value(node.args[0])[g, t]) else node.args[2]
            return self._why(branch, g, t)
        for arg in node.args:
            found = self._why(arg, g, t)
            if found:
                return found
        return None

    def _elsewhere(self, reason: str | None, s: int) -> str | None:
        """A reason found in another period says which one."""
        label = self.frame.label(s)
        if reason is None or label in reason:
            return reason
        return f"{reason} (in {label})"

    def with_values(self, name: str, g: int, t: int) -> str:
        """The formula of ``name`` with every name and time-function call replaced by its value."""

        def leaf(node: Any) -> Any | None:
            if isinstance(node, (sympy.Symbol, *TIME_CLASSES)):
                value = (
                    self._at(node, g, t)
                    if not isinstance(node, Rising | Falling)
                    else float(bool(self._value(node)[g, t]))
                )
                text = format_number(value)
                if isinstance(node, Rising | Falling):
                    text = "true" if value else "false"
                return sympy.Symbol(f"({text})" if text.startswith("-") else text)
            return None

        return to_text(transform(self.formulas[name], leaf, evaluate=False))


def _denominators(node: Any) -> list[Any]:
    factors = node.args if isinstance(node, sympy.Mul) else (node,)
    out = []
    for f in factors:
        if isinstance(f, sympy.Pow) and isinstance(f.exp, sympy.Number) and f.exp < 0:
            out.append(f.base if f.exp == -1 else sympy.Pow(f.base, -f.exp, evaluate=False))
    return out


def _short(node: Any) -> str:
    text = to_text(node)
    return text if len(text) <= 60 else text[:57] + "…"
