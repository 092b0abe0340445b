"""The sympy shapes that formula-language constructs become (built without evaluation).

sympy evaluates eagerly (``m / m`` becomes 1, ``0 * x`` becomes 0), so every node is built
with ``evaluate=False`` or below sympy's constructors. The shapes are chosen so that
:func:`engine.formula.printer.to_text` prints a parsed tree back into text that parses to an
equal (``==``) tree:

* a run ``a + b - c`` is one n-ary ``Add(a, b, Mul(-1, c))``; an ``Add`` operand is flattened
  into the run (addition is associative, with or without nulls);
* a run ``a * b / c`` is one ``Mul(a, b, Pow(c, -1))``; a ``Mul`` operand is flattened into it,
  except a negation ``Mul(-1, …)`` after the first position (``a * -b`` keeps the factor -b);
* negation (:func:`negate`): ``-3`` is the number -3; ``-(2 * b)`` is ``Mul(-2, b)``;
  ``-(b * c)`` is ``Mul(-1, b, c)``; anything else ``-e`` is ``Mul(-1, e)`` (so ``a - 0 * b``
  prints back as ``a + 0 * b``: a zero has no sign);
* ``a ** k`` is ``Pow(a, k)`` with k an Integer or Rational;
* ``and``/``or`` are built by :func:`logic`, *not* by sympy's ``And``/``Or`` constructors:
  those ignore ``evaluate=False``, sort and deduplicate their arguments and simplify, e.g.
  ``x < 1 or x >= 1`` to ``true`` (wrong when x is null) and ``x < 1 and x >= 1`` to ``false``;
  they also refuse an ``If`` argument (an ``Expr``);
* ``not c`` is ``Not(c, evaluate=False)`` (which sympy respects);
* ``a < b < c`` is ``And(a < b, b < c)``: the middle operand appears twice in the tree;
* ``min``/``max`` are ``Min``/``Max(…, evaluate=False)``; note that sympy still sorts and
  deduplicates their arguments, and ``min(x)`` is just ``x``.

These shapes do not survive sympy's own rebuilding: ``xreplace``, ``subs`` and unpickling call
the evaluating constructors (``x / x`` comes back as 1, ``x < 1 and x >= 1`` as false, and an
``and`` with an ``if(…)`` argument raises TypeError). Transform trees with :func:`rebuild`, and
send formula *text* between processes rather than pickled trees.
"""

from __future__ import annotations

from typing import Any

import sympy

from engine.formula.functions import NULL

MINUS_ONE = sympy.Integer(-1)

#: Comparison operator → sympy relational class (call with ``evaluate=False``).
RELATIONS: dict[str, Any] = {
    "<": sympy.StrictLessThan,
    "<=": sympy.LessThan,
    ">": sympy.StrictGreaterThan,
    ">=": sympy.GreaterThan,
    "==": sympy.Equality,
    "!=": sympy.Unequality,
}

#: Defaults of optional parameters, by their text in the signature table.
DEFAULTS: dict[str, Any] = {"0": sympy.Integer(0), "1": sympy.Integer(1), "null": NULL}


def logic(cls: Any, args: list[Any]) -> Any:
    """``And``/``Or`` with the arguments exactly as given, in order."""
    obj = sympy.Basic.__new__(cls, *args)
    obj._argset = frozenset(args)  # what LatticeOp methods (make_args, …) expect
    return obj


def negate(expr: Any) -> tuple[Any, int]:
    """``-expr`` in the shape described above; also returns the number of nodes it adds."""
    if isinstance(expr, sympy.Number):
        return -expr, 0
    if isinstance(expr, sympy.Mul) and expr.args[0] != -1:
        first = expr.args[0]
        if isinstance(first, sympy.Number):
            return sympy.Mul(-first, *expr.args[1:], evaluate=False), 0
        return sympy.Mul(MINUS_ONE, *expr.args, evaluate=False), 1
    return sympy.Mul(MINUS_ONE, expr, evaluate=False), 2


def is_negation(expr: Any) -> bool:
    """``Mul(-1, …)``: how ``-x`` is built."""
    return isinstance(expr, sympy.Mul) and expr.args[0] == -1


def rebuild(node: Any, args: tuple[Any, ...] | list[Any]) -> Any:
    """``node`` with new arguments, built like the parser builds it: without evaluation.

    Use this (not ``node.func(*args, evaluate=False)``) to transform a parsed tree, e.g. to
    substitute formulas into each other: sympy's ``And``/``Or`` ignore ``evaluate=False``,
    simplify (``x < 1 or x >= 1`` becomes ``true``) and refuse ``If`` arguments.
    """
    if not args:
        return node
    cls = node.func
    if isinstance(node, sympy.And | sympy.Or):
        return logic(cls, list(args))
    try:
        return cls(*args, evaluate=False)
    except TypeError:  # a sympy class without an evaluate option: not built by the parser
        return cls(*args)
