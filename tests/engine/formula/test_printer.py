"""Golden tests of the printers: formula text and LaTeX, labels, deep trees, round trips."""

from __future__ import annotations

import pytest
import sympy

from engine.formula import (
    NULL,
    Previous,
    count_nodes,
    parse_formula,
    symbol,
    to_latex,
    to_text,
)

x, y, a, b, c = (symbol(n) for n in ("x", "y", "a", "b", "c"))


def parsed(formula: str) -> sympy.Basic:
    return parse_formula(formula, expect="any").expr


# -- to_text on trees that did not come from the parser (evaluated, substituted) -------------

EVALUATED_CASES: list[tuple[str, sympy.Basic, str]] = [
    ("subtraction", x - 2 * y, "x - 2 * y"),
    ("half", x / 2, "0.5 * x"),
    ("third", x / 3, "1/3 * x"),
    ("negative product", -x * y, "-x * y"),
    ("minus a product", a - b * c, "a - b * c"),
    ("minus a third", a - sympy.Rational(1, 3), "-1/3 + a"),
    ("power", 2 * x**-2, "2 * x ** -2"),
    ("negated power", -(x**2), "-x ** 2"),
    ("root", sympy.sqrt(x), "x ** 0.5"),
    ("cube root", (x + 1) ** sympy.Rational(1, 3), "(1 + x) ** (1/3)"),
    ("symbolic exponent", x**y, "x ** y"),
    ("decimal", sympy.Rational(1, 8), "0.125"),
    ("negative decimal", sympy.Rational(-3, 200), "-0.015"),
    ("small", sympy.Rational(1, 10**9), "1e-9"),
    ("large", sympy.Integer(15) * 10**299, "1.5e300"),
    ("huge", sympy.Integer(10) ** 5000, "1e5000"),
    ("float", sympy.Float(0.1) * x, "0.1 * x"),
    ("tiny float", sympy.Float(1e-5), "1e-05"),
    ("min max", sympy.Min(x, y) + sympy.Max(x, 1), "max(1, x) + min(x, y)"),
    ("eq", sympy.Eq(x, y), "x == y"),
    ("evaluated not", sympy.Not(x < 1), "x >= 1"),
    ("nested and", sympy.And(x < 1, sympy.Or(y > 2, c > 3)), "x < 1 and (c > 3 or y > 2)"),
    ("previous", Previous(x, 2, NULL), "previous(x, n=2)"),
    ("other function", sympy.log(x), "log(x)"),
    ("constant", sympy.pi * x, "pi * x"),
]


@pytest.mark.parametrize(
    ("expr", "expected"),
    [(e, t) for _, e, t in EVALUATED_CASES],
    ids=[name for name, _, _ in EVALUATED_CASES],
)
def test_text_of_evaluated_trees(expr: sympy.Basic, expected: str) -> None:
    assert to_text(expr) == expected


def test_text_keeps_unevaluated_meaning() -> None:
    assert to_text(parsed("x / x")) == "x / x"
    assert to_text(parsed("0 * x")) == "0 * x"
    assert to_text(parsed("x - x")) == "x - x"
    assert to_text(parsed("x < 1 or x >= 1")) == "x < 1 or x >= 1"


def test_huge_integers_print_without_error() -> None:
    text = to_text(sympy.Integer(3) ** 9000)
    assert len(text) > 4300 and text.startswith("1.2339")


# -- labels ----------------------------------------------------------------------------------


def test_labels() -> None:
    names = {"opening": "Opening balance", "x": "期末金额", "y": "max", "z": "closing_amount"}
    expr = parsed("opening + x - y * z / periods")
    assert to_text(expr, names) == "[Opening balance] + 期末金额 - [max] * closing_amount / periods"
    assert to_text(expr) == "opening + x - y * z / periods"


def test_latex_labels_are_escaped() -> None:
    expr = parsed("a / x + y")
    names = {"a": "a_b & c% $ {#} ^~\\", "x": "期末金额"}
    assert to_latex(expr, names) == (
        r"\frac{\text{a\_b \& c\% \$ \{\#\} \textasciicircum{}\textasciitilde{}"
        r"\textbackslash{}}}{\text{期末金额}} + \mathrm{y}"
    )


# -- LaTeX -----------------------------------------------------------------------------------

LATEX_CASES: list[tuple[str, str]] = [
    ("a / b", r"\frac{\mathrm{a}}{\mathrm{b}}"),
    ("(a + b) / (c - 1)", r"\frac{\mathrm{a} + \mathrm{b}}{\mathrm{c} - 1}"),
    ("a * b / c", r"\frac{\mathrm{a} \cdot \mathrm{b}}{\mathrm{c}}"),
    ("a * b", r"\mathrm{a} \cdot \mathrm{b}"),
    ("x ** 2", r"\mathrm{x}^{2}"),
    ("(a + b) ** 2", r"\left(\mathrm{a} + \mathrm{b}\right)^{2}"),
    ("(a + b) * c", r"\left(\mathrm{a} + \mathrm{b}\right) \cdot \mathrm{c}"),
    ("a - (b - c)", r"\mathrm{a} - \left(\mathrm{b} - \mathrm{c}\right)"),
    ("-x", r"-\mathrm{x}"),
    ("x ** -1", r"\frac{1}{\mathrm{x}}"),
    ("closing_amount", r"\mathrm{closing\_amount}"),
    ("期末金额", r"\text{期末金额}"),
    ("previous(x, n=2)", r"\operatorname{previous}\left(\mathrm{x}, n=2\right)"),
    ("previous(x)", r"\operatorname{previous}\left(\mathrm{x}\right)"),
    ("rolling_sum(x, 3)", r"\operatorname{rolling\_sum}\left(\mathrm{x}, 3\right)"),
    ("min(a, b)", r"\min\left(\mathrm{a}, \mathrm{b}\right)"),
    ("max(a, b)", r"\max\left(\mathrm{a}, \mathrm{b}\right)"),
    ("abs(x)", r"\left|\mathrm{x}\right|"),
    ("if(a < b, 1, 0)", r"\operatorname{if}\left(\mathrm{a} < \mathrm{b}, 1, 0\right)"),
    ("a <= b", r"\mathrm{a} \leq \mathrm{b}"),
    ("a >= b", r"\mathrm{a} \geq \mathrm{b}"),
    ("a == b", r"\mathrm{a} = \mathrm{b}"),
    ("a != b", r"\mathrm{a} \neq \mathrm{b}"),
    ("0.01 < abs(g) < 100", r"0.01 < \left|\mathrm{g}\right| < 100"),
    ("a < b and c > 1", r"\mathrm{a} < \mathrm{b} \wedge \mathrm{c} > 1"),
    ("a < b or c > 1", r"\mathrm{a} < \mathrm{b} \vee \mathrm{c} > 1"),
    ("not a < b", r"\neg \left(\mathrm{a} < \mathrm{b}\right)"),
    ("true", r"\mathrm{true}"),
    ("null", r"\mathrm{null}"),
    ("30%", "0.3"),
    ("1e-9", r"1 \cdot 10^{-9}"),
]


@pytest.mark.parametrize(("formula", "expected"), LATEX_CASES, ids=[f for f, _ in LATEX_CASES])
def test_latex(formula: str, expected: str) -> None:
    assert to_latex(parsed(formula)) == expected


def test_latex_of_evaluated_trees() -> None:
    assert to_latex(x / 3) == r"\frac{1}{3} \cdot \mathrm{x}"
    assert to_latex(sympy.oo) == r"\infty"
    assert to_latex(sympy.pi * x) == r"\pi \cdot \mathrm{x}"


# -- round trips of the parser's goldens -----------------------------------------------------

ROUND_TRIPS = [
    "a + b - c",
    "a - (b + c)",
    "a / b / c",
    "a / (b / c)",
    "a * -b",
    "-a * b",
    "-(a * b)",
    "- -x",
    "a - -b",
    "-1 * 2 * b",
    "a + -1 * 3",
    "a - 2 * b / c",
    "-x ** 2",
    "(-2) ** 2",
    "x ** -1 * a",
    "a * x ** -1",
    "x / x",
    "0 * x",
    "x - x",
    "if(a < b and not c > 1 or true, previous(x, n=2, default=-y), round(x, 2))",
    "a < b < c and c == 1",
    "not not (a < b or b < c)",
    "coalesce(x, previous(x), 0) * 30%",
    "rising(x, 3) or falling(y, 2) and a != b",
    "min(a, b, 1) - max(-a, 2) + abs(a - b)",
    "期末金额 × 2 ÷ 期初金额 − 1",
    "1e300 + 1e-300 + 0.000001 + 1234.5678",
]


@pytest.mark.parametrize("formula", ROUND_TRIPS)
def test_round_trip(formula: str) -> None:
    expr = parsed(formula)
    again = parsed(to_text(expr))
    assert again == expr
    assert to_text(again) == to_text(expr)


# -- depth safety ----------------------------------------------------------------------------


def test_printers_and_counter_do_not_recurse() -> None:
    deep = x
    for i in range(4_000):  # far deeper than Python's recursion limit
        deep = sympy.Add(deep if i % 2 else sympy.Mul(-1, deep, evaluate=False), 1, evaluate=False)
    assert count_nodes(deep) == 12_001
    text = to_text(deep)
    assert text.startswith("-(-(-(") and text.endswith(") + 1 + 1")
    assert text.count("(") == 1_999  # the innermost -x needs no brackets
    assert to_latex(deep).count(r"\left(") == 1_999


def test_count_nodes() -> None:
    assert count_nodes(x) == 1
    assert count_nodes(parsed("x / x")) == 5
    assert count_nodes(parsed("a < b < c")) == 7  # the middle operand counts twice
    assert count_nodes(parsed("a + b + c"), stop_after=2) == 3


def test_shared_subtrees_print_once_each_place() -> None:
    shared = sympy.Add(a, b, evaluate=False)
    expr = sympy.Mul(shared, shared, evaluate=False)
    assert to_text(expr) == "(a + b) * (a + b)"
