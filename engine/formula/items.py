"""What the parser knows about a parsed sub-expression (shared by the parser and its
measure-mode syntax)."""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from engine.formula.functions import Kind


@dataclass(slots=True)
class Item:
    """A parsed sub-expression and what the parser knows about it."""

    expr: Any
    kind: Kind
    start: int  # text span [start, end)
    end: int
    depth: int = 0
    nodes: int = 1
    #: A bare number token (``3``, ``0.5``, ``30%``): windows and exponents must be literals.
    literal: bool = False
    #: Product of the exponents of powers nested inside each other (≥ 1).
    power: Fraction = Fraction(1)
    #: A bare name (possibly in brackets): in measure mode, it may be compared with text.
    name: bool = False
