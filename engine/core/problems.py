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
    # -- schema --------------------------------------------------------------------------
    Code(
        "KPI-S001",
        "error",
        "Missing required key",
        "A required key such as `formula` or `label` is missing.",
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


@dataclass(frozen=True)
class RuntimeCode:
    """One entry of the catalog of evaluation codes: what went wrong (``title``) and what to do
    about it (``hint``). ``KPI-E…`` codes are errors (bad data or options: nothing is evaluated),
    ``KPI-W…`` codes are warnings listed in an evaluation's ``warnings``."""

    code: str
    severity: Severity
    title: str
    hint: str


def _runtime_catalog(*codes: tuple[str, str, str]) -> dict[str, RuntimeCode]:
    severity: dict[str, Severity] = {"E": "error", "W": "warning"}
    return {c: RuntimeCode(c, severity[c[4]], title, hint) for c, title, hint in codes}


#: Every code an evaluation can report: each ``InputError`` carries one, and so does each
#: entry of an evaluation's ``warnings``. Stable like :data:`CODES`: never renumber, only add.
RUNTIME_CODES: dict[str, RuntimeCode] = _runtime_catalog(
    # -- reading the data (files, request bodies, rows) ------------------------------------
    (
        "KPI-E001",
        "File not found",
        "A file given as the data (`--inputs`, `--data`) or as a source's records "
        "(`--source NAME=PATH`) does not exist: check the path.",
    ),
    (
        "KPI-E002",
        "File type not supported",
        "Give the data as `.csv` (a header row first), `.json` (a list of row objects) or "
        "`.parquet`.",
    ),
    ("KPI-E003", "Not UTF-8 text", "Save the file as UTF-8 (a byte-order mark is fine)."),
    (
        "KPI-E004",
        "Not valid JSON",
        "The file is not well-formed JSON (the message says where). `NaN` and `Infinity` are "
        "not JSON: write `null` for a blank.",
    ),
    (
        "KPI-E005",
        "Data of the wrong shape",
        'Give a list of flat row objects (`[{"period": "2026-01", …}, …]`) or a mapping of '
        "columns of the same length; a source's records are flat objects too.",
    ),
    (
        "KPI-E006",
        "Not a well-formed CSV",
        "An unclosed quote, a NUL character, or a row with more or fewer cells than the header: "
        "export the file again as plain CSV text.",
    ),
    (
        "KPI-E007",
        "CSV without a header",
        "The first line of a CSV names its columns, e.g. `period,store,recharge_amount`.",
    ),
    (
        "KPI-E008",
        "Too many columns",
        "At most 2,000 columns (or fields of a source's records) are read: drop the ones the "
        "pack does not use.",
    ),
    (
        "KPI-E009",
        "Too many rows",
        "One evaluation takes a bounded number of rows (or records): send fewer, or sum them "
        "to a coarser grain first.",
    ),
    (
        "KPI-E010",
        "Parquet file not readable",
        "The file is not Parquet or is damaged: write it again.",
    ),
    (
        "KPI-E011",
        "Column without a name, or named twice",
        "Every column of the header (every field of a record) needs a name, and each name may "
        "appear once.",
    ),
    ("KPI-E012", "No rows", "Send at least one row: its period, dimensions and inputs."),
    ("KPI-E013", "No period column", "Add a column `period` holding e.g. `2026-01`."),
    (
        "KPI-E014",
        "Not a period",
        "Write periods as `2026-01` (month), `2026-W05` (week), `2026-01-31` (day), `2026-Q1` "
        "(quarter) or `2026` (year).",
    ),
    (
        "KPI-E015",
        "Periods of different grains",
        "All rows of one request have the same grain: all months, or all weeks, and so on.",
    ),
    (
        "KPI-E016",
        "Empty dimension value",
        "Every row names its dimension members (a store id, …): fill in the empty cells.",
    ),
    (
        "KPI-E017",
        "Not a number",
        "An input cell holds a number (digits, an optional sign, decimal point and exponent), "
        "or is blank for no value; `1_000`, `true` and text are refused.",
    ),
    (
        "KPI-E018",
        "Not a finite number",
        "Infinity and NaN are not values: leave the cell blank for no value.",
    ),
    (
        "KPI-E019",
        "Digits other than 0-9",
        "Write numbers with the digits 0-9, not full-width (`１２`) or other scripts' digits "
        "(`١٢`), which a reader may not take for numbers.",
    ),
    (
        "KPI-E020",
        "Duplicate row",
        "Each period and dimension member may appear once: sum such rows first.",
    ),
    (
        "KPI-E021",
        "Data spans too many periods",
        "Often one mistyped period or time far from the others; otherwise ask for a coarser "
        "grain, an earlier as_of, fewer groups or a shorter span at a time.",
    ),
    # -- the options of an evaluation --------------------------------------------------------
    (
        "KPI-E022",
        "Unknown grain",
        "Use `day`, `week`, `month`, `quarter`, `year` or `all`.",
    ),
    (
        "KPI-E023",
        "Grain finer than the data",
        "Rows can be combined into a coarser grain, not split: ask for the data's grain or a "
        "coarser one.",
    ),
    (
        "KPI-E024",
        "Rows and records of different grains",
        "Rows given with raw records (`--data`) are joined to them period by period: give the "
        "rows by the grain the records are measured at.",
    ),
    (
        "KPI-E025",
        "Unknown dimension",
        "`by` names dimensions of the data (with raw records: of the pack's sources); the hint "
        "suggests the closest.",
    ),
    ("KPI-E026", "Unknown locale", "Ask for one of the locales the pack lists."),
    (
        "KPI-E027",
        "Unknown param",
        "Override only params the pack defines; the hint suggests the closest.",
    ),
    (
        "KPI-E028",
        "Param value not a number",
        "A param override is a finite number written with the digits 0-9.",
    ),
    (
        "KPI-E029",
        "Unknown metric",
        "Name metrics (or inputs) the pack defines; the hint suggests the closest.",
    ),
    (
        "KPI-E030",
        "Inputs of a metric asked for are missing",
        "A metric (or input) named in `metrics` needs columns the data lacks: add them, or do "
        "not ask for it (without `metrics`, such a metric is only listed in `warnings`).",
    ),
    (
        "KPI-E031",
        "Metric asked for cannot be computed at this grain",
        "An input it needs cannot be combined from the rows into the grain or dimensions asked "
        "(a distinct count is not the sum of its periods' counts): ask for the data's grain, "
        "or compute the inputs from raw records (`kpi run`).",
    ),
    (
        "KPI-E032",
        "as_of too late",
        "Periods end in 9998: give an as_of on or before 9998-12-30.",
    ),
    (
        "KPI-E033",
        "Nothing on or before as_of",
        "Every row (or record) is of a time after as_of: give an as_of on or after the first "
        "period's (or record's) day.",
    ),
    (
        "KPI-E034",
        "Unknown SQL dialect",
        "Choose `duckdb`, `spark`, `trino`, `postgres`, `bigquery` or `snowflake`.",
    ),
    # -- raw records of the sources --------------------------------------------------------
    ("KPI-E035", "Unknown source", "Name a source the pack defines in `sources`."),
    (
        "KPI-E036",
        "No input with a measure",
        "The pack (or the source named) computes no input from raw records: evaluate input "
        "rows instead (`kpi eval`).",
    ),
    (
        "KPI-E037",
        "No records for a source",
        "Give the records of a source the pack measures inputs on: `--source NAME=PATH`, or "
        "`sources` over HTTP.",
    ),
    (
        "KPI-E038",
        "Sources of different dimensions",
        "Measures of several sources are joined on the period and the same dimensions: give "
        "together only sources that declare the same dimensions.",
    ),
    (
        "KPI-E039",
        "Records not readable",
        "DuckDB could not read the source's file, or compute a measure over its records (the "
        "message says why): check the file's format and its columns' values.",
    ),
    (
        "KPI-E040",
        "Column name reserved",
        "Names starting with `kpi__` are reserved for the engine: rename the column.",
    ),
    ("KPI-E041", "Source without records", "Send at least one record of the source."),
    (
        "KPI-E042",
        "Column missing from a source",
        "The records need the source's `time` column, the columns of its dimensions and "
        "entity, its declared `columns`, and every column its measures name.",
    ),
    (
        "KPI-E043",
        "Bad values in a source's records",
        "Fix the records listed: times are local ISO dates or times without a UTC offset, "
        "dimension and entity values are not empty, numbers are finite and written with the "
        "digits 0-9, values keep to a column's declared `values` and `min`; record values are "
        "text, numbers, true/false or null.",
    ),
    (
        "KPI-E044",
        "Input both measured and given",
        "An input computed from a source's records is also a column of the data rows: drop the "
        "column from the data, or the measure from the pack.",
    ),
    (
        "KPI-E045",
        "Data rows of other dimensions",
        "Rows given with raw records have the dimensions of the measured inputs and no other.",
    ),
    (
        "KPI-E046",
        "Malformed table of records",
        "A source given as an in-memory table maps each column's name (text, not empty) to its "
        "values, every column as long as the others.",
    ),
    # -- warnings of an evaluation ---------------------------------------------------------
    (
        "KPI-W001",
        "Metric not computed: inputs missing",
        "The data lacks the columns in `missing_inputs`: add them to compute the metric, or "
        "name the metrics you want in `metrics`.",
    ),
    (
        "KPI-W002",
        "Metric not computed at this grain",
        "An input it needs cannot be combined into the grain or dimensions asked (the message "
        "says which): ask for the data's grain, or compute the inputs from raw records.",
    ),
    (
        "KPI-W003",
        "Check not evaluated",
        "The check's assertion needs the values in `missing`: add the inputs they come from.",
    ),
    (
        "KPI-W004",
        "Rule not evaluated",
        "The rule's condition needs the values in `missing`: add the inputs they come from.",
    ),
    (
        "KPI-W005",
        "Rows after as_of left out",
        "Rows of periods that start after as_of are not evaluated: give a later as_of to keep "
        "them.",
    ),
    (
        "KPI-W006",
        "Column with a param's name",
        "Params come from the pack, so the column is not used: override a param with "
        "`params` (`--param`), and rename or drop the column.",
    ),
    (
        "KPI-W007",
        "Records measured finer than the pack's grain",
        "`periods` counts the finer periods and bands judge values per finer period: compare "
        "with the bands at the pack's grain or a coarser one.",
    ),
    (
        "KPI-W008",
        "Input combined although it depends on the period's length",
        "Its measure would count something else over the longer period: compute it from the "
        "raw records at the grain asked (`kpi run --source …`).",
    ),
    (
        "KPI-W009",
        "Members counted per dimension member and added up",
        "With data rows joined on every dimension, a member of two stores counts twice: leave "
        "out the data rows (the records are then counted across the dimensions), or keep the "
        "dimensions in `by`.",
    ),
    (
        "KPI-W010",
        "Value outside its metric's domain",
        "The value is one the metric cannot plausibly have (the data is likely wrong), so it "
        "gets no band; past 50 for one metric, one entry with `more: true` stands for the rest.",
    ),
)
