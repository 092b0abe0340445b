"""Caps that keep hostile formulas cheap to refuse (see the threat model, "Formulas").

Every cap is checked while parsing, before anything expensive happens:

* the text length is checked before the lexer runs (KPI-F005);
* number literals are checked by the lexer before any big integer is built (KPI-F008);
* nesting depth is checked on the way *down*, so the recursive-descent parser stops long
  before Python's recursion limit, and node count on the way up (KPI-F006);
* exponents of ``**`` are literals in a small range (KPI-F007), and powers of powers may not
  multiply their exponents beyond ``max_power_product`` (a tower such as
  ``((x ** 10) ** 10) ** 10`` would otherwise be a cheap way to request a huge number).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Limits:
    """The caps of the formula language. One shared instance: :data:`LIMITS`."""

    #: Longest formula text, in characters (KPI-F005).
    max_length: int = 10_000
    #: Deepest nesting of brackets, function calls and operators (KPI-F006).
    max_depth: int = 64
    #: Most nodes in the parsed sympy tree, as counted by ``count_nodes`` (KPI-F006).
    max_nodes: int = 5_000
    #: Most significant digits in a number literal (KPI-F008).
    max_significant_digits: int = 30
    #: Largest decimal exponent of a number literal, written (``1e300``) or implied
    #: (``0.000…1``), in absolute value (KPI-F008).
    max_decimal_exponent: int = 300
    #: Largest exponent of ``**`` in absolute value (KPI-F007).
    max_power: int = 10
    #: Largest product of the exponents of powers nested inside each other (KPI-F007).
    max_power_product: int = 100
    #: Window lengths of ``previous``, ``rolling_sum``, ``rising``, … (KPI-F011).
    min_window: int = 1
    max_window: int = 1_000
    #: Digits of ``round`` (KPI-F011).
    max_round_digits: int = 10


LIMITS = Limits()
