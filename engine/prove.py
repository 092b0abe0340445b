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
no two checks are ever proved from each other. Expansions and residuals are size-guarded; a check
too large to reason about is reported as depending on data, with the reason.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import sympy

from engine.expand import MAX_EXPANDED_DEPTH, Expander, evaluated
from engine.formula import count_nodes, to_latex, to_text
from engine.graph import DependencyGraph
from engine.model import Pack
from engine.validate.context import FormulaSite

Status = Literal["proved", "refuted", "depends_on_data"]
MAX_PROOF_NODES = 600  # residual size up to which sympy's cancel() is attempted
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

    @property
    def lhs_minus_rhs(self) -> str:
        return self.residual or "0"

    def to_json(self) -> dict[str, Any]:
        return {"check": self.check, "status": self.status, "residual": self.residual,
                "residual_latex": self.residual_latex, "using": list(self.using), "reason": self.reason}


def prove_checks(pack: Pack, sites: Sequence[FormulaSite], graph: DependencyGraph) -> dict[str, Proof]:
    metrics = {s.owner.id: s for s in sites if s.field == "formula"}
    checks = {s.owner.id: s for s in sites if s.field == "assert"}
    expander = Expander(metrics, graph)
    residuals: dict[str, Any] = {}
    reasons: dict[str, str] = {}
    for cid, site in checks.items():
        residual, reason = _residual(site, expander)
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
        expr = site.parsed.expr
        if cid not in residuals:
            proofs[cid] = Proof(cid, "depends_on_data", None, None, (), reasons[cid])
            continue
        givens = {k: v for k, v in residuals.items()
                  if rank[k] < rank[cid] and isinstance(checks[k].parsed.expr, _EQ)}
        proofs[cid] = _decide(cid, expr, residuals[cid], givens, pack)
    return proofs


def _residual(site: FormulaSite, expander: Expander) -> tuple[Any | None, str]:
    expr = site.parsed.expr
    if not isinstance(expr, _EQ + _ORDER):
        return None, "only comparisons (==, <, <=, >, >=) are proved; this check is evaluated on the data"
    size, depth = expander.cost(site.parsed.refs, site.parsed.node_count, site.parsed.depth)
    if size > MAX_PROOF_NODES or depth > MAX_EXPANDED_DEPTH:
        return None, f"too large to prove (the expansion has {size:,} parts)"
    lhs, rhs = (evaluated(expander.expression(side, evaluate=False)) for side in expr.args)
    diff = lhs - rhs
    if count_nodes(diff) > MAX_PROOF_NODES:
        return None, "too large to prove"
    return _simplify(diff), ""


def _simplify(expr: Any) -> Any:
    """A canonical form of a residual: polynomials expanded, rational functions cancelled."""
    if any(isinstance(p, sympy.Pow) and p.exp.is_negative for p in sympy.preorder_traversal(expr)):
        return sympy.cancel(sympy.together(expr))
    return sympy.expand(expr)


def _decide(cid: str, expr: Any, r: Any, givens: Mapping[str, Any], pack: Pack) -> Proof:
    used: list[str] = []
    original = r
    if isinstance(expr, _EQ) and r != 0:
        for gid, g in sorted(givens.items()):
            step = _eliminate(r, g, pack)
            if step is not None:
                r = step
                used.append(gid)
                if r == 0:
                    break
        if r != 0:
            used, r = [], original  # the givens did not close the proof: report the plain residual
    text = None if r == 0 else to_text(r)
    latex = None if r == 0 else to_latex(r)
    if isinstance(expr, _EQ):
        if r == 0:
            how = f" using {', '.join(used)}" if used else ""
            return Proof(cid, "proved", None, None, tuple(used), f"holds for any data{how}")
        if r.is_number:
            return Proof(cid, "refuted", text, latex, (), "the two sides always differ by a constant")
        return Proof(cid, "depends_on_data", text, latex, (), "holds only when the residual is 0 on the data")
    truth = _order_truth(expr, r)
    if truth is True:
        return Proof(cid, "proved", None, None, (), "holds for any data")
    if truth is False:
        return Proof(cid, "refuted", text, latex, (), "can never hold")
    return Proof(cid, "depends_on_data", text, latex, (), "whether it holds depends on the data")


def _eliminate(r: Any, given: Any, pack: Pack) -> Any | None:
    """Use ``given == 0`` to remove one input from ``r``, if ``given`` is linear in it."""
    candidates = sorted((s for s in given.free_symbols if s in r.free_symbols and s.name in pack.inputs),
                        key=lambda s: s.name)
    for s in candidates:
        poly = sympy.Poly(given, s) if given.is_polynomial(s) else None
        if poly is None or poly.degree() != 1:
            continue
        coeff = poly.coeff_monomial(s)
        if not coeff.is_number or coeff == 0:
            continue
        solution = -(given - coeff * s) / coeff
        return _simplify(r.subs(s, solution))
    return None


def _order_truth(expr: Any, r: Any) -> bool | None:
    if not r.is_number:
        return None
    value = sympy.Rational(r) if r.is_rational else sympy.Float(r)
    if isinstance(expr, sympy.Lt):
        return bool(value < 0)
    if isinstance(expr, sympy.Le):
        return bool(value <= 0)
    if isinstance(expr, sympy.Gt):
        return bool(value > 0)
    return bool(value >= 0)
