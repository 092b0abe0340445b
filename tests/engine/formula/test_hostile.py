"""Hostile formulas: sandbox escapes and denial of service are refused quickly, without side
effects, with a KPI-F code."""

from __future__ import annotations

import ast
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from engine.core.errors import FormulaError
from engine.core.problems import CODES
from engine.formula import LIMITS, parse_formula

HERE = Path(__file__).parent
PACKAGE = HERE.parents[2] / "engine" / "formula"


def corpus() -> list[str]:
    lines = (HERE / "hostile_corpus.txt").read_text(encoding="utf-8").splitlines()
    return [line for line in lines if line.strip() and not line.startswith("#")]


def generated() -> list[tuple[str, str]]:
    """Inputs too long to keep in the corpus file: (id, formula)."""
    n = LIMITS.max_length
    return [
        ("5000-digit integer", "1234567890" * 500),
        ("5000-digit power of ten", "1" + "0" * 4999),
        ("long exponent", "1e" + "9" * 9000),
        ("long fraction", "0." + "0" * 9000 + "1"),
        ("10000 open brackets", "(" * 10_000),
        ("5000 balanced brackets", "(" * 4_999 + "x" + ")" * 4_999),
        ("10000 minus signs", "-" * 9_999 + "x"),
        ("spaced minus signs", "- " * 4_999 + "x"),
        ("not not not", "not " * 2_499 + "true"),
        ("nested calls", "abs(" * 2_000 + "x" + ")" * 2_000),
        ("nested previous", "previous(" * 1_000 + "x" + ")" * 1_000),
        ("nested if", "if(true, " * 1_000 + "1" + ", 0)" * 1_000),
        ("a+ 5000 times", "a+" * 5_000),
        ("5000 terms", "+".join(["a"] * 5_000)),
        ("5000 factors", "*".join(["a"] * 5_000)),
        ("long chain", " < ".join(["a"] * 2_000)),
        ("long or", " or ".join(["true"] * 2_000)),
        ("5000 arguments", "min(" + ",".join(["a"] * 4_999) + ")"),
        ("doubling chains", "0 < if(" * 12 + "true" + ", 1, 2) < 1" * 12),
        ("too long", "x" * (n + 1)),
        ("too long of spaces", " " * (n + 1)),
        ("NUL", "\x00"),
        ("NUL inside", "a\x00b"),
        ("control characters", "a\x1b[31m + b"),
        ("right-to-left override", "a + \u202eb"),
        ("zero-width joiner", "a\u200db"),
    ]


#: A hostile formula must be refused (or parsed) at once; this bound only catches a hang or an
#: exponential blow-up (speeds are measured in bench/, not asserted in tests).
HANG_SECONDS = 20.0  # a hang guard on a loaded 2-core machine, not a speed goal

CASES = [pytest.param(text, id=text[:40]) for text in corpus()] + [
    pytest.param(text, id=name) for name, text in generated()
]


@pytest.mark.parametrize("formula", CASES)
def test_refused_with_a_formula_code(formula: str, no_side_effects: Callable[[], Any]) -> None:
    start = time.perf_counter()
    with no_side_effects(), pytest.raises(FormulaError) as info:
        parse_formula(formula, expect="any")
    elapsed = time.perf_counter() - start
    assert info.value.code.startswith("KPI-F") and info.value.code in CODES
    assert elapsed < HANG_SECONDS, f"took {elapsed:.3f}s"


def test_whole_corpus_is_refused(no_side_effects: Callable[[], Any]) -> None:
    formulas = corpus() + [text for _, text in generated()]
    start = time.perf_counter()
    with no_side_effects():
        for formula in formulas:
            with pytest.raises(FormulaError):
                parse_formula(formula, expect="any")
    assert time.perf_counter() - start < 4 * HANG_SECONDS


def test_corpus_covers_the_threat_model() -> None:
    lines = set(corpus())
    for must in (
        "__import__('os').system('echo pwned')",
        "().__class__.__base__.__subclasses__()",
        "lambda: 1",
        'exec("1")',
        'eval("1")',
        "open('/etc/passwd').read()",
        "x.__class__",
        "getattr(x, 'y')",
        "2**2**2**99",
        "9**9**9",
        "x**1000",
        "1e999999",
        "x[0]",
        "{}",
        "f'{x}'",
        "\\x00",
        "ｅｖａｌ(1)",
    ):
        assert must in lines


# -- the package itself never reaches for the dangerous tools --------------------------------

FORBIDDEN_CALLS = {
    "eval",
    "exec",
    "compile",
    "sympify",
    "S",
    "parse_expr",
    "lambdify",
    "__import__",
    "getattr",
    "setattr",
}
FORBIDDEN_MODULES = {"ast", "sympy.parsing", "sympy.utilities.lambdify", "pickle", "marshal"}


@pytest.mark.parametrize("path", sorted(PACKAGE.glob("*.py")), ids=lambda p: p.name)
def test_source_has_no_eval_like_calls(path: Path) -> None:
    # Reads the package's own source (not formula text) to check what it calls and imports.
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
            assert name not in FORBIDDEN_CALLS, f"{path.name}:{node.lineno} calls {name}"
        elif isinstance(node, ast.Import):
            for alias in node.names:
                assert alias.name not in FORBIDDEN_MODULES, f"{path.name} imports {alias.name}"
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            assert not any(module == m or module.startswith(m + ".") for m in FORBIDDEN_MODULES)
            assert not {a.name for a in node.names} & FORBIDDEN_CALLS, path.name
