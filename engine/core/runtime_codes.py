"""The codes of evaluations: ``KPI-E…`` for errors (bad data or options: nothing is evaluated)
and ``KPI-W…`` for the warnings an evaluation lists. Like the pack problems' codes
(:data:`engine.core.problems.CODES`) they are stable and documented in ``docs/errors.md``.
"""

from __future__ import annotations

from dataclasses import dataclass

from engine.core.problems import Severity


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
        "Give the data as `.csv` (a header row first), `.json` (a list of row objects), "
        "`.parquet` or an Excel workbook `.xlsx`.",
    ),
    (
        "KPI-E003",
        "Not text in an encoding read here",
        "CSV text is read as UTF-8 (a byte-order mark is fine), UTF-16 with a byte-order mark, "
        "or GB18030/GBK Chinese text (docs/evaluation.md, files and encodings). Save the file "
        "as UTF-8: in Excel, File → Save As → CSV UTF-8 (Comma delimited) / 在 Excel 中选择 "
        "文件 → 另存为 → CSV UTF-8(逗号分隔).",
    ),
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
    (
        "KPI-E047",
        "Text file too large to convert",
        "A source's CSV that is not UTF-8 is converted to UTF-8 before DuckDB reads it, up to a "
        "size (the message says it): save the file as CSV UTF-8 to read it as it is.",
    ),
    (
        "KPI-E048",
        "Not a readable workbook",
        "The file is not an .xlsx workbook calamine can read (a damaged file, an old .xls, or a "
        "workbook with a password): save it from Excel as Excel Workbook (*.xlsx) without a "
        "password, or as CSV UTF-8.",
    ),
    (
        "KPI-E049",
        "Sheet not found",
        "The workbook has no sheet of that name (the message lists its sheets): name one with "
        "`--sheet NAME` or `book.xlsx#NAME` (`sheet=` over HTTP); the default is the first sheet.",
    ),
    (
        "KPI-E050",
        "Workbook too large",
        "A workbook is refused before it is read when the file, the data its zip expands to, its "
        "number of sheets or the cells of the sheet read pass the limits of docs/evaluation.md: "
        "split it, or save the sheet as CSV UTF-8.",
    ),
    (
        "KPI-E051",
        "Excel error value in a cell",
        "A cell holds #DIV/0!, #N/A, #VALUE! or another Excel error (a formula that failed): "
        "fix the formula, or clear the cell for a blank, and save the workbook again.",
    ),
    (
        "KPI-E052",
        "Sheet chosen for a file that is not a workbook",
        "`--sheet` (or `#NAME` after the path) chooses a sheet of an .xlsx workbook only.",
    ),
    # -- the columns and cells of exports (issue 14) ----------------------------------------
    (
        "KPI-E053",
        "Column header that names two things",
        "The header is a label two inputs or dimensions share, or one's id and another's label "
        '(docs/evaluation.md, "Column headers"): head the column with the id it stands for.',
    ),
    (
        "KPI-E054",
        "Two columns for one input",
        "Two headers of the data (an id and a label, or two labels) stand for the same input, "
        "dimension or period: keep one of the columns.",
    ),
    (
        "KPI-E055",
        "No column for a dimension",
        "Rows of different dimension members share a key because the data has no column for "
        "the dimension, and a column the pack does not know is probably it: head that column "
        "with the dimension's id or label.",
    ),
    (
        "KPI-E056",
        "Number cell that reads two ways",
        "`1 200`, `1,20` or `1.200,50` could be read two ways, and a percent is read only in an "
        'input whose unit is a ratio: write 1200 or 1,200 (docs/evaluation.md, "Cells as '
        'exports write them").',
    ),
    (
        "KPI-E057",
        "Date that reads two ways",
        "A period written day and month before the year (`01/02/2026`) is the 1st of February "
        "to some and the 2nd of January to others: write the year first (2026-02-01).",
    ),
    (
        "KPI-E058",
        "Source headers that do not fit the file",
        "A source's `headers` maps a column to a header that the file does not have (the "
        "message lists the headers it has), or the file has both that header and a column under "
        "the pack's name: correct the mapping or the file.",
    ),
    # -- kpi publish, kpi pull, kpi init ---------------------------------------------------
    (
        "KPI-E061",
        "The server refused the request",
        "The message is the server's problem (its type and detail, and the pack's problems "
        "at their files and lines): fix what it names, or publish under a new version.",
    ),
    (
        "KPI-E062",
        "The server cannot be reached",
        "Check --server (or $KPI_SERVER): the address of a running `kpi serve`, such as "
        "http://127.0.0.1:8000.",
    ),
    (
        "KPI-E063",
        "No API token",
        "Publishing needs a token: pass --token or set $KPI_TOKEN (create one with "
        "`kpi keys create --owner NAME` on the server). The token is never printed.",
    ),
    (
        "KPI-E064",
        "Folder or pack reference refused",
        "kpi pull and kpi init write into an empty or new folder (pass --force to replace "
        "the pack files of a non-empty one); a pack is named ID or ID@VERSION.",
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
    (
        "KPI-W011",
        "Columns read by their labels",
        "Some columns of the data are headed with the pack's labels (充值金额, Recharge amount) "
        "rather than ids; `columns` maps each such header to the id it was read as.",
    ),
    # -- reports and templates (docs/excel.md) ------------------------------------------------
    (
        "KPI-E059",
        "Result too large for a workbook",
        "A worksheet holds at most 1,048,576 rows and 16,384 columns: ask for a coarser grain, "
        "fewer dimensions (`by`), fewer metrics or a shorter period, or take CSV or JSON.",
    ),
    (
        "KPI-E060",
        "Unknown source for a template",
        "`kpi template --source` names one of the pack's `sources:` (its raw ledgers): the "
        "message lists them; without `--source` the template has the pack's input rows.",
    ),
)
