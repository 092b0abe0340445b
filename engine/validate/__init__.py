"""Stage 5: semantic rules over a resolved pack and its parsed formulas.

Each rule is a small function ``rule(ctx) -> Iterable[Problem]`` in a module named after
what it checks, with its own stable codes (see ``docs/errors.md``). They run in the order
of :data:`RULES` and every problem is collected; none raises on bad input.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from engine.core.problems import Problem
from engine.validate.bands import check_bands
from engine.validate.context import Context
from engine.validate.edges import check_edges
from engine.validate.headers import check_headers
from engine.validate.ids import check_ids
from engine.validate.inputs import check_inputs
from engine.validate.links import check_links
from engine.validate.measures import check_measures
from engine.validate.references import check_references

Rule = Callable[[Context], Iterable[Problem]]

#: The semantic rules, in the order they run.
RULES: tuple[Rule, ...] = (
    check_ids,
    check_references,
    check_bands,
    check_edges,
    check_links,
    check_inputs,
    check_measures,
    check_headers,
)


def run_rules(ctx: Context) -> list[Problem]:
    """Run every rule and collect all their problems."""
    problems: list[Problem] = []
    for rule in RULES:
        problems.extend(rule(ctx))
    return problems


__all__ = ["RULES", "Context", "run_rules"]
