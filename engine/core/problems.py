"""Problems are data: every finding of the loader, the schema and the semantic rules.

A :class:`Problem` carries a stable code (documented in ``docs/errors.md``, generated from
:data:`CODES`), a severity, a message, where it is (file, line, column, path in the document)
and a hint that says how to fix it. Validation collects them all instead of stopping at the
first.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Severity = Literal["error", "warning"]


@dataclass(frozen=True)
class Code:
    """One entry of the catalog of problem codes."""

    code: str
    severity: Severity
    title: str
    explanation: str


def _catalog(*codes: Code) -> dict[str, Code]:
    return {c.code: c for c in codes}


#: Every problem code the engine can report. Codes are stable: never renumber, only add.
CODES: dict[str, Code] = _catalog(
    # -- loading (YAML) ------------------------------------------------------------------
    Code(
        "KPI-L001",
        "error",
        "File or pack too large",
        "A pack file is larger than 5 MB, or all files of a pack together are.",
    ),
    Code(
        "KPI-L002",
        "error",
        "YAML syntax error",
        "The file is not well-formed YAML (bad indentation, an unclosed quote or bracket, a tab).",
    ),
    Code(
        "KPI-L003",
        "error",
        "Duplicate key",
        "The same key appears twice in one mapping. YAML tools silently keep the last one; "
        "KPI Forge refuses, because the first definition would be lost without a trace.",
    ),
    Code(
        "KPI-L004",
        "error",
        "Document too large when expanded",
        "Anchors and aliases (`&a` / `*a`) expand to more nodes than allowed (an 'alias bomb'), "
        "or the document has more nodes than allowed.",
    ),
    Code(
        "KPI-L005",
        "error",
        "Tag not allowed",
        "Only plain YAML data is accepted: `!!python/...` and custom tags are refused.",
    ),
    Code(
        "KPI-L006",
        "error",
        "Nesting too deep",
        "The document nests mappings and lists deeper than allowed.",
    ),
    Code(
        "KPI-L007",
        "error",
        "More than one document",
        "A pack file holds one YAML document; `---` separating several documents is refused.",
    ),
    Code(
        "KPI-L008",
        "error",
        "Merge key not supported",
        "YAML merge keys (`<<: *base`) are not part of the pack language; use `extends` and "
        "`override: true` instead.",
    ),
    Code(
        "KPI-L009",
        "error",
        "Pack not found",
        "A path or pack id that does not exist, a directory without `*.yaml` files, or a file "
        "that is not UTF-8 text.",
    ),
    Code(
        "KPI-L010",
        "error",
        "Top level is not a mapping",
        "A pack file must be a mapping of keys such as `pack`, `inputs` and `metrics`.",
    ),
    Code(
        "KPI-L011",
        "error",
        "Conflicting pack files",
        "Two files of one pack set the same top-level key (other than the sections, which may "
        "be split across files), or name different pack ids.",
    ),
    Code(
        "KPI-L012",
        "error",
        "Bidirectional control character",
        "A pack file holds a character that reorders how text is displayed (U+202A–U+202E, "
        "U+2066–U+2069, U+200E, U+200F, U+061C), so an editor or a review shows the text in "
        "another order than KPI Forge reads it ('Trojan Source'). Refused anywhere in the file, "
        "comments included; right-to-left text needs no such characters.",
    ),
    Code(
        "KPI-L013",
        "error",
        "Not a file of a pack folder",
        "A pack posted as a stream of files or as a zip archive holds something that is not a "
        "pack file: a path with '..', an absolute path, a subfolder, a symbolic link, a file "
        "other than *.yaml/*.yml (README.md is skipped), a name used twice, text before the "
        "first '# file:' header, or an archive that cannot be read.",
    ),
    Code(
        "KPI-L014",
        "error",
        "Pack archive too large",
        "A pack stream or zip archive holds more than 64 files, or its files add up (inflated) "
        "to more than the pack size limit: it is refused before anything is inflated.",
    ),
    Code(
        "KPI-L015",
        "error",
        "Full-width punctuation in YAML syntax",
        "A Chinese input method typed full-width punctuation where YAML needs its ASCII syntax: "
        "`：` (U+FF1A, 全角冒号) after a key instead of `: `, `，` (全角逗号) or `、` between the "
        "items of `{ … }` or `[ … ]`, or a full-width bracket `【】` `（）` `［］` `｛｝` where a "
        "mapping or list starts. The message names the character, its line and column. Inside a "
        "text value (a Chinese sentence in a description) full-width punctuation is ordinary "
        "text and is accepted.",
    ),
    Code(
        "KPI-L016",
        "error",
        "Full-width space as indentation",
        "A line is indented with the full-width space U+3000 (全角空格), or another space that "
        "is not the ASCII one: YAML reads it as text, so the key is not where it looks.",
    ),
    Code(
        "KPI-L017",
        "error",
        "Inconsistent indentation",
        "A key is indented differently from the keys around it, so YAML cannot tell which "
        "mapping it belongs to. The message names the neighbouring keys and their indentation.",
    ),
    # -- schema --------------------------------------------------------------------------
    Code(
        "KPI-S001",
        "error",
        "Missing required key",
        "A required key such as `formula` of a metric or `when` of a rule is missing.",
    ),
    Code(
        "KPI-S002",
        "error",
        "Unknown key",
        "A key the pack language does not define (often "
        "a typo: the hint suggests the closest key).",
    ),
    Code(
        "KPI-S003",
        "error",
        "Wrong type",
        "A value has the wrong type (a list where a mapping is expected, …).",
    ),
    Code(
        "KPI-S004",
        "error",
        "Value not allowed",
        "A value is not one of the allowed choices (an unknown status, grain, …).",
    ),
    Code(
        "KPI-S005",
        "error",
        "Bad format",
        "A value does not have the required format (pack id, version, …).",
    ),
    Code("KPI-S006", "error", "Schema violation", "Any other violation of the pack schema."),
    Code(
        "KPI-S007",
        "error",
        "Text where a list or mapping is expected, written with full-width punctuation",
        "YAML read a value as text because its syntax was typed full-width: `［a, b］` or "
        "`【a, b】` instead of `[a, b]`, or `label：充值` on its own line under a key instead of "
        "`label: 充值`. The message names the character, its line and column.",
    ),
    # -- formulas ------------------------------------------------------------------------
    Code(
        "KPI-F001",
        "error",
        "Formula syntax error",
        "The formula is not well-formed (an unclosed bracket, two operators in a row, …).",
    ),
    Code(
        "KPI-F002",
        "error",
        "Unknown function",
        "A call of a function that the formula language does not have.",
    ),
    Code(
        "KPI-F003",
        "error",
        "Wrong number of arguments",
        "A function was called with too few or too many arguments.",
    ),
    Code(
        "KPI-F004",
        "error",
        "Construct not allowed",
        "Attribute access (`a.b`), indexing (`a[0]`), strings, lambdas and other programming "
        "constructs are not part of the formula language.",
    ),
    Code("KPI-F005", "error", "Formula too long", "A formula is longer than 10,000 characters."),
    Code(
        "KPI-F006",
        "error",
        "Formula too complex",
        "A formula nests too deeply or has too many parts.",
    ),
    Code(
        "KPI-F007",
        "error",
        "Exponent not allowed",
        "The exponent of `**` must be a number literal between -10 and 10.",
    ),
    Code(
        "KPI-F008",
        "error",
        "Number literal not allowed",
        "A number literal that is too long, too large or not finite.",
    ),
    Code(
        "KPI-F009",
        "error",
        "Bad named argument",
        "A named argument the function does not take (only `previous` takes `n=` and `default=`), "
        "or one given twice, or a positional argument after a named one.",
    ),
    Code(
        "KPI-F010",
        "error",
        "Number where a condition is expected, or the reverse",
        "Metric formulas compute numbers; `when` of a rule and `assert` of a check are conditions. "
        "Arithmetic on a condition, or a number used as a condition, is refused.",
    ),
    Code(
        "KPI-F011",
        "error",
        "Argument must be a whole-number literal",
        "Window lengths (`n` of `previous`, `rolling_sum`, …) and the digits of `round` must be "
        "whole-number literals in the allowed range.",
    ),
    # -- semantic rules ------------------------------------------------------------------
    Code(
        "KPI-R001",
        "error",
        "Unknown reference",
        "A formula names an input, metric or param that is not defined (the hint suggests the "
        "closest id).",
    ),
    Code(
        "KPI-R002",
        "error",
        "Duplicate id",
        "An id is defined twice: in two files of a pack, in two of inputs / metrics / params, or "
        "by two packs that this pack extends.",
    ),
    Code(
        "KPI-R003",
        "error",
        "Redefinition without override",
        "A pack defines an id it already inherits through `extends`. Say `override: true` to "
        "change the inherited definition field by field.",
    ),
    Code(
        "KPI-R004",
        "warning",
        "Override of nothing",
        "`override: true` on an id that no extended pack defines.",
    ),
    Code(
        "KPI-R005",
        "error",
        "Bad id",
        "Ids must be identifiers (letters, digits and `_`, not starting with a digit; Chinese is "
        "fine) and not a reserved word of the formula language.",
    ),
    Code(
        "KPI-R006",
        "error",
        "Dependency cycle",
        "Metrics that depend on each other in a circle. A dependency through `previous(...)` is "
        "a carry-over and is allowed; any other cycle is an error.",
    ),
    Code(
        "KPI-R007",
        "error",
        "Unknown remedy",
        "A rule or band names a remedy that `remedies` does not define.",
    ),
    Code(
        "KPI-R008", "error", "Unknown role", "A remedy's `owner` is not a role defined in `roles`."
    ),
    Code(
        "KPI-R009",
        "error",
        "Unknown metric",
        "A view, a role's `focus` or a check's `rules` names a metric or rule that is not defined.",
    ),
    Code(
        "KPI-R010",
        "error",
        "Overlapping bands",
        "Two bands of one metric cover a common value (`min` is inclusive, `max` exclusive), or "
        "a band's `min` is not below its `max`.",
    ),
    Code("KPI-R011", "warning", "Unused input", "An input that no metric, check or rule uses."),
    Code(
        "KPI-R012",
        "error",
        "Extended pack not found",
        "A pack named in `extends` does not exist, or no version of it satisfies the constraint.",
    ),
    Code("KPI-R013", "error", "Extends cycle", "Packs that extend each other in a circle."),
    Code(
        "KPI-R014",
        "error",
        "Optional input without default",
        "An input with `required: false` needs a `default`.",
    ),
    Code(
        "KPI-R015",
        "warning",
        "Check refuted",
        "The compiler proved from the formulas that a check can never hold (its residual is a "
        "non-zero constant).",
    ),
    Code(
        "KPI-R016",
        "error",
        "Self reference",
        "A metric's formula uses the metric itself outside `previous(...)`.",
    ),
    Code(
        "KPI-R017",
        "error",
        "Unknown source",
        "An input's `measure` names a source that `sources` does not define.",
    ),
    Code(
        "KPI-R018",
        "error",
        "Not available in a measure",
        "A measure's `of` or `where` names a column the source does not "
        "declare, or uses a time function (measures are computed per period "
        "from records; time functions belong in metrics), a column outside an "
        "entity attribute, or an entity measure on a source without `entity`.",
    ),
    Code(
        "KPI-R019",
        "error",
        "Measure fields that do not fit together",
        "A measure combines fields that have no meaning together: `since` / `until` / "
        "`having` without `per: entity`, `where` in an entity measure, `as_of` with an "
        "aggregate other than sum or count, or an aggregate without the `of` it needs.",
    ),
    Code(
        "KPI-R020",
        "error",
        "Measure types do not fit",
        "An expression of a measure mixes values whose types do not go together against "
        "the source's declared `columns` (text added to a time, a number compared with "
        "text, a sum of times), which the SQL engine would only refuse when it runs.",
    ),
    Code(
        "KPI-R021",
        "warning",
        "Band and rule disagree at an edge",
        "A rule compares a metric with a value that is also an edge of one of "
        "the metric's bands, but puts that exact value on the other side: at the "
        "edge the band says one thing and the rule another (`min` is inclusive "
        "and `max` exclusive; `above` and `at_most` say the opposite).",
    ),
    Code(
        "KPI-R022",
        "error",
        "Confusable id",
        "An id that could be mistaken for another: it mixes scripts that look alike (Latin "
        "with Cyrillic or Greek: `rаtio` with a Cyrillic `а`), or uses full-width or other "
        "compatibility forms (`ｒatio`, `ﬁ`), digits other than 0-9, or a letter and a "
        "separate accent where one character would do. Chinese ids, and Chinese with ASCII "
        "letters, digits and `_` (`会员_count`), are fine (docs/pack-language.md, §3).",
    ),
    Code(
        "KPI-R023",
        "error",
        "Header of an unknown column",
        "A source's `headers` maps a name that is not a column of the source (its `time`, a "
        "dimension or `entity` column, or a declared `columns` entry), or maps a column to a "
        "blank header: declare the column, correct the name, or write the file's header.",
    ),
    Code(
        "KPI-R024",
        "error",
        "Two columns from one header",
        "A source's `headers` maps two columns to one header of the file (or maps a column to "
        "the name another column is read from as it is): map each column to a header of its own.",
    ),
    Code(
        "KPI-R025",
        "warning",
        "Label that names two things",
        "An input's or dimension's label (compared as column headers are: NFKC, trimmed, case "
        "folded) is also another input's or dimension's label or id, or a name of the period "
        "column: data rows with a column headed by it are refused (KPI-E053), so give it a "
        "label of its own.",
    ),
    Code(
        "KPI-R026",
        "error",
        "Missing translation",
        "Reported only by `kpi validate --strict-locales zh,en`: a label, description, benchmark, "
        "detail, cause, scenario or band text of the pack lacks one of the listed locales. A "
        "label left out (which shows the id) lacks every locale. Built-in packs pass with "
        "`zh,en`.",
    ),
)


@dataclass(frozen=True)
class Location:
    """Where something is: a file and a 1-based line and column (0 when unknown)."""

    file: str
    line: int = 0
    column: int = 0

    def __str__(self) -> str:
        if self.line:
            return f"{self.file}:{self.line}:{self.column or 1}"
        return self.file


@dataclass(frozen=True)
class Problem:
    """One finding. ``path`` is the path of keys in
    the pack document, e.g. ``metrics.x.formula``."""

    code: str
    message: str
    severity: Severity = "error"
    file: str | None = None
    line: int = 0
    column: int = 0
    path: str = ""
    hint: str | None = None
    related: tuple[str, ...] = field(default=())

    @classmethod
    def at(
        cls,
        code: str,
        message: str,
        loc: Location | None,
        *,
        path: str = "",
        hint: str | None = None,
        severity: Severity | None = None,
        related: tuple[str, ...] = (),
    ) -> Problem:
        """Build a problem at a location, with the catalog's default severity."""
        sev = severity or CODES[code].severity
        if loc is None:
            return cls(code, message, sev, None, 0, 0, path, hint, related)
        return cls(code, message, sev, loc.file, loc.line, loc.column, path, hint, related)

    def render_short(self) -> str:
        where = self.file or "<pack>"
        if self.line:
            where += f":{self.line}:{self.column or 1}"
        return f"{where}: {self.severity} {self.code}: {self.message}"

    def to_json(self) -> dict[str, object]:
        return {
            "code": self.code,
            "severity": self.severity,
            "message": self.message,
            "file": self.file,
            "line": self.line or None,
            "column": self.column or None,
            "path": self.path,
            "hint": self.hint,
        }


def sort_problems(problems: list[Problem]) -> list[Problem]:
    """Order problems as a compiler would: by file, line, column, then code."""
    return sorted(problems, key=lambda p: (p.file or "", p.line, p.column, p.code, p.message))
