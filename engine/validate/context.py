"""What the semantic rules look at: the resolved pack and every parsed formula."""

from __future__ import annotations

import difflib
from collections.abc import Iterator
from dataclasses import dataclass, field

from engine.core.model import Definition, Pack
from engine.core.problems import Location
from engine.formula import ParsedFormula


@dataclass(frozen=True)
class FormulaSite:
    """One formula of the pack: a metric's ``formula``,
    a check's ``assert`` or a rule's ``when``."""

    owner: Definition
    field: str  # "formula" | "assert" | "when"
    parsed: ParsedFormula

    def loc(self, offset: int = 0) -> Location | None:
        return self.owner.field_source(self.field).offset_loc(self.field, offset)

    @property
    def path(self) -> str:
        return f"{self.owner.field_source(self.field).dotted}.{self.field}"


@dataclass
class Context:
    pack: Pack
    sites: list[FormulaSite] = field(default_factory=list)

    def names(self) -> set[str]:
        """Every id a formula may name: inputs, params, metrics and the built-ins."""
        p = self.pack
        return {*p.inputs, *p.params, *p.metrics, "periods", "days"}

    def metric_sites(self) -> Iterator[FormulaSite]:
        return (s for s in self.sites if s.field == "formula")


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
