"""The pack's formulas, parsed: each tied to the definition it belongs to.

A metric's ``formula``, a check's ``assert`` and a rule's ``when`` are each a typed
:class:`FormulaSite`; the expressions of an input's ``measure`` are one :class:`MeasureExprs`.
They are parsed once, while the pack is validated, and kept in the compiled pack keyed by the
owner's id, so that no later stage parses formula text again.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import ClassVar, Literal

from engine.core.model import Check, Definition, Input, Measure, Metric, Rule
from engine.core.problems import Location
from engine.formula.parser import ParsedFormula

#: the parser mode of each expression of a measure (docs/measures.md)
Mode = Literal["measure", "entity"]


@dataclass(frozen=True)
class FormulaSite:
    """One parsed formula and the definition that holds it."""

    #: the key the formula is written under in the YAML (for locations and paths only)
    key: ClassVar[str]
    #: what the formula is, in messages: "formula", "check", "rule condition"
    what: ClassVar[str]

    owner: Definition
    parsed: ParsedFormula

    @property
    def id(self) -> str:
        return self.owner.id

    def loc(self, offset: int = 0) -> Location | None:
        """Where the formula's character ``offset`` is in its file."""
        return self.owner.field_source(self.key).offset_loc(self.key, offset)

    @property
    def path(self) -> str:
        """The formula's path in the document: ``metrics.churn_rate.formula``."""
        return f"{self.owner.field_source(self.key).dotted}.{self.key}"

    @property
    def names(self) -> set[str]:
        """Every id the formula names."""
        return {r.name for r in self.parsed.refs}


@dataclass(frozen=True)
class MetricFormula(FormulaSite):
    """A metric's ``formula``: a number."""

    key: ClassVar[str] = "formula"
    what: ClassVar[str] = "formula"
    owner: Metric


@dataclass(frozen=True)
class CheckAssertion(FormulaSite):
    """A check's ``assert``: a condition that should hold on every row."""

    key: ClassVar[str] = "assert"
    what: ClassVar[str] = "check"
    owner: Check


@dataclass(frozen=True)
class RuleCondition(FormulaSite):
    """A rule's ``when``: the condition under which the rule fires."""

    key: ClassVar[str] = "when"
    what: ClassVar[str] = "rule condition"
    owner: Rule


@dataclass(frozen=True)
class MeasureExprs:
    """The parsed expressions of an input's ``measure``: ``of`` (one, or each item of a list),
    ``where``, and for entity measures ``since``, ``until`` and ``having``."""

    owner: Input
    of: tuple[ParsedFormula, ...]
    where: ParsedFormula | None
    since: ParsedFormula | None
    until: ParsedFormula | None
    having: ParsedFormula | None

    @property
    def measure(self) -> Measure:
        assert self.owner.measure is not None
        return self.owner.measure

    def each(self) -> Iterator[tuple[ParsedFormula, Mode]]:
        """Every expression with the mode it was parsed in (entity attributes: ``entity``)."""
        entity: Mode = "entity" if self.measure.per == "entity" else "measure"
        for term in self.of:
            yield term, entity
        others: tuple[tuple[ParsedFormula | None, Mode], ...] = (
            (self.where, "measure"),
            (self.since, "measure"),
            (self.until, "measure"),
            (self.having, "entity"),
        )
        for parsed, mode in others:
            if parsed is not None:
                yield parsed, mode
