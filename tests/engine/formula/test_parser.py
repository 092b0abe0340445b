"""Golden tests of the formula parser: what parses to what, and what is refused where."""

from __future__ import annotations

import doctest
import pickle

import pytest
import sympy

from engine.core.errors import FormulaError
from engine.core.problems import CODES
from engine.formula import (
    FUNCTIONS,
    LIMITS,
    NULL,
    RESERVED_WORDS,
    Change,
    Coalesce,
    CumulativeSum,
    Falling,
    Growth,
    If,
    Kind,
    Null,
    Previous,
    Ref,
    Rising,
    RollingAvg,
    RollingSum,
    Round,
    count_nodes,
    parse_formula,
    rebuild,
    symbol,
    to_text,
)

x, y, a, b, c = (symbol(n) for n in ("x", "y", "a", "b", "c"))


def text_of(formula: str) -> str:
    return to_text(parse_formula(formula, expect="any").expr)


# -- formulas that parse, and how they print back --------------------------------------------

OK_CASES: list[tuple[str, str]] = [
    # numbers: exact, never floats
    ("12", "12"),
    ("0.5", "0.5"),
    (".5", "0.5"),
    ("1e3", "1000"),
    ("1.5E-2", "0.015"),
    ("30%", "0.3"),
    ("12.5%", "0.125"),
    ("30％", "0.3"),
    ("007", "7"),
    ("1e300", "1e300"),
    # arithmetic and precedence
    ("a + b - c", "a + b - c"),
    ("a - (b + c)", "a - (b + c)"),
    ("a + (b + c)", "a + b + c"),
    ("a - (b - c)", "a - (b - c)"),
    ("(a + b) * c", "(a + b) * c"),
    ("a / b / c", "a / b / c"),
    ("a / (b * c)", "a / (b * c)"),
    ("a * (b / c)", "a * b / c"),
    ("a - 2 * b", "a - 2 * b"),
    ("a + -2 * b", "a - 2 * b"),
    ("-(a * b)", "-a * b"),
    ("a * -b", "a * -b"),
    ("- - x", "- -x"),
    ("a - -b", "a - -b"),
    ("+x", "x"),
    ("-x ** 2", "-x ** 2"),
    ("(-x) ** 2", "(-x) ** 2"),
    ("(-2) ** 2", "(-2) ** 2"),
    ("x ** -1", "x ** -1"),
    ("a * x ** -1", "a / x"),
    ("x ** 0.5", "x ** 0.5"),
    ("(x ** 10) ** 10", "(x ** 10) ** 10"),
    ("-1 * 3", "-1 * 3"),
    # the source documents' symbols
    ("a × b ÷ c − d", "a * b / c - d"),
    ("（a + b）× 2", "(a + b) * 2"),
    ("max(a，b)", "max(a, b)"),
    # whitespace of YAML block scalars
    ("a\n  + b\t* c\r\n", "a + b * c"),
    ("a\u3000+\u00a0b", "a + b"),
    # names
    ("期末金额 / 期初金额", "期末金额 / 期初金额"),
    ("periods * days", "periods * days"),
    ("_x1 + x_2", "_x1 + x_2"),
    ("ｅｖａｌ + 1", "ｅｖａｌ + 1"),
    # conditions
    ("a < b", "a < b"),
    ("a <= b", "a <= b"),
    ("a > b", "a > b"),
    ("a >= b", "a >= b"),
    ("a == b", "a == b"),
    ("a != b", "a != b"),
    ("a ≤ b and b ≥ c or c ≠ a", "a <= b and b >= c or c != a"),
    ("0.01 < abs(gap) < 100", "0.01 < abs(gap) < 100"),
    ("a < b and b < c", "a < b < c"),
    ("a < b < c and c < 1", "a < b < c < 1"),
    ("not a < b", "not a < b"),
    ("not not true", "not not true"),
    ("(a < 1 or b < 1) and c < 1", "(a < 1 or b < 1) and c < 1"),
    ("a < 1 or b < 1 and c < 1", "a < 1 or b < 1 and c < 1"),
    ("true", "true"),
    ("false", "false"),
    ("null", "null"),
    # functions
    ("min(b, a)", "min(a, b)"),
    ("max(a, b, 0)", "max(0, a, b)"),
    ("abs(x)", "abs(x)"),
    ("round(x)", "round(x)"),
    ("round(x, 0)", "round(x)"),
    ("round(x, 2)", "round(x, 2)"),
    ("if(a > b, a, b)", "if(a > b, a, b)"),
    ("if(a > b, a > 0, false)", "if(a > b, a > 0, false)"),
    ("coalesce(x, 0)", "coalesce(x, 0)"),
    ("coalesce(x, y, 0)", "coalesce(x, y, 0)"),
    ("previous(x)", "previous(x)"),
    ("previous(x, 1, null)", "previous(x)"),
    ("previous(x, 2)", "previous(x, n=2)"),
    ("previous(x, n=2)", "previous(x, n=2)"),
    ("previous(x, default=0)", "previous(x, default=0)"),
    ("previous(x, n=3, default=y)", "previous(x, n=3, default=y)"),
    ("previous(x, default=y, n=3)", "previous(x, n=3, default=y)"),
    ("change(x)", "change(x)"),
    ("growth(x)", "growth(x)"),
    ("rolling_sum(x, 3)", "rolling_sum(x, 3)"),
    ("rolling_avg(x, 1e3)", "rolling_avg(x, 1000)"),
    ("cumulative_sum(x)", "cumulative_sum(x)"),
    ("rising(x, 3)", "rising(x, 3)"),
    ("falling(x, 2) or rising(y, 2)", "falling(x, 2) or rising(y, 2)"),
    ("MAX + 1", "MAX + 1"),
]


@pytest.mark.parametrize(("formula", "expected"), OK_CASES, ids=[f for f, _ in OK_CASES])
def test_parses_and_prints(formula: str, expected: str) -> None:
    parsed = parse_formula(formula, expect="any")
    assert to_text(parsed.expr) == expected
    assert parse_formula(expected, expect="any").expr == parsed.expr
    assert parsed.node_count == count_nodes(parsed.expr)
    assert parsed.text == formula


# -- formulas that are refused: (formula, code, 1-based column) ------------------------------

ERROR_CASES: list[tuple[str, str, int]] = [
    # syntax
    ("", "KPI-F001", 1),
    ("  \n ", "KPI-F001", 1),
    ("a +", "KPI-F001", 4),
    ("a + * b", "KPI-F001", 5),
    ("(a + b", "KPI-F001", 1),
    ("max(a, b", "KPI-F001", 4),
    ("a + b)", "KPI-F001", 6),
    ("()", "KPI-F001", 1),
    ("a b", "KPI-F001", 3),
    ("2 (a)", "KPI-F001", 3),
    ("2x", "KPI-F001", 1),
    ("1_000", "KPI-F001", 1),
    ("1e", "KPI-F001", 1),
    ("x ^ 2", "KPI-F001", 3),
    ("a = b", "KPI-F001", 3),
    ("a => b", "KPI-F001", 3),
    ("a <> b", "KPI-F001", 3),
    ("a // b", "KPI-F001", 3),
    ("x % 3", "KPI-F001", 3),
    ("0,5", "KPI-F001", 2),
    ("max(a,)", "KPI-F001", 7),
    ("a & b", "KPI-F001", 3),
    ("a ＋ b", "KPI-F001", 3),
    ("１２", "KPI-F001", 1),
    ("a\u200bb", "KPI-F001", 2),
    ("x\x00", "KPI-F001", 2),
    ("True", "KPI-F001", 1),
    ("None + 1", "KPI-F001", 1),
    ("max + 1", "KPI-F001", 1),
    ("x if c else y", "KPI-F001", 3),
    ("a and", "KPI-F010", 1),
    ("and", "KPI-F001", 1),
    ("a == not b", "KPI-F001", 6),
    ("a not in b", "KPI-F001", 3),
    # not part of the language
    ("a.b", "KPI-F004", 2),
    ("1.5.3", "KPI-F004", 4),
    ("(a).b", "KPI-F004", 4),
    ("x[0]", "KPI-F004", 2),
    ("[Opening balance]", "KPI-F004", 1),
    ("'x'", "KPI-F004", 1),
    ('a + "x"', "KPI-F004", 5),
    ("“x”", "KPI-F004", 1),
    ("lambda: 1", "KPI-F004", 1),
    ("a : b", "KPI-F004", 3),
    ("a; b", "KPI-F004", 2),
    ("a @ b", "KPI-F004", 3),
    ("{}", "KPI-F004", 1),
    ("a \\ b", "KPI-F004", 3),
    ("__class__", "KPI-F004", 1),
    ("a + __x", "KPI-F004", 5),
    ("import os", "KPI-F004", 1),
    ("x is y", "KPI-F004", 3),
    # functions
    ("foo(1)", "KPI-F002", 1),
    ("a + sqrt(x)", "KPI-F002", 5),
    ("x(y)", "KPI-F002", 1),
    ("ｅｖａｌ(1)", "KPI-F002", 1),
    ("max()", "KPI-F003", 1),
    ("min()", "KPI-F003", 1),
    ("abs()", "KPI-F003", 1),
    ("abs(a, b)", "KPI-F003", 1),
    ("round()", "KPI-F003", 1),
    ("round(x, 1, 2)", "KPI-F003", 1),
    ("a + if(a > b, 1)", "KPI-F003", 5),
    ("if(a > b, 1, 2, 3)", "KPI-F003", 1),
    ("coalesce(x)", "KPI-F003", 1),
    ("previous()", "KPI-F003", 1),
    ("previous(x, 1, 0, 4)", "KPI-F003", 1),
    ("change(x, 1)", "KPI-F003", 1),
    ("growth()", "KPI-F003", 1),
    ("rolling_sum(x)", "KPI-F003", 1),
    ("rolling_avg(x, 1, 2)", "KPI-F003", 1),
    ("cumulative_sum(x, y)", "KPI-F003", 1),
    ("rising(x)", "KPI-F003", 1),
    ("falling(x, 1, 2)", "KPI-F003", 1),
    ("previous(n=1)", "KPI-F003", 1),
    ("max(a, n=1)", "KPI-F009", 8),
    ("round(x, digits=2)", "KPI-F009", 10),
    ("previous(x, k=1)", "KPI-F009", 13),
    ("previous(x=1)", "KPI-F009", 10),
    ("previous(x, 2, n=3)", "KPI-F009", 16),
    ("previous(x, n=1, n=2)", "KPI-F009", 18),
    ("previous(x, 1, 0, default=2)", "KPI-F009", 19),
    ("previous(x, n=2, y)", "KPI-F009", 18),
    ("previous(n=2, x)", "KPI-F009", 15),
    ("rolling_sum(x, 0)", "KPI-F011", 16),
    ("rolling_sum(x, 1001)", "KPI-F011", 16),
    ("rolling_sum(x, 2.5)", "KPI-F011", 16),
    ("rolling_sum(x, -1)", "KPI-F011", 16),
    ("rolling_avg(x, k)", "KPI-F011", 16),
    ("rising(x, 1 + 1)", "KPI-F011", 11),
    ("previous(x, 0)", "KPI-F011", 13),
    ("previous(x, n=y)", "KPI-F011", 15),
    ("round(x, 11)", "KPI-F011", 10),
    ("round(x, 0.5)", "KPI-F011", 10),
    # kinds
    ("a and b", "KPI-F010", 1),
    ("true + 1", "KPI-F010", 1),
    ("(a < b) * 2", "KPI-F010", 1),
    ("not x", "KPI-F010", 5),
    ("-(a < b)", "KPI-F010", 2),
    ("if(a, 1, 2)", "KPI-F010", 4),
    ("if(a > 0, 1, a > 1)", "KPI-F010", 14),
    ("max(a, a < b)", "KPI-F010", 8),
    ("previous(a < b)", "KPI-F010", 10),
    ("previous(x, default=a < b)", "KPI-F010", 21),
    ("(a < b) < c", "KPI-F010", 1),
    ("a == (b < c)", "KPI-F010", 6),
    ("rising(x, 2) + 1", "KPI-F010", 1),
    ("abs(true)", "KPI-F010", 5),
    # powers
    ("x ** y", "KPI-F007", 6),
    ("x ** (2)", "KPI-F007", 6),
    ("x ** 11", "KPI-F007", 6),
    ("x ** -11", "KPI-F007", 6),
    ("x ** 10.5", "KPI-F007", 6),
    ("2 ** 2 ** 2", "KPI-F007", 8),
    ("((x ** 10) ** 10) ** 2", "KPI-F007", 19),
    # number literals
    ("1" * 31, "KPI-F008", 1),
    ("a + 1e301", "KPI-F008", 5),
    ("1e-301", "KPI-F008", 1),
    ("1e99999999999", "KPI-F008", 1),
    ("0." + "0" * 300 + "1", "KPI-F008", 1),
]


@pytest.mark.parametrize(
    ("formula", "code", "column"), ERROR_CASES, ids=[repr(f)[:40] for f, _, _ in ERROR_CASES]
)
def test_refused(formula: str, code: str, column: int) -> None:
    with pytest.raises(FormulaError) as info:
        parse_formula(formula, expect="any")
    err = info.value
    assert (err.code, err.offset + 1) == (code, column), err.message
    assert err.code in CODES
    assert err.message and err.hint
    assert err.length >= 1


def test_messages_speak_to_analysts() -> None:
    def message(formula: str) -> str:
        with pytest.raises(FormulaError) as info:
            parse_formula(formula, expect="any")
        return f"{info.value.message} | {info.value.hint}"

    assert "extra closing bracket" in message("a + b)")
    assert "use ** for powers" in message("x ^ 2")
    assert "use == to compare" in message("a = b")
    assert "text in quotes is not allowed in a formula" in message("'x'")
    assert "did you mean max?" in message("MAX(a, b)")
    assert "did you mean round?" in message("rund(x)")
    assert "never closed" in message("(a + b")
    assert "a condition (true/false) but a number is needed here" in message("(a < b) * 2")
    assert "a number but a condition (true/false) is needed here" in message("a and b")
    assert "the formula is empty" in message(" ")


# -- kinds and `expect` ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("formula", "kind"),
    [
        ("a + 1", "number"),
        ("null", "number"),
        ("if(a < b, 1, 2)", "number"),
        ("a < b", "condition"),
        ("true", "condition"),
        ("rising(x, 2)", "condition"),
        ("if(a < b, true, a > 2)", "condition"),
        ("not a < b", "condition"),
    ],
)
def test_kind(formula: str, kind: Kind) -> None:
    assert parse_formula(formula, expect="any").kind == kind
    assert parse_formula(formula, expect=kind).kind == kind
    other: Kind = "condition" if kind == "number" else "number"
    with pytest.raises(FormulaError) as info:
        parse_formula(formula, expect=other)
    assert info.value.code == "KPI-F010"
    assert (info.value.offset, info.value.length) == (0, len(formula))


def test_default_expectation_is_a_number() -> None:
    with pytest.raises(FormulaError):
        parse_formula("a < b")


# -- refs and functions ------------------------------------------------------------------------


def test_refs_in_text_order_with_offsets_and_lag() -> None:
    text = "previous(closing_net, default=initial_net) + x"
    parsed = parse_formula(text)
    assert parsed.refs == (
        Ref("closing_net", 9, 11, True),
        Ref("initial_net", 30, 11, False),
        Ref("x", 45, 1, False),
    )
    for ref in parsed.refs:
        assert text[ref.offset : ref.offset + ref.length] == ref.name
    assert parsed.functions == frozenset({"previous"})


def test_lag_nests_and_ends_with_the_first_argument() -> None:
    parsed = parse_formula("previous(a + previous(b, default=c), 2, d) - previous(e, n=1) * f")
    assert [(r.name, r.lagged) for r in parsed.refs] == [
        ("a", True),
        ("b", True),
        ("c", True),
        ("d", False),
        ("e", True),
        ("f", False),
    ]
    change_refs = parse_formula("change(x) + rolling_sum(y, 2)").refs
    assert not any(r.lagged for r in change_refs)


def test_every_occurrence_is_a_ref_builtins_included() -> None:
    parsed = parse_formula("x / periods + x * days")
    assert [r.name for r in parsed.refs] == ["x", "periods", "x", "days"]
    assert parsed.functions == frozenset()


def test_chinese_names() -> None:
    text = "（期末金额 − 期初金额）÷ 期初金额"
    parsed = parse_formula(text)
    assert [r.name for r in parsed.refs] == ["期末金额", "期初金额", "期初金额"]
    assert [r.offset for r in parsed.refs] == [1, 8, 15]
    assert symbol("期末金额") in parsed.expr.free_symbols


def test_functions_called() -> None:
    parsed = parse_formula("max(if(a > 0, abs(a), 0), previous(a)) + min(b)")
    assert parsed.functions == frozenset({"max", "if", "abs", "previous", "min"})


# -- sympy trees -------------------------------------------------------------------------------


def test_numbers_are_exact() -> None:
    assert parse_formula("0.1").expr == sympy.Rational(1, 10)
    assert isinstance(parse_formula("0.1").expr, sympy.Rational)
    assert parse_formula("30%").expr == sympy.Rational(3, 10)
    assert parse_formula("1.5E-2").expr == sympy.Rational(3, 200)
    assert parse_formula("1e3").expr == sympy.Integer(1000)
    assert parse_formula("-3").expr == sympy.Integer(-3)
    big = parse_formula("123456789012345678901234567890").expr
    assert big == sympy.Integer(123456789012345678901234567890)
    assert not parse_formula("0.1 + 0.2 * 1e-3").expr.atoms(sympy.Float)


@pytest.mark.parametrize(
    ("formula", "expected"),
    [
        ("x / x", sympy.Mul(x, sympy.Pow(x, -1, evaluate=False), evaluate=False)),
        ("0 * x", sympy.Mul(0, x, evaluate=False)),
        ("x - x", sympy.Add(x, sympy.Mul(-1, x, evaluate=False), evaluate=False)),
        ("x * 1 + 0", sympy.Add(sympy.Mul(x, 1, evaluate=False), 0, evaluate=False)),
        ("x ** 1", sympy.Pow(x, 1, evaluate=False)),
        ("2 ** 3", sympy.Pow(2, 3, evaluate=False)),
        ("1 / 0", sympy.Mul(1, sympy.Pow(0, -1, evaluate=False), evaluate=False)),
    ],
)
def test_arithmetic_is_not_evaluated(formula: str, expected: sympy.Basic) -> None:
    expr = parse_formula(formula).expr
    assert expr == expected
    assert expr.func == expected.func


def test_conditions_are_not_evaluated() -> None:
    lt = sympy.StrictLessThan(x, 1, evaluate=False)
    ge = sympy.GreaterThan(x, 1, evaluate=False)
    either = parse_formula("x < 1 or x >= 1", expect="condition").expr
    assert isinstance(either, sympy.Or) and either.args == (lt, ge)  # sympy would say true
    both = parse_formula("x < 1 and x >= 1", expect="condition").expr
    assert isinstance(both, sympy.And) and both.args == (lt, ge)  # sympy would say false
    negated = parse_formula("not x < 1", expect="condition").expr
    assert isinstance(negated, sympy.Not) and negated.args == (lt,)  # sympy: x >= 1
    assert parse_formula("x == x", expect="condition").expr == sympy.Eq(x, x, evaluate=False)
    assert parse_formula("not true", expect="condition").expr == sympy.Not(
        sympy.true, evaluate=False
    )
    twice = parse_formula("b > 0 and a > 0 and b > 0", expect="condition").expr
    assert len(twice.args) == 3  # order and duplicates kept


def test_chained_comparison() -> None:
    gap = symbol("gap")
    expr = parse_formula("0.01 < abs(gap) < 100", expect="condition").expr
    absolute = sympy.Abs(gap, evaluate=False)
    assert isinstance(expr, sympy.And)
    assert expr.args == (
        sympy.StrictLessThan(sympy.Rational(1, 100), absolute, evaluate=False),
        sympy.StrictLessThan(absolute, 100, evaluate=False),
    )


def test_negation_shapes() -> None:
    assert parse_formula("-x").expr.args == (-1, x)
    assert parse_formula("-(2 * x)").expr.args == (-2, x)
    assert parse_formula("-(x * y)").expr.args == (-1, x, y)
    assert parse_formula("a - 3").expr.args == (a, -3)


def test_function_classes() -> None:
    cond = sympy.StrictLessThan(a, b, evaluate=False)
    assert parse_formula("if(a < b, x, y)").expr == If(cond, x, y)
    assert parse_formula("coalesce(x, 0)").expr == Coalesce(x, 0)
    assert parse_formula("round(x)").expr == Round(x, 0)
    assert parse_formula("previous(x)").expr.args == (x, 1, NULL)
    assert parse_formula("previous(x, 2, y)").expr == Previous(x, 2, y)
    assert parse_formula("change(x)").expr == Change(x)
    assert parse_formula("growth(x)").expr == Growth(x)
    assert parse_formula("rolling_sum(x, 3)").expr == RollingSum(x, 3)
    assert parse_formula("rolling_avg(x, 3)").expr == RollingAvg(x, 3)
    assert parse_formula("cumulative_sum(x)").expr == CumulativeSum(x)
    assert parse_formula("rising(x, 3)", expect="condition").expr == Rising(x, 3)
    assert parse_formula("falling(x, 3)", expect="condition").expr == Falling(x, 3)
    assert parse_formula("min(x, y)").expr == sympy.Min(x, y, evaluate=False)
    assert parse_formula("max(x, 1)").expr == sympy.Max(x, 1, evaluate=False)
    assert parse_formula("abs(-2)").expr == sympy.Abs(-2, evaluate=False)
    for name, spec in FUNCTIONS.items():
        assert getattr(spec.sympy_class, "kpi_name", name) == name


def test_functions_never_evaluate() -> None:
    assert Previous(sympy.Float(1.5), 1, NULL).args[0] == sympy.Float(1.5)
    assert Round(sympy.Float(2.675), 2).func is Round
    assert If(sympy.true, 1, 2).func is If
    assert Coalesce(NULL, 1).func is Coalesce
    not_rising = sympy.Not(Rising(x, 2), evaluate=False)
    assert not_rising.args == (Rising(x, 2),)


def substitute(expr: sympy.Basic, old: sympy.Basic, new: sympy.Basic) -> sympy.Basic:
    """Replace ``old`` by ``new`` everywhere, rebuilding
    with ``rebuild`` (recursive: tests only)."""
    if expr == old:
        return new
    return rebuild(expr, [substitute(arg, old, new) for arg in expr.args])


def test_rebuild_keeps_meaning_and_shape() -> None:
    either = parse_formula("x < 1 or x >= 1", expect="condition").expr
    assert to_text(substitute(either, x, y)) == "y < 1 or y >= 1"  # sympy's Or would say true
    mixed = parse_formula("a > 0 and if(c > 0, b > 0, false)", expect="condition").expr
    assert to_text(substitute(mixed, a, x)) == "x > 0 and if(c > 0, b > 0, false)"
    ratio = parse_formula("x / y - 0 * y").expr  # -0 * y is 0 * y: the sign of a zero is lost
    assert to_text(substitute(ratio, y, x)) == "x / x + 0 * x"
    assert rebuild(x, ()) is x


def test_null_is_a_numeric_singleton() -> None:
    assert Null() is NULL
    assert pickle.loads(pickle.dumps(NULL)) is NULL
    assert parse_formula("null").expr is NULL
    assert parse_formula("coalesce(null, 1) + null").kind == "number"
    assert str(NULL) == "null"


def test_symbol() -> None:
    s = symbol("closing_amount")
    assert s == sympy.Symbol("closing_amount", real=True)
    assert s.is_real
    for bad in ("", "a b", "1x", "a.b", "__import__('os')", "x-y"):
        with pytest.raises(ValueError):
            symbol(bad)


def test_reserved_words() -> None:
    for word in (
        "and",
        "or",
        "not",
        "if",
        "true",
        "false",
        "null",
        "periods",
        "days",
        "lambda",
        "import",
        "class",
        "None",
        "True",
        *FUNCTIONS,
    ):
        assert word in RESERVED_WORDS
    assert "closing_net" not in RESERVED_WORDS


def test_package_docstring_example() -> None:
    import engine.formula

    assert doctest.testmod(engine.formula).failed == 0


def test_bad_arguments_to_the_api() -> None:
    with pytest.raises(TypeError):
        parse_formula(12)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        parse_formula("1", expect="text")  # type: ignore[arg-type]


# -- caps at their exact boundaries -----------------------------------------------------------


def _code(formula: str) -> str | None:
    try:
        parse_formula(formula, expect="any")
    except FormulaError as err:
        return err.code
    return None


@pytest.mark.parametrize(
    ("make", "name"),
    [
        (lambda n: "(" * n + "x" + ")" * n, "brackets"),
        (lambda n: "-" * n + "x", "unary minus"),
        (lambda n: "not " * n + "true", "not"),
        (lambda n: "abs(" * n + "x" + ")" * n, "calls"),
        (lambda n: "a + (" * (n // 2) + "x" + ")" * (n // 2), "operators and brackets"),
    ],
    ids=lambda v: v if isinstance(v, str) else "",
)
def test_depth_cap(make: object, name: str) -> None:
    assert callable(make)
    limit = LIMITS.max_depth
    assert parse_formula(make(limit), expect="any").depth == limit
    assert _code(make(limit + 2 if name == "operators and brackets" else limit + 1)) == "KPI-F006"


def test_length_cap_is_checked_before_lexing() -> None:
    assert parse_formula("x" * LIMITS.max_length).refs[0].length == LIMITS.max_length
    with pytest.raises(FormulaError) as info:
        parse_formula("'" * (LIMITS.max_length + 1))  # would be KPI-F004 if it were lexed
    assert (info.value.code, info.value.offset) == ("KPI-F005", LIMITS.max_length)


def test_node_cap() -> None:
    terms = LIMITS.max_nodes - 1  # an Add node and its terms
    assert parse_formula("+".join(["a"] * terms)).node_count == LIMITS.max_nodes
    assert _code("+".join(["a"] * (terms + 1))) == "KPI-F006"
    assert _code("*".join(["a"] * (terms + 1))) == "KPI-F006"
    assert _code(" < ".join(["a"] * 2000)) == "KPI-F006"


def test_number_caps() -> None:
    assert _code("1" * 30) is None
    assert _code("1" * 31) == "KPI-F008"
    assert _code("1.0000000000000000000000000000000000000") is None  # trailing zeros
    assert _code("1e300") is None
    assert _code("1e301") == "KPI-F008"
    assert _code("1e-300") is None
    assert _code("1" + "0" * 300) is None
    assert _code("1" + "0" * 301) == "KPI-F008"
    assert _code("0e999") == "KPI-F008"


def test_other_caps() -> None:
    assert _code("x ** 10") is None
    assert _code("x ** -10") is None
    assert _code("x ** 11") == "KPI-F007"
    assert _code("rolling_sum(x, 1000)") is None
    assert _code("rolling_sum(x, 1001)") == "KPI-F011"
    assert _code("round(x, 10)") is None
    assert _code("round(x, 11)") == "KPI-F011"
    assert _code("(x ** 10) ** 10") is None
    assert _code("((x ** 10) ** 10) ** 1.5") == "KPI-F007"
    assert _code("(a ** 2 + b ** 2) ** 0.5") is None
