"""Stage 7: try to prove each check from the formulas alone.

A check such as ``closing_amount == closing_net + closing_gift`` is expanded down to inputs
(``previous(...)`` terms are opaque values), and the residual ``lhs - rhs`` is simplified:

- ``proved``: the residual is 0 — the check holds for any data (where every value is defined;
  algebra such as x/x = 1 is used here, never when computing values);
- ``refuted``: the residual is a non-zero constant — the check can never hold;
- ``depends_on_data``: the residual is a non-zero expression of the inputs — whether the
  check holds depends on the data (the residual says exactly on what).

The pack's other equality checks are taken as given: each one that is linear in some input
is solved for it and substituted, so that ``balance_identity`` is proved from
``recharge_split`` and ``consume_split``. Only simpler checks serve as givens (see below), so
no two checks are ever proved from each other, and only exact givens — or givens whose
absolute tolerances add up to no more than the check's own tolerance — prove a check.

Tenant formulas can make algebra explode, so nothing is expanded before an upper bound of
its size is computed, and all proofs of a pack share a time budget. A check that is too large,
involves ``null``, divides by zero for every value, or that sympy cannot handle is reported as
depending on data, with the reason — and is still evaluated on every row.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

import sympy

from engine.compile.expand import MAX_EXPANDED_DEPTH, Expander, evaluated
from engine.compile.graph import DependencyGraph
from engine.core.model import Check, Pack
from engine.formula import NULL, count_nodes, to_latex, to_text
from engine.formula.sites import CheckAssertion, MetricFormula

Status = Literal["proved", "refuted", "depends_on_data"]
MAX_PROOF_NODES = 600  # residual size up to which sympy's cancel() is attempted
MAX_TERMS = 2_000  # upper bound of the terms an expansion may produce
TIME_BUDGET = 2.0  # seconds for all proofs of one pack
MAX_GIVENS = 64  # eliminations tried per check
#: what sympy may raise on odd but valid formulas; the check is then left to the data
_SYMPY_FAILURES = (
    sympy.PolynomialError,
    sympy.SympifyError,
    TypeError,
    ValueError,
    ArithmeticError,
    RecursionError,
)
_EQ = (sympy.Eq,)
_ORDER = (sympy.Lt, sympy.Le, sympy.Gt, sympy.Ge)


@dataclass(frozen=True)
class Proof:
    check: str
    status: Status
    residual: str | None  # lhs - rhs after simplification, as text (None when proved)
    residual_latex: str | None
    using: tuple[str, ...]  # other checks taken as given
    reason: str

    def to_json(self) -> dict[str, Any]:
        return {
            "check": self.check,
            "status": self.status,
            "residual": self.residual,
            "residual_latex": self.residual_latex,
            "using": list(self.using),
            "reason": self.reason,
        }


def prove_checks(
    pack: Pack,
    metrics: Mapping[str, MetricFormula],
    checks: Mapping[str, CheckAssertion],
    graph: DependencyGraph,
) -> dict[str, Proof]:
    expander = Expander(metrics, graph)
    deadline = time.monotonic() + TIME_BUDGET
    residuals: dict[str, Any] = {}
    reasons: dict[str, str] = {}
    for cid, site in checks.items():
        try:
            residual, reason = _residual(site, expander, deadline)
        except _SYMPY_FAILURES:
            residual, reason = None, "the compiler could not reason about this check"
        if residual is None:
            reasons[cid] = reason
        else:
            residuals[cid] = residual
    # A check may be proved only from checks that are simpler than itself (fewer terms in the
    # residual; on a tie, defined earlier). This strict order rules out circular proofs: two
    # equivalent checks cannot each be "proved" from the other.
    position = {cid: i for i, cid in enumerate(checks)}
    rank = {cid: (len(sympy.Add.make_args(r)), position[cid]) for cid, r in residuals.items()}
    proofs: dict[str, Proof] = {}
    for cid, site in checks.items():
        if cid not in residuals:
            proofs[cid] = Proof(cid, "depends_on_data", None, None, (), reasons[cid])
            continue
        givens = {
            k: v
            for k, v in residuals.items()
            if rank[k] < rank[cid]
            and isinstance(checks[k].parsed.expr, _EQ)
            and not pack.checks[k].tolerance_relative
        }
        try:
            proofs[cid] = _decide(
                pack.checks[cid], site.parsed.expr, residuals[cid], givens, pack, deadline
            )
        except _SYMPY_FAILURES:
            proofs[cid] = Proof(
                cid,
                "depends_on_data",
                None,
                None,
                (),
                "the compiler could not reason about this check",
            )
    return proofs


def _residual(site: CheckAssertion, expander: Expander, deadline: float) -> tuple[Any | None, str]:
    expr = site.parsed.expr
    if not isinstance(expr, _EQ + _ORDER):
        return (
            None,
            "only comparisons (==, <, <=, >, >=) are proved; this check is evaluated on the data",
        )
    size, depth = expander.cost(site.parsed.refs, site.parsed.node_count, site.parsed.depth)
    if size > MAX_PROOF_NODES or depth > MAX_EXPANDED_DEPTH:
        return None, "too large to prove: its expansion has more than 600 parts"
    if time.monotonic() > deadline:
        return None, f"not attempted: the {TIME_BUDGET:g} s allowed for this pack's proofs ran out"
    sides = [expander.expression(side, evaluate=False) for side in expr.args]
    if any(node is NULL for side in sides for node in sympy.preorder_traversal(side)):
        return None, "it involves null, which is never equal or comparable to anything"
    diff = evaluated(sides[0]) - evaluated(sides[1])
    if count_nodes(diff) > MAX_PROOF_NODES or term_bound(diff) > MAX_TERMS:
        return None, "too large to prove: expanding it would make too many terms"
    r = _simplify(diff)
    if r.has(sympy.zoo, sympy.nan, sympy.oo, -sympy.oo) or r.has(sympy.I):
        return None, "its formulas divide by zero or are undefined, so it depends on the data"
    return r, ""


def term_bound(expr: Any) -> int:
    """An upper bound of the terms of ``expr`` once expanded (numerator + denominator)."""
    cap = 10**9
    memo: dict[Any, tuple[int, int]] = {}
    stack: list[tuple[Any, bool]] = [(expr, False)]
    while stack:
        node, ready = stack.pop()
        if node in memo:
            continue
        if not isinstance(node, sympy.Add | sympy.Mul | sympy.Pow):
            memo[node] = (1, 1)  # symbols, numbers and function calls are single factors
            continue
        if not ready:
            stack.append((node, True))
            stack.extend((a, False) for a in node.args if a not in memo)
            continue
        parts = [memo[a] for a in node.args]
        if isinstance(node, sympy.Add):  # a/b + c/d = (ad + cb) / bd
            den = min(math.prod(d for _, d in parts), cap)
            num = min(sum(n * den // max(d, 1) for n, d in parts), cap)
        elif isinstance(node, sympy.Mul):
            num, den = (
                min(math.prod(n for n, _ in parts), cap),
                min(math.prod(d for _, d in parts), cap),
            )
        else:
            (n, d), _ = parts
            k = abs(int(node.exp)) if node.exp.is_Integer else 1
            grow = [min(math.comb(x + k - 1, k), cap) if x < cap else cap for x in (n, d)]
            num, den = (grow[0], grow[1]) if not node.exp.is_negative else (grow[1], grow[0])
        memo[node] = (num, den)
    n, d = memo[expr]
    return min(n + d, cap)


def _simplify(expr: Any) -> Any:
    """A canonical form of a residual: polynomials expanded, rational functions cancelled."""
    if any(isinstance(p, sympy.Pow) and p.exp.is_negative for p in sympy.preorder_traversal(expr)):
        return sympy.cancel(sympy.together(expr))
    return sympy.expand(expr)


def _decide(
    check: Check, expr: Any, r: Any, givens: Mapping[str, Any], pack: Pack, deadline: float
) -> Proof:
    cid = check.id
    own = check.tolerance if check.tolerance is not None and not check.tolerance_relative else 0.0
    if isinstance(expr, _EQ):
        if r == 0:
            return Proof(cid, "proved", None, None, (), "holds for any data")
        text, latex = to_text(r), to_latex(r)
        if r.is_number:
            if own and abs(float(r)) <= own:
                return Proof(
                    cid,
                    "proved",
                    None,
                    None,
                    (),
                    f"the sides differ by {text}, within the tolerance {own:g}",
                )
            return Proof(cid, "refuted", text, latex, (), f"the two sides always differ by {text}")
        closed, used, slack = _use_givens(r, givens, pack, deadline)
        if closed and slack <= own + 1e-12:
            how = f"holds for any data, using {', '.join(used)}"
            if slack:
                how += f" (within their tolerances, ±{slack:g})"
            return Proof(cid, "proved", None, None, tuple(used), how)
        if closed:
            return Proof(
                cid,
                "depends_on_data",
                text,
                latex,
                (),
                f"would follow from {', '.join(used)}, but only within their "
                f"tolerances (±{slack:g}), wider than this check's ({own:g})",
            )
        return Proof(
            cid, "depends_on_data", text, latex, (), "holds only when the residual is 0 on the data"
        )
    truth = _order_truth(expr, r)
    text, latex = to_text(r), to_latex(r)
    if truth is True:
        return Proof(cid, "proved", None, None, (), "holds for any data")
    if truth is False:
        return Proof(
            cid, "refuted", text, latex, (), f"it is false for every value (left − right = {text})"
        )
    return Proof(cid, "depends_on_data", text, latex, (), "whether it holds depends on the data")


def _use_givens(
    r: Any, givens: Mapping[str, Any], pack: Pack, deadline: float
) -> tuple[bool, list[str], float]:
    """Eliminate inputs from ``r`` with the givens; whether
    it closes, which were used, their tolerance."""
    used: list[str] = []
    slack = 0.0
    for gid, g in sorted(givens.items())[:MAX_GIVENS]:
        if time.monotonic() > deadline or not (g.free_symbols & r.free_symbols):
            continue
        step = _eliminate(r, g, pack)
        if step is None:
            continue
        r = step
        used.append(gid)
        slack += pack.checks[gid].tolerance or 0.0
        if r == 0:
            return True, used, slack
    return False, [], 0.0


def _eliminate(r: Any, given: Any, pack: Pack) -> Any | None:
    """Use ``given == 0`` to remove one input from ``r``, if ``given`` is linear in it."""
    candidates = sorted(
        (s for s in given.free_symbols if s in r.free_symbols and s.name in pack.inputs),
        key=lambda s: s.name,
    )
    for s in candidates:
        poly = sympy.Poly(given, s) if given.is_polynomial(s) else None
        if poly is None or poly.degree() != 1:
            continue
        coeff = poly.coeff_monomial(s)
        if not coeff.is_number or coeff == 0:
            continue
        solution = -(given - coeff * s) / coeff
        candidate = r.subs(s, solution)
        if term_bound(candidate) > MAX_TERMS:
            return None
        return _simplify(candidate)
    return None


def _order_truth(expr: Any, r: Any) -> bool | None:
    """Whether ``lhs - rhs = r`` makes an order comparison true for every value (None: unknown)."""
    if not r.is_number or not r.is_real:
        return None
    truth = {
        sympy.Lt: r.is_extended_negative,
        sympy.Le: r.is_extended_nonpositive,
        sympy.Gt: r.is_extended_positive,
        sympy.Ge: r.is_extended_nonnegative,
    }[type(expr)]
    return None if truth is None else bool(truth)
