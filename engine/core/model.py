"""Stage 3: the pack model — frozen dataclasses built from schema-valid documents.

Every definition remembers where it came from (:class:`Origin`: pack, file, line) and keeps
a handle on its document (:class:`Source`) so later stages can point at a field, a band or a
column inside a formula.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, Literal

from engine.core.document import Document, Path_, dotted
from engine.core.problems import Location

Kind = Literal[
    "input", "metric", "param", "dimension", "source", "check", "rule", "remedy", "view", "role"
]
SECTION_KIND: dict[str, Kind] = {
    "sources": "source",
    "inputs": "input",
    "metrics": "metric",
    "params": "param",
    "dimensions": "dimension",
    "checks": "check",
    "rules": "rule",
    "remedies": "remedy",
    "views": "view",
    "roles": "role",
}
#: the sections of a pack, in the order they are read and checked
SECTIONS = tuple(
    ("dimensions", "sources", "params", "inputs", "metrics")
    + ("checks", "rules", "remedies", "views", "roles")
)
#: the sections that share one namespace: formulas (and data columns) name their ids alike
NAMESPACE = ("inputs", "params", "metrics")


_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def _printable(text: str) -> str:
    """Labels go to terminals and web pages: control characters (ANSI escapes…) become �."""
    return _CONTROL.sub("\ufffd", text)


@dataclass(frozen=True)
class Text:
    """Localized text: pairs of (locale, text). A plain string belongs to the default locale."""

    items: tuple[tuple[str, str], ...] = ()

    @classmethod
    def of(cls, value: Any, default_locale: str) -> Text:
        if value is None:
            return cls()
        if isinstance(value, str):
            return cls(((default_locale, _printable(value)),))
        return cls(tuple((str(k), _printable(str(v))) for k, v in value.items()))

    def get(self, locale: str | None = None, fallback: str = "") -> str:
        """The text in ``locale``, else in the first locale given, else ``fallback``."""
        for key, text in self.items:
            if key == locale:
                return text
        return self.items[0][1] if self.items else fallback

    def to_json(self) -> dict[str, str]:
        return dict(self.items)

    def __bool__(self) -> bool:
        return bool(self.items)


@dataclass(frozen=True)
class Source:
    """Where a definition's fields live: the document and the path of the definition in it."""

    doc: Document = field(repr=False, compare=False)
    path: Path_
    pack: str

    def loc(self, *sub: str | int) -> Location | None:
        return self.doc.key_loc((*self.path, *sub))

    def value_loc(self, *sub: str | int) -> Location | None:
        return self.doc.value_loc((*self.path, *sub))

    def offset_loc(self, field_name: str, offset: int) -> Location | None:
        return self.doc.locate_in_scalar((*self.path, field_name), offset)

    @property
    def dotted(self) -> str:
        return dotted(self.path)


@dataclass(frozen=True)
class Origin:
    """Where an id is defined: the pack, file and line of its key."""

    pack: str
    file: str
    line: int

    def to_json(self) -> dict[str, Any]:
        return {"pack": self.pack, "file": self.file, "line": self.line}


@dataclass(frozen=True)
class Definition:
    """Fields shared by every definition."""

    id: str
    kind: Kind
    origin: Origin
    sources: Mapping[str, Source]  # field name → where that field was written (after overrides)
    inherited_from: str | None  # the pack an overridden definition came from
    label: Text
    description: Text

    @property
    def source(self) -> Source:
        """The source of the id itself (the most derived definition)."""
        return self.sources["__id__"]

    def field_source(self, name: str) -> Source:
        return self.sources.get(name, self.source)

    def loc(self, name: str | None = None, *sub: str | int) -> Location | None:
        if name is None:
            return self.source.loc()
        return self.field_source(name).loc(name, *sub)


@dataclass(frozen=True)
class Rollup:
    time: str = "sum"
    dims: str = "sum"


#: a band edge is met by values within this relative distance of it: binary noise (0.7 − 0.4 is
#: 0.29999999999999993) is not a value below 30%
EDGE_NOISE = 1e-12


@dataclass(frozen=True)
class Band:
    """A band of values: ``[min, max)`` by default, or with ``above`` (a lower bound the band
    excludes) and ``at_most`` (an upper bound it includes)."""

    status: str
    min: Fraction | None
    max: Fraction | None
    label: Text
    advice: Text
    remedies: tuple[str, ...]
    min_inclusive: bool = True  # `min: x` is value >= x; `above: x` is value > x
    max_inclusive: bool = False  # `max: x` is value < x; `at_most: x` is value <= x

    def contains(self, value: float) -> bool:
        """Whether ``value`` is in the band. Values within binary noise of an edge are at the edge:
        0.7 − 0.4 is at ``min: 30%``, as the analyst means."""
        import numpy as np

        return bool(self.mask(np.asarray([value], dtype=np.float64))[0])

    def mask(self, values: Any) -> Any:
        """:meth:`contains` over a NumPy array (NaN is in no band)."""
        import numpy as np

        values = np.asarray(values, dtype=np.float64)
        out = ~np.isnan(values)
        if self.min is not None:
            low = float(self.min)
            noise = max(EDGE_NOISE * abs(low), 8 * float(np.spacing(abs(low))))
            out &= values >= low - noise if self.min_inclusive else values > low + noise
        if self.max is not None:
            high = float(self.max)
            noise = max(EDGE_NOISE * abs(high), 8 * float(np.spacing(abs(high))))
            out &= values <= high + noise if self.max_inclusive else values < high - noise
        return out

    def edges(self) -> str:
        """The band as an interval: [0.3, ∞), (0.15, ∞), [150, 200]."""
        low = "(-∞" if self.min is None else ("[" if self.min_inclusive else "(") + _edge(self.min)
        high = "∞)" if self.max is None else _edge(self.max) + ("]" if self.max_inclusive else ")")
        return f"{low}, {high}"


def _edge(value: Fraction) -> str:
    return format(float(value), ".15g")


@dataclass(frozen=True)
class Measure:
    """How an input is computed from a source's records (docs/measures.md)."""

    source: str
    agg: str
    of: str | None = None
    where: str | None = None
    #: None: the records in the period (an event measure); "start" / "end": every record
    #: before that instant (a to-date measure) or, with ``per == "entity"``, the entities
    #: as they stand then.
    as_of: str | None = None
    per: str | None = None  # "entity": aggregate over the source's entities, not its records
    since: str | None = None  # entity lifecycle: records that start an entity's life
    until: str | None = None  # … and records that end it
    having: str | None = None  # which entities count: a condition over entity attributes
    #: the other expressions of an ``of`` list (count_distinct of combinations: customer-days)
    more: tuple[str, ...] = ()

    @property
    def terms(self) -> tuple[str, ...]:
        """Every expression of ``of``: one, or the items of a list."""
        return () if self.of is None else (self.of, *self.more)

    @property
    def instant(self) -> str | None:
        """The instant the measure looks at ("start" / "end"), None for an event measure."""
        return self.as_of or ("end" if self.per == "entity" else None)


@dataclass(frozen=True)
class Column:
    """A declared column of a source: its type and the values it may hold."""

    type: str = "text"  # text, number or time
    values: tuple[str, ...] | None = None  # the only values allowed (text columns)
    min: float | None = None  # the smallest value allowed (number columns)


@dataclass(frozen=True)
class DataSource(Definition):
    """A set of raw records (a ledger) that inputs can be computed from."""

    time: str = ""
    dimensions: Mapping[str, str] = field(default_factory=dict)  # pack dimension -> column
    entity: str | None = None
    # declared column -> its type and values
    columns: Mapping[str, Column] = field(default_factory=dict)
    # column (as measures name it) -> its header in the file, when they differ
    headers: Mapping[str, str] = field(default_factory=dict)
    # column -> {value in the file: value the pack uses} (a POS's 充值 read as recharge)
    recode: Mapping[str, Mapping[str, str]] = field(default_factory=dict)


@dataclass(frozen=True)
class Input(Definition):
    unit: str | None = None
    rollup: Rollup = Rollup()
    required: bool = True
    default: float | None = None
    has_default: bool = False
    source_ref: str | None = None
    measure: Measure | None = None


@dataclass(frozen=True)
class Param(Definition):
    value: float = 0.0
    unit: str | None = None
    source_ref: str | None = None


@dataclass(frozen=True)
class Dimension(Definition):
    pass


@dataclass(frozen=True)
class Metric(Definition):
    formula: str = ""
    unit: str | None = None
    format: str = "number"
    decimals: int | None = None
    category: str | None = None
    direction: str | None = None
    source_ref: str | None = None
    benchmark: Text = Text()
    bands: tuple[Band, ...] = ()
    rollup: Rollup | None = None
    #: plausible values [low, high], inclusive (None: open): a value outside is implausible
    domain: tuple[float | None, float | None] | None = None

    def plausible(self, values: Any) -> Any:
        """Which values are in the domain (NaN counts as plausible: null is not a wrong value)."""
        import numpy as np

        values = np.asarray(values, dtype=np.float64)
        ok = np.ones(values.shape, bool)
        if self.domain is not None:
            low, high = self.domain
            with np.errstate(invalid="ignore"):
                if low is not None:
                    ok &= ~(values < low - max(EDGE_NOISE * abs(low), 1e-300))
                if high is not None:
                    ok &= ~(values > high + max(EDGE_NOISE * abs(high), 1e-300))
        return ok


@dataclass(frozen=True)
class Check(Definition):
    assertion: str = ""
    tolerance: float | None = None
    tolerance_relative: bool = False
    severity: str = "warning"
    rules: tuple[str, ...] = ()
    source_ref: str | None = None


@dataclass(frozen=True)
class Rule(Definition):
    when: str = ""
    severity: str = "warning"
    metric: str | None = None
    causes: tuple[Text, ...] = ()
    remedies: tuple[str, ...] = ()
    source_ref: str | None = None


@dataclass(frozen=True)
class Remedy(Definition):
    detail: Text = Text()
    owner: str | None = None
    source_ref: str | None = None


@dataclass(frozen=True)
class View(Definition):
    metrics: tuple[str, ...] = ()


@dataclass(frozen=True)
class Role(Definition):
    scenarios: tuple[Text, ...] = ()
    focus: tuple[str, ...] = ()


def number(value: Any) -> Fraction | None:
    """A band bound or tolerance: a number or a percentage string, exactly."""
    if value is None:
        return None
    if isinstance(value, str):
        return Fraction(value.strip().rstrip("%")) / 100
    return Fraction(str(value)) if isinstance(value, float) else Fraction(value)


def _domain(value: Any) -> tuple[float | None, float | None] | None:
    if value is None:
        return None
    low, high = (number(v) for v in value)
    return (None if low is None else float(low), None if high is None else float(high))


def _measure(spec: Mapping[str, Any]) -> Measure:
    fields: dict[str, Any] = {k: spec.get(k) for k in _MEASURE_FIELDS}
    of = fields.get("of")
    if isinstance(of, list):
        fields["of"], fields["more"] = str(of[0]), tuple(str(x) for x in of[1:])
    return Measure(**fields)


_MEASURE_FIELDS = ("source", "agg", "of", "where", "as_of", "per", "since", "until", "having")


def _text(value: Any) -> str:
    """A declared value as the text a file holds (true, not True)."""
    return ("true" if value else "false") if isinstance(value, bool) else str(value)


def _column(spec: Mapping[str, Any]) -> Column:
    values = spec.get("values")
    return Column(
        type=spec.get("type", "text"),
        values=tuple(_text(v) for v in values) if values is not None else None,
        min=float(spec["min"]) if spec.get("min") is not None else None,
    )


def build(
    kind: Kind, ident: str, fields: Mapping[str, Any], common: dict[str, Any], locale: str
) -> Definition:
    """Build the typed definition of ``kind`` from its merged fields (already schema-valid)."""

    def text(name: str) -> Text:
        return Text.of(fields.get(name), locale)

    def texts(name: str) -> tuple[Text, ...]:
        return tuple(Text.of(v, locale) for v in fields.get(name) or ())

    def rollup(value: Any) -> Rollup:
        value = value or {}
        return Rollup(time=value.get("time", "sum"), dims=value.get("dims", "sum"))

    # a definition without `label` is shown by its id (a pack written with Chinese ids needs none)
    label = text("label") or Text(((locale, ident),))
    base = {**common, "label": label, "description": text("description")}
    src = fields.get("source")
    if kind == "input":
        measure = fields.get("measure")
        return Input(
            **base,
            unit=fields.get("unit"),
            rollup=rollup(fields.get("rollup")),
            required=fields.get("required", True),
            default=fields.get("default"),
            has_default="default" in fields,
            source_ref=src,
            measure=_measure(measure) if measure else None,
        )
    if kind == "source":
        return DataSource(
            **base,
            time=fields.get("time", ""),
            dimensions=dict(fields.get("dimensions") or {}),
            entity=fields.get("entity"),
            columns={k: _column(v or {}) for k, v in (fields.get("columns") or {}).items()},
            headers=dict(fields.get("headers") or {}),
            recode={k: dict(v or {}) for k, v in (fields.get("recode") or {}).items()},
        )
    if kind == "param":
        return Param(
            **base, value=float(fields.get("value", 0.0)), unit=fields.get("unit"), source_ref=src
        )
    if kind == "dimension":
        return Dimension(**base)
    if kind == "metric":
        bands = tuple(
            Band(
                status=b["status"],
                min=number(b["above"] if "above" in b else b.get("min")),
                max=number(b["at_most"] if "at_most" in b else b.get("max")),
                label=Text.of(b.get("label"), locale),
                advice=Text.of(b.get("advice"), locale),
                remedies=tuple(b.get("remedies") or ()),
                min_inclusive="above" not in b,
                max_inclusive="at_most" in b,
            )
            for b in fields.get("bands") or ()
        )
        return Metric(
            **base,
            formula=fields.get("formula", ""),
            unit=fields.get("unit"),
            format=fields.get("format", "number"),
            decimals=fields.get("decimals"),
            category=fields.get("category"),
            direction=fields.get("direction"),
            source_ref=src,
            benchmark=text("benchmark"),
            bands=bands,
            rollup=rollup(fields["rollup"]) if "rollup" in fields else None,
            domain=_domain(fields.get("domain")),
        )
    if kind == "check":
        tol = fields.get("tolerance")
        return Check(
            **base,
            assertion=fields.get("assert", ""),
            tolerance=float(number(tol)) if tol is not None else None,  # type: ignore[arg-type]
            tolerance_relative=isinstance(tol, str),
            severity=fields.get("severity", "warning"),
            rules=tuple(fields.get("rules") or ()),
            source_ref=src,
        )
    if kind == "rule":
        return Rule(
            **base,
            when=fields.get("when", ""),
            severity=fields.get("severity", "warning"),
            metric=fields.get("metric"),
            causes=texts("causes"),
            remedies=tuple(fields.get("remedies") or ()),
            source_ref=src,
        )
    if kind == "remedy":
        return Remedy(**base, detail=text("detail"), owner=fields.get("owner"), source_ref=src)
    if kind == "view":
        return View(**base, metrics=tuple(fields.get("metrics") or ()))
    return Role(**base, scenarios=texts("scenarios"), focus=tuple(fields.get("focus") or ()))


@dataclass(frozen=True)
class Pack:
    """A resolved pack: its own header plus every definition, inherited ones included."""

    id: str
    version: str
    title: Text
    description: Text
    industry: str | None
    visibility: str
    locales: tuple[str, ...]
    grain: str
    extends: tuple[str, ...]
    root: str  # display path of the pack's directory or file
    files: tuple[str, ...]
    dimensions: Mapping[str, Dimension]
    sources: Mapping[str, DataSource]
    params: Mapping[str, Param]
    inputs: Mapping[str, Input]
    metrics: Mapping[str, Metric]
    checks: Mapping[str, Check]
    rules: Mapping[str, Rule]
    remedies: Mapping[str, Remedy]
    views: Mapping[str, View]
    roles: Mapping[str, Role]
    ancestors: tuple[str, ...] = ()  # every pack this one inherits from, nearest first
    parents: tuple[tuple[int, str], ...] = ()  # (index in extends, root) of each direct parent
    ancestor_versions: tuple[
        tuple[str, str], ...
    ] = ()  # (pack id, version) of every ancestor, nearest first
    sha256: str = ""  # content hash of the pack's own text (engine.load.sources.content_digest)
    #: the pack's own files as loaded: where its header (``pack:``, title, …) is written
    header: Source | None = field(default=None, repr=False, compare=False)

    @property
    def default_locale(self) -> str:
        return self.locales[0] if self.locales else "zh"

    def section(self, name: str) -> Mapping[str, Definition]:
        value: Mapping[str, Definition] = getattr(self, name)
        return value

    def node(self, ident: str) -> Input | Param | Metric | None:
        """The input, param or metric with this id (they share one namespace)."""
        return self.inputs.get(ident) or self.params.get(ident) or self.metrics.get(ident)
