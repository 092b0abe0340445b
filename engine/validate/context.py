"""What the semantic rules look at: the resolved pack and every parsed formula."""

from __future__ import annotations

import difflib
from collections.abc import Iterator
from dataclasses import dataclass, field

from engine.core.model import Pack
from engine.formula.functions import BUILTIN_NAMES
from engine.formula.sites import (
    CheckAssertion,
    FormulaSite,
    MeasureExprs,
    MetricFormula,
    RuleCondition,
)


@dataclass
class Context:
    """The resolved pack, its parsed formulas by owner id, and (filled by the measure rules) the
    parsed expressions of each input's measure."""

    pack: Pack
    metrics: dict[str, MetricFormula] = field(default_factory=dict)
    checks: dict[str, CheckAssertion] = field(default_factory=dict)
    rules: dict[str, RuleCondition] = field(default_factory=dict)
    measures: dict[str, MeasureExprs] = field(default_factory=dict)

    def sites(self) -> Iterator[FormulaSite]:
        """Every formula: the metrics', then the checks', then the rules'."""
        yield from self.metrics.values()
        yield from self.checks.values()
        yield from self.rules.values()

    def names(self) -> set[str]:
        """Every id a formula may name: inputs, params, metrics and the built-ins."""
        p = self.pack
        return {*p.inputs, *p.params, *p.metrics, *BUILTIN_NAMES}


def suggest(name: str, options: list[str] | set[str]) -> str | None:
    """A "did you mean" hint for a misspelt id."""
    close = difflib.get_close_matches(name, sorted(options), n=1, cutoff=0.6)
    return f"did you mean '{close[0]}'?" if close else None


class Suggester:
    """ "Did you mean" for many names against one set of ids: memoised, and with a budget, so a
    pack full of misspellings cannot make validation take minutes (difflib is quadratic)."""

    def __init__(self, options: set[str], budget: int = 200) -> None:
        self.options = sorted(options)
        self.budget = budget
        self.memo: dict[str, str | None] = {}

    def __call__(self, name: str) -> str | None:
        if name not in self.memo:
            if self.budget <= 0:
                return None
            self.budget -= 1
            self.memo[name] = suggest(name, self.options)
        return self.memo[name]
