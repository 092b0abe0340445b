"""The engine façade: a pack on disk (or posted as text) → a compiled, ordered, explainable pack.

    YAML files ─load─▶ located document ─schema─▶ checked ─resolve─▶ Pack (extends applied)
      ─formula─▶ parsed sympy ─validate─▶ semantic problems ─graph─▶ order ─prove─▶ checks

Problems of every stage are collected and returned together; a stage runs only if the ones
before it found no error, so that one mistake is not reported five times.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, TypeVar

from engine.compile.graph import DependencyGraph, build_graph
from engine.compile.prove import Proof, prove_checks
from engine.core.errors import FormulaError, PackError, PackNotFound
from engine.core.model import Definition, Pack
from engine.core.problems import Problem, sort_problems
from engine.formula import ParsedFormula, parse_formula
from engine.formula.sites import (
    CheckAssertion,
    FormulaSite,
    MeasureExprs,
    MetricFormula,
    RuleCondition,
)
from engine.load.library import PackLibrary, locate
from engine.load.resolve import Loads, load_checked, resolve_tree
from engine.load.sources import PackSource, load_pack_text
from engine.validate import Context, run_rules
from engine.validate.schema import check_schema

#: the model attribute that holds the text of each formula key
_ATTRIBUTE = {"formula": "formula", "assert": "assertion", "when": "when"}
S = TypeVar("S", bound=FormulaSite)
#: the packs a pack inherits from, as resolved for it: (typed pack, its source) by id
Ancestors = Mapping[str, tuple[Pack, PackSource]]


@dataclass(frozen=True)
class CompiledPack:
    """A pack that passed every check: definitions, parsed formulas and measure expressions
    (each keyed by its owner's id), the dependency graph and the proofs of the checks."""

    pack: Pack
    metrics: Mapping[str, MetricFormula]
    checks: Mapping[str, CheckAssertion]
    rules: Mapping[str, RuleCondition]
    #: the parsed expressions of each measured input, by input id
    measures: Mapping[str, MeasureExprs]
    graph: DependencyGraph
    proofs: dict[str, Proof]
    warnings: tuple[Problem, ...]

    def sites(self) -> Iterator[FormulaSite]:
        """Every formula: the metrics', then the checks', then the rules'."""
        yield from self.metrics.values()
        yield from self.checks.values()
        yield from self.rules.values()

    @property
    def formulas(self) -> dict[str, ParsedFormula]:
        """Parsed formula of each metric, by id."""
        return {m: site.parsed for m, site in self.metrics.items()}


def _has_errors(problems: list[Problem]) -> bool:
    return any(p.severity == "error" for p in problems)


def check_pack(
    ref: str | Path, library: PackLibrary | None = None
) -> tuple[CompiledPack | None, list[Problem]]:
    """Compile a pack given as a path or an id; return it (or None) with every problem found."""
    library = library or PackLibrary.default()
    path = locate(ref, library)
    if path is None:
        raise PackNotFound(_not_found(str(ref), library))
    source, problems = load_checked(path, check_schema)
    if source is None:
        return None, sort_problems(problems)
    return _compile(source, library, problems)


def check_text(
    text: str | bytes, library: PackLibrary | None = None, name: str = "<request>"
) -> tuple[CompiledPack | None, list[Problem]]:
    """Compile a pack given as one YAML document (as posted to the API)."""
    source, problems = load_pack_text(text, name)
    if source is None or _has_errors(problems):
        return None, sort_problems(problems)
    problems += check_schema(source.doc)
    if _has_errors(problems):
        return None, sort_problems(problems)
    return _compile(source, library or PackLibrary.default(), problems)


def compile_pack(ref: str | Path, library: PackLibrary | None = None) -> CompiledPack:
    """Like :func:`check_pack`, but raise :class:`PackError` if the pack has any error."""
    compiled, problems = check_pack(ref, library)
    if compiled is None:
        raise PackError(problems)
    return compiled


def _compile(
    source: PackSource,
    library: PackLibrary,
    problems: list[Problem],
    seen: _Seen | None = None,
) -> tuple[CompiledPack | None, list[Problem]]:
    """``seen``: what this compile has loaded and checked so far (a parent checked on its own,
    :func:`_broken_parents`, reuses it)."""
    seen = seen or _Seen()
    pack, found, ancestors = resolve_tree(source, library, check_schema, seen.loads)
    problems += found
    if pack is None:
        return None, sort_problems(problems)
    problems += _broken_parents(pack, source, library, ancestors, seen)
    ctx = Context(
        pack,
        _parse(pack.metrics, MetricFormula, "number", problems),
        _parse(pack.checks, CheckAssertion, "condition", problems),
        _parse(pack.rules, RuleCondition, "condition", problems),
    )
    problems += run_rules(ctx)
    if _has_errors(problems):
        return None, sort_problems(problems)
    graph, found = build_graph(pack, ctx.metrics)
    problems += found
    if _has_errors(problems):
        return None, sort_problems(problems)
    proofs = prove_checks(pack, ctx.metrics, ctx.checks, graph)
    for proof in proofs.values():
        if proof.status == "refuted":
            check = pack.checks[proof.check]
            problems.append(
                Problem.at(
                    "KPI-R015",
                    f"check '{check.id}' can never hold: {proof.reason}",
                    check.field_source("assert").offset_loc("assert", 0),
                    path=f"checks.{check.id}.assert",
                    hint="fix the assertion or the formulas it compares",
                )
            )
    problems = sort_problems(problems)
    compiled = CompiledPack(
        pack, ctx.metrics, ctx.checks, ctx.rules, ctx.measures, graph, proofs, tuple(problems)
    )
    return compiled, problems


@dataclass
class _Seen:
    """What one compile has loaded (each pack file read and schema-checked once) and the error
    count of each parent checked on its own so far (by id and version)."""

    loads: Loads = field(default_factory=dict)
    errors: dict[str, int] = field(default_factory=dict)


def _broken_parents(
    pack: Pack, source: PackSource, library: PackLibrary, ancestors: Ancestors, seen: _Seen
) -> list[Problem]:
    """A parent must be valid on its own: a child cannot repair it by defining what it lacks.

    Each parent is compiled on its own — its own ``extends`` resolved as ``kpi validate`` of it
    would (a child's version pins do not apply) — once per compile and without reading its files
    again (``seen.loads``); an ancestor reached through two parents is checked once."""
    problems = []
    for index, _ in pack.parents:
        name = pack.extends[index].partition("@")[0]
        if name not in ancestors:  # pragma: no cover - resolution lists every parent it used
            continue
        parent, parent_source = ancestors[name]
        key = f"{name}@{parent.version}"
        if key not in seen.errors:
            seen.errors[key] = 0  # a cycle is reported by resolve; do not recurse into it
            _, found = _compile(parent_source, library, [], seen)
            seen.errors[key] = sum(p.severity == "error" for p in found)
        if seen.errors[key]:
            problems.append(
                Problem.at(
                    "KPI-R012",
                    f"extended pack '{name}' has {seen.errors[key]} error(s) of its own",
                    source.doc.key_loc(("extends", index)),
                    path=f"extends.{index}",
                    hint=f"run `kpi validate {name}` and fix it first",
                )
            )
    return problems


def _parse(
    section: Mapping[str, Definition],
    site: type[S],
    kind: Literal["number", "condition"],
    problems: list[Problem],
) -> dict[str, S]:
    """The formula of each definition of a section (``site.key``: formula, assert or when),
    parsed; a formula that does not parse is a problem, and is left out."""
    key = site.key
    sites: dict[str, S] = {}
    for d in section.values():
        if key not in d.sources:
            continue  # the key is missing: reported as KPI-S001
        src = d.field_source(key)
        try:
            parsed = parse_formula(getattr(d, _ATTRIBUTE[key]), expect=kind)
        except FormulaError as err:
            problems.append(
                Problem.at(
                    err.code,
                    err.message,
                    src.offset_loc(key, err.offset),
                    path=f"{src.dotted}.{key}",
                    hint=err.hint,
                )
            )
            continue
        sites[d.id] = site(d, parsed)
    return sites


def _not_found(ref: str, library: PackLibrary) -> str:
    known = library.pack_ids()
    msg = (
        f"no pack '{ref}': not a path, and no pack with that id in "
        f"{', '.join(map(str, library.roots)) or '(no folders)'}"
    )
    if known:
        msg += f"; known packs: {', '.join(known)}"
    return msg
