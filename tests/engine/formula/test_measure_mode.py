"""Measure mode of the parser (``mode="measure"``): text literals and ``x in (…)`` for the
``of`` and ``where`` of ledger measures. Formula mode is unchanged."""

from __future__ import annotations

import pickle
import time
from collections.abc import Callable
from typing import Any

import pytest
import sympy
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_hostile import CASES, HANG_SECONDS

from engine.core.errors import FormulaError
from engine.core.problems import CODES
from engine.formula import (
    FUNCTIONS,
    LIMITS,
    NULL,
    If,
    In,
    KpiCondition,
    KpiFunction,
    Null,
    ParsedFormula,
    Ref,
    Text,
    count_nodes,
    parse_formula,
    rebuild,
    symbol,
    to_latex,
    to_text,
)
from engine.formula.nodes import logic as build_logic

k, x, a, b, j, amount = (symbol(n) for n in ("k", "x", "a", "b", "j", "amount"))
kind = symbol("kind")
T = Text
Tup = sympy.Tuple


def Eq(lhs: Any, rhs: Any) -> Any:  # noqa: N802 - mirrors sympy's name
    return sympy.Eq(lhs, rhs, evaluate=False)


def Ne(lhs: Any, rhs: Any) -> Any:  # noqa: N802
    return sympy.Ne(lhs, rhs, evaluate=False)


def Not(arg: Any) -> Any:  # noqa: N802
    return sympy.Not(arg, evaluate=False)


def member(lhs: Any, *values: Any) -> Any:
    return In(lhs, Tup(*values), evaluate=False)


def measure(text: str, expect: Any = "any") -> ParsedFormula:
    return parse_formula(text, expect=expect, mode="measure")


def logic(cls: Any, *args: Any) -> Any:
    return build_logic(cls, list(args))


# -- Text ------------------------------------------------------------------------------------


def test_text_atom() -> None:
    t = Text("recharge")
    assert t.value == "recharge"
    assert t == Text("recharge") and hash(t) == hash(Text("recharge"))
    assert t != Text("Recharge") and t != symbol("recharge")
    assert not isinstance(t, sympy.Symbol) and isinstance(t, sympy.Atom)
    assert t.args == () and count_nodes(t) == 1
    assert pickle.loads(pickle.dumps(t)) == t
    assert rebuild(t, ()) is t
    assert str(Text("it's")) == "'it''s'"
    with pytest.raises(TypeError):
        Text(3)  # type: ignore[arg-type]


def test_in_never_evaluates() -> None:
    node = member(sympy.Integer(3), sympy.Integer(3))
    assert isinstance(node, In) and isinstance(node, KpiCondition)
    assert rebuild(node, node.args) == node


# -- goldens ---------------------------------------------------------------------------------

GOLDENS: list[tuple[str, Any, str]] = [
    ("kind == 'recharge'", Eq(kind, T("recharge")), "kind == 'recharge'"),
    ('"消费" != kind', Ne(T("消费"), kind), "'消费' != kind"),
    ("k ≠ 'x'", Ne(k, T("x")), "k != 'x'"),
    ("k == 'it''s'", Eq(k, T("it's")), "k == 'it''s'"),
    ('k == "it\'s"', Eq(k, T("it's")), "k == 'it''s'"),
    ('k == "say ""hi"""', Eq(k, T('say "hi"')), "k == 'say \"hi\"'"),
    ("k == ''", Eq(k, T("")), "k == ''"),
    ('k == ""', Eq(k, T("")), "k == ''"),
    ("k == '\\n'", Eq(k, T("\\n")), "k == '\\n'"),
    ("k == 'a b  c'", Eq(k, T("a b  c")), "k == 'a b  c'"),
    ("k == '会员 充值'", Eq(k, T("会员 充值")), "k == '会员 充值'"),
    ("k == '(a, b) + 1 and not'", Eq(k, T("(a, b) + 1 and not")), "k == '(a, b) + 1 and not'"),
    ("'a' == 'b'", Eq(T("a"), T("b")), "'a' == 'b'"),
    ("(k) == 'a'", Eq(k, T("a")), "k == 'a'"),
    ("k == 'a' == j", logic(sympy.And, Eq(k, T("a")), Eq(T("a"), j)), "k == 'a' and 'a' == j"),
    ("x in ('a', 'b', 3)", member(x, T("a"), T("b"), sympy.Integer(3)), "x in ('a', 'b', 3)"),
    ("x in ('a')", member(x, T("a")), "x in ('a')"),
    ("x in ('a', 'a')", member(x, T("a"), T("a")), "x in ('a', 'a')"),
    ("x not in ('a', \"b\")", Not(member(x, T("a"), T("b"))), "x not in ('a', 'b')"),
    ("not x in (1, 2)", Not(member(x, sympy.Integer(1), sympy.Integer(2))), "x not in (1, 2)"),
    (
        "a + b in (-1, 0.5, 30%)",
        member(
            sympy.Add(a, b, evaluate=False),
            sympy.Integer(-1),
            sympy.Rational(1, 2),
            sympy.Rational(3, 10),
        ),
        "a + b in (-1, 0.5, 0.3)",
    ),
    ("x in（'甲'，'乙'）", member(x, T("甲"), T("乙")), "x in ('甲', '乙')"),
    (
        "if(kind == 'consume', amount, 0)",
        If(Eq(kind, T("consume")), amount, sympy.Integer(0)),
        "if(kind == 'consume', amount, 0)",
    ),
    (
        "kind == 'a' and (x in (1) or j not in ('z'))",
        logic(
            sympy.And,
            Eq(kind, T("a")),
            logic(sympy.Or, member(x, sympy.Integer(1)), Not(member(j, T("z")))),
        ),
        "kind == 'a' and (x in (1) or j not in ('z'))",
    ),
    ("not (x not in ('a'))", Not(Not(member(x, T("a")))), "not x not in ('a')"),
    ("net + gift", sympy.Add(symbol("net"), symbol("gift"), evaluate=False), "net + gift"),
]


@pytest.mark.parametrize(("formula", "expected", "printed"), GOLDENS, ids=[g[0] for g in GOLDENS])
def test_goldens(formula: str, expected: Any, printed: str) -> None:
    parsed = measure(formula)
    assert parsed.expr == expected
    assert to_text(parsed.expr) == printed
    assert measure(printed).expr == parsed.expr
    to_latex(parsed.expr)


def test_kinds_and_refs() -> None:
    p = measure("kind == 'recharge'", "condition")
    assert p.kind == "condition"
    assert p.refs == (Ref("kind", 0, 4, False),)
    lone = measure("'abc'")
    assert lone.kind == "text" and lone.expr == Text("abc") and lone.refs == ()
    p = measure("member_id in ('a', 'b') and k == 'x'", "condition")
    assert [r.name for r in p.refs] == ["member_id", "k"]
    assert p.functions == frozenset()
    assert measure("x not in (1)").kind == "condition"
    assert measure("if(k == 'a', amount, 0)", "number").kind == "number"


def test_text_length_cap() -> None:
    assert measure("k == '" + "x" * 200 + "'").expr == Eq(k, T("x" * 200))
    # a doubled quote is one character of the text
    assert measure("k == '" + "''" * 200 + "'").expr == Eq(k, T("'" * 200))
    with pytest.raises(FormulaError) as info:
        measure("k == '" + "x" * 201 + "'")
    assert (info.value.code, info.value.offset + 1) == ("KPI-F008", 6)


def test_in_list_cap() -> None:
    ok = measure("k in (" + ", ".join(str(i) for i in range(100)) + ")")
    assert len(ok.expr.args[1].args) == 100
    with pytest.raises(FormulaError) as info:
        measure("k in (" + ",".join(["1"] * 101) + ")")
    assert (info.value.code, info.value.offset + 1) == ("KPI-F006", 207)


def test_latex() -> None:
    assert to_latex(measure("kind == 'recharge'").expr) == r"\mathrm{kind} = \text{“recharge”}"
    assert to_latex(measure("k != 'a_b%'").expr) == r"\mathrm{k} \neq \text{“a\_b\%”}"
    assert to_latex(measure("k in ('a', 2)").expr) == r"\mathrm{k} \in \{\text{“a”}, 2\}"
    assert to_latex(measure("k not in (1)").expr) == r"\mathrm{k} \notin \{1\}"
    assert to_latex(measure("k == '\\{'").expr) == r"\mathrm{k} = \text{“\textbackslash{}\{”}"


# -- refusals in measure mode ----------------------------------------------------------------

REFUSED: list[tuple[str, str, int]] = [
    # text literals
    ("'abc", "KPI-F001", 1),
    ("k == 'abc", "KPI-F001", 6),
    ("k == \"abc'", "KPI-F001", 6),
    ("k == 'it''s", "KPI-F001", 6),
    ("k == 'a\nb'", "KPI-F001", 6),
    ("k == 'a\rb'", "KPI-F001", 6),
    ("k == 'a\x00'", "KPI-F001", 8),
    ("k == 'a\u202eb'", "KPI-F001", 8),
    ("k == 'a\u200bb'", "KPI-F001", 8),
    ("k == 'x' 'y'", "KPI-F001", 10),
    ("k 'x'", "KPI-F001", 3),
    ("k == `a`", "KPI-F004", 6),
    ("k == ‘a’", "KPI-F004", 6),
    ("k == “a”", "KPI-F004", 6),
    ("k == 「a」", "KPI-F004", 6),
    # kinds
    ("k < 'a'", "KPI-F010", 3),
    ("'a' >= k", "KPI-F010", 5),
    ("k ≤ 'a'", "KPI-F010", 3),
    ("a < b < 'c'", "KPI-F010", 7),
    ("k + 'a'", "KPI-F010", 5),
    ("'a' + 1", "KPI-F010", 1),
    ("'a' * k", "KPI-F010", 1),
    ("k / 'a'", "KPI-F010", 5),
    ("'a' ** 2", "KPI-F010", 1),
    ("-'a'", "KPI-F010", 2),
    ("a + 1 == 'x'", "KPI-F010", 1),
    ("'x' == a * 2", "KPI-F010", 8),
    ("'a' == 1", "KPI-F010", 8),
    ("'a' != null", "KPI-F010", 8),
    ("(a < b) == 'x'", "KPI-F010", 1),
    ("'x' == (a < b)", "KPI-F010", 8),
    ("'x' == true", "KPI-F010", 8),
    ("if(k == 'a', 'x', 'y')", "KPI-F010", 14),
    ("if(k == 'a', 1, 'y')", "KPI-F010", 17),
    ("abs('a')", "KPI-F010", 5),
    ("min(1, 'a')", "KPI-F010", 8),
    ("previous('a')", "KPI-F010", 10),
    ("rolling_sum(k, 'a')", "KPI-F011", 16),
    ("'a' and true", "KPI-F010", 1),
    ("true or 'a'", "KPI-F010", 9),
    ("not 'a'", "KPI-F010", 5),
    # in
    ("k in 'a'", "KPI-F001", 6),
    ("k in a", "KPI-F001", 6),
    ("k in", "KPI-F001", 5),
    ("k not in", "KPI-F001", 9),
    ("k in ()", "KPI-F001", 6),
    ("k in (a)", "KPI-F004", 7),
    ("k in ('a', b + 1)", "KPI-F004", 12),
    ("k in (1 + 1)", "KPI-F004", 7),
    ("k in (true)", "KPI-F004", 7),
    ("k in (null)", "KPI-F004", 7),
    ("k in (k == 'a')", "KPI-F004", 7),
    ("k in (abs(1))", "KPI-F004", 7),
    ("k in ('a',)", "KPI-F001", 11),
    ("k in ('a' 'b')", "KPI-F001", 11),
    ("k in ('a'", "KPI-F001", 6),
    ("k in (('a', 'b'))", "KPI-F001", 11),
    ("in ('a')", "KPI-F001", 1),
    ("k == in", "KPI-F001", 6),
    ("k not ('a')", "KPI-F001", 3),
    ("k in ('a') in ('b')", "KPI-F010", 1),
    ("'a' in ('a')", "KPI-F010", 1),
    ("(k == 'a') in (1)", "KPI-F010", 1),
    ("k in (1) == 1", "KPI-F010", 1),
    ("k in (1) + 1", "KPI-F010", 1),
    ("k in (1) * 2", "KPI-F010", 1),
    # everything else is as in formula mode
    ("lambda: 1", "KPI-F004", 1),
    ("x is y", "KPI-F004", 3),
    ("for k in (1)", "KPI-F004", 1),
    ("k[0]", "KPI-F004", 2),
    ("k.lower()", "KPI-F004", 2),
    ("a \\ b", "KPI-F004", 3),
    ("__class__", "KPI-F004", 1),
    ("getattr(k, 'a')", "KPI-F002", 1),
    ("open('/etc/passwd')", "KPI-F002", 1),
    ("f'{k}'", "KPI-F001", 2),
]


@pytest.mark.parametrize(("formula", "code", "column"), REFUSED, ids=[r[0] for r in REFUSED])
def test_refused_in_measure_mode(formula: str, code: str, column: int) -> None:
    with pytest.raises(FormulaError) as info:
        measure(formula)
    err = info.value
    assert (err.code, err.offset + 1) == (code, column), err.message
    assert err.code in CODES
    assert err.message and err.hint
    assert err.length >= 1


def test_messages() -> None:
    def message(text: str, expect: Any = "any") -> str:
        with pytest.raises(FormulaError) as info:
            measure(text, expect)
        return info.value.message + " / " + (info.value.hint or "")

    assert "only literal values may be listed after in" in message("k in (a)")
    assert "only == and != compare text" in message("k < 'a'")
    assert "never closed" in message("'abc")
    assert "at most 200" in message("'" + "x" * 300 + "'")
    assert "must be followed by a list in brackets" in message("k in 'a'")
    assert "text in quotes but a number is needed" in message("'a'", "number")
    assert "text in quotes but a condition (true/false) is needed" in message("'a'", "condition")
    assert "kind == 'recharge'" in message("k + 'a'")


def test_whole_formula_kind() -> None:
    with pytest.raises(FormulaError) as info:
        measure("'a'", "number")
    assert (info.value.code, info.value.offset) == ("KPI-F010", 0)
    with pytest.raises(FormulaError) as info:
        measure("k in (1)", "number")
    assert info.value.code == "KPI-F010"


def test_caps_apply() -> None:
    with pytest.raises(FormulaError) as info:
        measure("(" * 100 + "k" + ")" * 100 + " == 'a'")
    assert info.value.code == "KPI-F006"
    with pytest.raises(FormulaError) as info:
        measure(
            " or ".join(["k in (" + ",".join(["1"] * 99) + ")"] * 40)
            + " or "
            + "-".join(["a"] * 700)
            + " in (1)"
        )
    assert info.value.code == "KPI-F006"
    with pytest.raises(FormulaError) as info:
        measure("k == '" + "x" * LIMITS.max_length + "'")
    assert info.value.code == "KPI-F005"


# -- formula mode is unchanged ---------------------------------------------------------------

FORMULA_MODE_REFUSED: list[tuple[str, str, int]] = [
    ("'x'", "KPI-F004", 1),
    ('a + "x"', "KPI-F004", 5),
    ("k == 'recharge'", "KPI-F004", 6),
    ("k in ('a')", "KPI-F004", 3),
    ("k in (1, 2)", "KPI-F004", 3),
    ("a not in b", "KPI-F001", 3),
    ("k not in (1)", "KPI-F001", 3),
    ("in", "KPI-F004", 1),
]


@pytest.mark.parametrize(
    ("formula", "code", "column"), FORMULA_MODE_REFUSED, ids=[r[0] for r in FORMULA_MODE_REFUSED]
)
def test_formula_mode_still_refuses(formula: str, code: str, column: int) -> None:
    for kwargs in ({}, {"mode": "formula"}):
        with pytest.raises(FormulaError) as info:
            parse_formula(formula, expect="any", **kwargs)
        assert (info.value.code, info.value.offset + 1) == (code, column)
    assert "text in quotes is not allowed in a formula" in str(
        pytest.raises(FormulaError, parse_formula, "'x'").value
    )


def test_bad_mode() -> None:
    with pytest.raises(ValueError):
        parse_formula("a", mode="sql")  # type: ignore[arg-type]


# -- properties ------------------------------------------------------------------------------

SETTINGS = settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)

ALLOWED_NODES: tuple[type, ...] = (
    sympy.Symbol,
    Text,
    sympy.Number,
    Null,
    sympy.Add,
    sympy.Mul,
    sympy.Pow,
    sympy.core.relational.Relational,
    sympy.And,
    sympy.Or,
    sympy.Not,
    sympy.Tuple,
    sympy.Min,
    sympy.Max,
    sympy.Abs,
    KpiFunction,
    KpiCondition,
    type(sympy.true),
    type(sympy.false),
)


def check_harmless(parsed: ParsedFormula) -> None:
    stack = [parsed.expr]
    while stack:
        node = stack.pop()
        assert isinstance(node, ALLOWED_NODES), type(node)
        if isinstance(node, sympy.Symbol):
            assert node.name.isidentifier() and not node.name.startswith("__")
        stack.extend(node.args)


def check_parsed(text: str, parsed: ParsedFormula) -> None:
    check_harmless(parsed)
    assert parsed.node_count == count_nodes(parsed.expr) <= LIMITS.max_nodes
    assert parsed.depth <= LIMITS.max_depth
    for ref in parsed.refs:
        assert text[ref.offset : ref.offset + ref.length] == ref.name
    assert parsed.functions <= set(FUNCTIONS)
    to_latex(parsed.expr)
    printed = to_text(parsed.expr)
    if len(printed) <= LIMITS.max_length:
        again = measure(printed)
        assert again.expr == parsed.expr, printed
        assert again.kind == parsed.kind
        assert to_text(again.expr) == printed


def parse_or_refuse(text: str) -> None:
    try:
        parsed = measure(text)
    except FormulaError as err:
        assert err.code.startswith("KPI-F") and err.code in CODES
        assert err.message and err.hint
        assert 0 <= err.offset <= max(len(text), LIMITS.max_length)
        return
    check_parsed(text, parsed)


@SETTINGS
@given(st.text())
def test_any_text_parses_or_is_refused(text: str) -> None:
    parse_or_refuse(text)


SOUP = [
    "k",
    "kind",
    "a",
    "期末",
    "1",
    "0.5",
    "-",
    "+",
    "*",
    "==",
    "!=",
    "<",
    "(",
    ")",
    ",",
    "'",
    '"',
    "''",
    "'a'",
    '"b"',
    "'it''s'",
    "in",
    "not",
    "and",
    "or",
    "if",
    "null",
    "true",
    "\\",
    "\n",
    "\x00",
    "`",
    "abs",
    "=",
    " ",
]


@SETTINGS
@given(st.lists(st.sampled_from(SOUP), max_size=30), st.sampled_from(["", " "]))
def test_token_soup_parses_or_is_refused(tokens: list[str], sep: str) -> None:
    parse_or_refuse(sep.join(tokens))


TEXT_CHARS = st.characters(blacklist_categories=("Cc", "Cf", "Cs", "Zl", "Zp"))


@st.composite
def text_literal(draw: st.DrawFn) -> str:
    value = draw(st.text(TEXT_CHARS, max_size=12))
    quote = draw(st.sampled_from(["'", '"']))
    return quote + value.replace(quote, quote * 2) + quote


NAMES = st.sampled_from(["k", "kind", "member_id", "期末金额", "x_1", "periods"])
NUMBERS = st.sampled_from(["0", "1", "-2", "0.5", "30%", "1e3", "+7", "(3)"])
LIST_ITEM = st.one_of(text_literal(), NUMBERS)
ITEM_LIST = st.lists(LIST_ITEM, min_size=1, max_size=5).map(lambda v: "(" + ", ".join(v) + ")")
NUMBER_EXPR = st.one_of(NAMES, NUMBERS, st.tuples(NAMES, NUMBERS).map(lambda t: f"{t[0]} + {t[1]}"))

Formula = tuple[str, str]


def cond_leaves() -> st.SearchStrategy[Formula]:
    eq = st.sampled_from(["==", "!=", "≠"])
    return st.one_of(
        st.tuples(NAMES, eq, text_literal()).map(lambda t: ("condition", " ".join(t))),
        st.tuples(text_literal(), eq, NAMES).map(lambda t: ("condition", " ".join(t))),
        st.tuples(text_literal(), eq, text_literal()).map(lambda t: ("condition", " ".join(t))),
        st.tuples(NUMBER_EXPR, st.sampled_from(["in", "not in"]), ITEM_LIST).map(
            lambda t: ("condition", " ".join(t))
        ),
        st.tuples(NUMBER_EXPR, st.sampled_from(["<", ">=", "=="]), NUMBER_EXPR).map(
            lambda t: ("condition", " ".join(t))
        ),
    )


def extend(children: st.SearchStrategy[Formula]) -> st.SearchStrategy[Formula]:
    def as_number(item: Formula) -> str:
        return item[1] if item[0] == "number" else f"if({item[1]}, 1, 0)"

    def as_condition(item: Formula) -> str:
        return item[1] if item[0] == "condition" else f"{item[1]} in (1, 'x')"

    n = children.map(as_number)
    c = children.map(as_condition)
    return st.one_of(
        st.tuples(n, st.sampled_from(["+", "-", "*", "/"]), n).map(
            lambda t: ("number", " ".join(t))
        ),
        st.tuples(c, st.sampled_from(["and", "or"]), c).map(lambda t: ("condition", " ".join(t))),
        c.map(lambda s: ("condition", f"not {s}")),
        c.map(lambda s: ("condition", f"({s})")),
        n.map(lambda s: ("number", f"({s})")),
        st.tuples(c, n, n).map(lambda t: ("number", f"if({t[0]}, {t[1]}, {t[2]})")),
        st.tuples(n, st.sampled_from(["in", "not in"]), ITEM_LIST).map(
            lambda t: ("condition", f"({t[0]}) {t[1]} {t[2]}")
        ),
    )


LEAVES: st.SearchStrategy[Formula] = st.one_of(
    NAMES.map(lambda s: ("number", s)), NUMBERS.map(lambda s: ("number", s)), cond_leaves()
)
FORMULAS = st.recursive(LEAVES, extend, max_leaves=10)


@SETTINGS
@given(FORMULAS)
def test_generated_measure_formulas_round_trip(formula: Formula) -> None:
    expected_kind, text = formula
    parsed = measure(text)
    assert parsed.kind == expected_kind
    check_parsed(text, parsed)


@SETTINGS
@given(text_literal())
def test_text_literals_round_trip(literal: str) -> None:
    parsed = measure(f"k == {literal}")
    value = parsed.expr.args[1]
    assert isinstance(value, Text)
    quote = literal[0]
    assert value.value == literal[1:-1].replace(quote * 2, quote)
    assert measure(to_text(parsed.expr)).expr == parsed.expr


# -- the hostile corpus in measure mode ------------------------------------------------------


@pytest.mark.parametrize("formula", CASES)
def test_hostile_corpus_in_measure_mode(formula: str, no_side_effects: Callable[[], Any]) -> None:
    start = time.perf_counter()
    try:
        with no_side_effects():
            parsed = measure(formula)
    except FormulaError as err:
        assert err.code.startswith("KPI-F") and err.code in CODES
    else:
        check_harmless(parsed)
    assert time.perf_counter() - start < HANG_SECONDS


def test_null_is_not_text() -> None:
    assert measure("k == null").expr == Eq(k, NULL)
