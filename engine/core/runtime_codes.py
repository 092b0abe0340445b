"""The codes of evaluations: ``KPI-E…`` for errors (bad data or options: nothing is evaluated)
and ``KPI-W…`` for the warnings an evaluation lists. Like the pack problems' codes
(:data:`engine.core.problems.CODES`) they are stable and documented in ``docs/errors.md``, and
each entry holds its title and hint in English and in Chinese (``title_zh``, ``hint_zh``).
"""

from __future__ import annotations

from dataclasses import dataclass

from engine.core.problem_codes import CODES, Code, Severity, is_zh


@dataclass(frozen=True)
class RuntimeCode:
    """One entry of the catalog of evaluation codes: what went wrong (``title``) and what to do
    about it (``hint``), in English and in Chinese. ``KPI-E…`` codes are errors (bad data or
    options: nothing is evaluated), ``KPI-W…`` codes are warnings listed in an evaluation's
    ``warnings``."""

    code: str
    severity: Severity
    title: str
    hint: str
    title_zh: str
    hint_zh: str

    def title_in(self, locale: str | None) -> str:
        """The title in ``locale`` (Chinese for ``zh…``, English otherwise)."""
        return self.title_zh if is_zh(locale) else self.title

    def hint_in(self, locale: str | None) -> str:
        """The general hint in ``locale``: what to do about any error or warning of this code."""
        return self.hint_zh if is_zh(locale) else self.hint


def _runtime_catalog(*codes: tuple[str, str, str, str, str]) -> dict[str, RuntimeCode]:
    severity: dict[str, Severity] = {"E": "error", "W": "warning"}
    return {c[0]: RuntimeCode(c[0], severity[c[0][4]], *c[1:]) for c in codes}


#: Every code an evaluation can report: each ``InputError`` carries one, and so does each
#: entry of an evaluation's ``warnings``. Stable like :data:`CODES`: never renumber, only add.
RUNTIME_CODES: dict[str, RuntimeCode] = _runtime_catalog(
    # -- reading the data (files, request bodies, rows) ------------------------------------
    (
        "KPI-E001",
        "File not found",
        "A file given as the data (`--inputs`, `--data`) or as a source's records "
        "(`--source NAME=PATH`) does not exist: check the path.",
        "找不到文件",
        "作为数据（`--inputs`、`--data`）或来源记录（`--source NAME=PATH`）给出的文件不"
        "存在：请检查路径。",
    ),
    (
        "KPI-E002",
        "File type not supported",
        "Give the data as `.csv` (a header row first), `.json` (a list of row objects), "
        "`.parquet` or an Excel workbook `.xlsx`.",
        "不支持的文件类型",
        "请以 `.csv`（第一行为表头）、`.json`（行对象的列表）、`.parquet` 或 Excel 工作"
        "簿 `.xlsx` 提供数据。",
    ),
    (
        "KPI-E003",
        "Not text in an encoding read here",
        "CSV text is read as UTF-8 (a byte-order mark is fine), UTF-16 with a byte-order mark, "
        "or GB18030/GBK Chinese text (docs/evaluation.md, files and encodings). Save the file "
        "as UTF-8: in Excel, File → Save As → CSV UTF-8 (Comma delimited) / 在 Excel 中选择 "
        "文件 → 另存为 → CSV UTF-8(逗号分隔).",
        "文本编码无法识别",
        "CSV 文本按 UTF-8（可带字节顺序标记）、带字节顺序标记的 UTF-16 或 GB18030/GBK "
        "中文文本读取（docs/evaluation.md，文件与编码）。请将文件另存为 UTF-8：在 "
        "Excel 中选择 文件 → 另存为 → CSV UTF-8(逗号分隔)。",
    ),
    (
        "KPI-E004",
        "Not valid JSON",
        "The file is not well-formed JSON (the message says where). `NaN` and `Infinity` are "
        "not JSON: write `null` for a blank.",
        "不是有效的 JSON",
        "文件不是格式正确的 JSON（消息会指出位置）。`NaN` 和 `Infinity` 不属于 JSON：空"
        "值请写 `null`。",
    ),
    (
        "KPI-E005",
        "Data of the wrong shape",
        'Give a list of flat row objects (`[{"period": "2026-01", …}, …]`) or a mapping of '
        "columns of the same length; a source's records are flat objects too.",
        "数据结构不对",
        '请给出扁平行对象的列表（`[{"period": "2026-01", …}, …]`）或由等长的列组成的映'
        "射；来源的记录同样是扁平对象。",
    ),
    (
        "KPI-E006",
        "Not a well-formed CSV",
        "An unclosed quote, a NUL character, or a row with more or fewer cells than the header: "
        "export the file again as plain CSV text.",
        "CSV 格式不正确",
        "有未闭合的引号、NUL 字符，或某行的单元格比表头多或少：请重新导出为纯 CSV 文本。",
    ),
    (
        "KPI-E007",
        "CSV without a header",
        "The first line of a CSV names its columns, e.g. `period,store,recharge_amount`.",
        "CSV 没有表头",
        "CSV 的第一行列出各列的名称，例如 `period,store,recharge_amount`。",
    ),
    (
        "KPI-E008",
        "Too many columns",
        "At most 2,000 columns (or fields of a source's records) are read: drop the ones the "
        "pack does not use.",
        "列太多",
        "最多读取 2,000 列（或来源记录的 2,000 个字段）：请删去指标包不用的列。",
    ),
    (
        "KPI-E009",
        "Too many rows",
        "One evaluation takes a bounded number of rows (or records): send fewer, or sum them "
        "to a coarser grain first.",
        "行太多",
        "一次计算只接受有限的行数（或记录数）：请少发一些，或先汇总到更粗的粒度。",
    ),
    (
        "KPI-E010",
        "Parquet file not readable",
        "The file is not Parquet or is damaged: write it again.",
        "无法读取 Parquet 文件",
        "文件不是 Parquet 格式或已损坏：请重新写出该文件。",
    ),
    (
        "KPI-E011",
        "Column without a name, or named twice",
        "Every column of the header (every field of a record) needs a name, and each name may "
        "appear once.",
        "列没有名称或名称重复",
        "表头的每一列（记录的每个字段）都需要名称，且每个名称只能出现一次。",
    ),
    (
        "KPI-E012",
        "No rows",
        "Send at least one row: its period, dimensions and inputs.",
        "没有数据行",
        "请至少提供一行：包括期间、维度和输入。",
    ),
    (
        "KPI-E013",
        "No period column",
        "Add a column `period` holding e.g. `2026-01`.",
        "没有期间列",
        "请添加 `period` 列，值例如 `2026-01`。",
    ),
    (
        "KPI-E014",
        "Not a period",
        "Write periods as `2026-01` (month), `2026-W05` (week), `2026-01-31` (day), `2026-Q1` "
        "(quarter) or `2026` (year).",
        "不是期间",
        "期间写作 `2026-01`（月）、`2026-W05`（周）、`2026-01-31`（日）、`2026-Q1`（季"
        "度）或 `2026`（年）。",
    ),
    (
        "KPI-E015",
        "Periods of different grains",
        "All rows of one request have the same grain: all months, or all weeks, and so on.",
        "期间粒度不一致",
        "同一请求的所有行粒度相同：全是月，或全是周，依此类推。",
    ),
    (
        "KPI-E016",
        "Empty dimension value",
        "Every row names its dimension members (a store id, …): fill in the empty cells.",
        "维度值为空",
        "每一行都要写明其维度成员（门店 id 等）：请填写空单元格。",
    ),
    (
        "KPI-E017",
        "Not a number",
        "An input cell holds a number (digits, an optional sign, decimal point and exponent), "
        "or is blank for no value; `1_000`, `true` and text are refused.",
        "不是数字",
        "输入单元格应为数字（数字字符，可带正负号、小数点和指数），或留空表示无值；`1_0"
        "00`、`true` 和文本会被拒绝。",
    ),
    (
        "KPI-E018",
        "Not a finite number",
        "Infinity and NaN are not values: leave the cell blank for no value.",
        "不是有限数",
        "无穷大和 NaN 不是有效值：无值请留空。",
    ),
    (
        "KPI-E019",
        "Digits other than 0-9",
        "Write numbers with the digits 0-9, not full-width (`１２`) or other scripts' digits "
        "(`١٢`), which a reader may not take for numbers.",
        "使用了 0-9 以外的数字",
        "请用 0-9 书写数字，不要用全角数字（`１２`）或其他文字的数字（`١٢`），读者可能"
        "认不出它们是数字。",
    ),
    (
        "KPI-E020",
        "Duplicate row",
        "Each period and dimension member may appear once: sum such rows first.",
        "重复的行",
        "每个期间与维度成员的组合只能出现一次：请先把这些行汇总。",
    ),
    (
        "KPI-E021",
        "Data spans too many periods",
        "Often one mistyped period or time far from the others; otherwise ask for a coarser "
        "grain, an earlier as_of, fewer groups or a shorter span at a time.",
        "数据跨越的期间过多",
        "常见原因是某个期间或时间输错了，与其他数据相距很远；否则请改用更粗的粒度、更早"
        "的 as_of、更少的分组，或每次计算更短的时间跨度。",
    ),
    # -- the options of an evaluation --------------------------------------------------------
    (
        "KPI-E022",
        "Unknown grain",
        "Use `day`, `week`, `month`, `quarter`, `year` or `all`.",
        "未知粒度",
        "请使用 `day`、`week`、`month`、`quarter`、`year` 或 `all`。",
    ),
    (
        "KPI-E023",
        "Grain finer than the data",
        "Rows can be combined into a coarser grain, not split: ask for the data's grain or a "
        "coarser one.",
        "粒度比数据更细",
        "行可以合并成更粗的粒度，但不能拆分：请使用数据本身的粒度或更粗的粒度。",
    ),
    (
        "KPI-E024",
        "Rows and records of different grains",
        "Rows given with raw records (`--data`) are joined to them period by period: give the "
        "rows by the grain the records are measured at.",
        "数据行与记录的粒度不同",
        "与原始记录（`--data`）一起给出的数据行要按期间与记录逐期合并：请按记录度量所用"
        "的粒度给出数据行。",
    ),
    (
        "KPI-E025",
        "Unknown dimension",
        "`by` names dimensions of the data (with raw records: of the pack's sources); the hint "
        "suggests the closest.",
        "未知维度",
        "`by` 应指定数据中的维度（使用原始记录时：指标包各来源的维度）；提示会给出最接近的维度。",
    ),
    (
        "KPI-E026",
        "Unknown locale",
        "Ask for one of the locales the pack lists.",
        "未知语言",
        "请选择指标包所列的语言之一。",
    ),
    (
        "KPI-E027",
        "Unknown param",
        "Override only params the pack defines; the hint suggests the closest.",
        "未知参数",
        "只能覆盖指标包中定义的参数；提示会给出最接近的参数。",
    ),
    (
        "KPI-E028",
        "Param value not a number",
        "A param override is a finite number written with the digits 0-9.",
        "参数值不是数字",
        "参数的覆盖值必须是用 0-9 书写的有限数。",
    ),
    (
        "KPI-E029",
        "Unknown metric",
        "Name metrics (or inputs) the pack defines; the hint suggests the closest.",
        "未知指标",
        "请指定指标包中定义的指标（或输入）；提示会给出最接近的 id。",
    ),
    (
        "KPI-E030",
        "Inputs of a metric asked for are missing",
        "A metric (or input) named in `metrics` needs columns the data lacks: add them, or do "
        "not ask for it (without `metrics`, such a metric is only listed in `warnings`).",
        "所请求指标的输入缺失",
        "`metrics` 中指定的指标（或输入）需要数据中没有的列：请补上这些列，或不请求该指"
        "标（不指定 `metrics` 时，这样的指标只会列在 `warnings` 中）。",
    ),
    (
        "KPI-E031",
        "Metric asked for cannot be computed at this grain",
        "An input it needs cannot be combined from the rows into the grain or dimensions asked "
        "(a distinct count is not the sum of its periods' counts): ask for the data's grain, "
        "or compute the inputs from raw records (`kpi run`).",
        "所请求的指标无法在此粒度下计算",
        "它需要的某个输入无法由数据行合并到所请求的粒度或维度（去重计数不等于各期间计数"
        "之和）：请使用数据本身的粒度，或从原始记录计算这些输入（`kpi run`）。",
    ),
    (
        "KPI-E032",
        "as_of too late",
        "Periods end in 9998: give an as_of on or before 9998-12-30.",
        "as_of 太晚",
        "期间最晚到 9998 年：请给出不晚于 9998-12-30 的 as_of。",
    ),
    (
        "KPI-E033",
        "Nothing on or before as_of",
        "Every row (or record) is of a time after as_of: give an as_of on or after the first "
        "period's (or record's) day.",
        "as_of 当天及之前没有数据",
        "所有行（或记录）的时间都在 as_of 之后：请给出不早于第一个期间（或第一条记录）"
        "日期的 as_of。",
    ),
    (
        "KPI-E034",
        "Unknown SQL dialect",
        "Choose `duckdb`, `spark`, `trino`, `postgres`, `bigquery` or `snowflake`.",
        "未知的 SQL 方言",
        "请选择 `duckdb`、`spark`、`trino`、`postgres`、`bigquery` 或 `snowflake`。",
    ),
    # -- raw records of the sources --------------------------------------------------------
    (
        "KPI-E035",
        "Unknown source",
        "Name a source the pack defines in `sources`.",
        "未知来源",
        "请指定指标包在 `sources` 中定义的来源。",
    ),
    (
        "KPI-E036",
        "No input with a measure",
        "The pack (or the source named) computes no input from raw records: evaluate input "
        "rows instead (`kpi eval`).",
        "没有带度量的输入",
        "该指标包（或所指定的来源）没有从原始记录计算的输入：请改为对输入行进行计算（`k"
        "pi eval`）。",
    ),
    (
        "KPI-E037",
        "No records for a source",
        "Give the records of a source the pack measures inputs on: `--source NAME=PATH`, or "
        "`sources` over HTTP.",
        "缺少来源的记录",
        "请给出指标包用来度量输入的来源的记录：`--source NAME=PATH`，或 HTTP 请求中的 `sources`。",
    ),
    (
        "KPI-E038",
        "Sources of different dimensions",
        "Measures of several sources are joined on the period and the same dimensions: give "
        "together only sources that declare the same dimensions.",
        "来源的维度不同",
        "多个来源的度量按期间和相同的维度合并：只能把声明了相同维度的来源放在一起。",
    ),
    (
        "KPI-E039",
        "Records not readable",
        "DuckDB could not read the source's file, or compute a measure over its records (the "
        "message says why): check the file's format and its columns' values.",
        "无法读取记录",
        "DuckDB 无法读取来源的文件，或无法对其记录计算度量（消息会说明原因）：请检查文"
        "件格式及各列的值。",
    ),
    (
        "KPI-E040",
        "Column name reserved",
        "Names starting with `kpi__` are reserved for the engine: rename the column.",
        "列名为保留名称",
        "以 `kpi__` 开头的名称保留给引擎使用：请重命名该列。",
    ),
    (
        "KPI-E041",
        "Source without records",
        "Send at least one record of the source.",
        "来源记录为空",
        "请至少发送该来源的一条记录。",
    ),
    (
        "KPI-E042",
        "Column missing from a source",
        "The records need the source's `time` column, the columns of its dimensions and "
        "entity, its declared `columns`, and every column its measures name.",
        "来源缺少列",
        "记录需要包含来源的 `time` 列、其维度列和实体列、声明的 `columns`，以及其度量引"
        "用的每一列。",
    ),
    (
        "KPI-E043",
        "Bad values in a source's records",
        "Fix the records listed: times are local ISO dates or times without a UTC offset, "
        "dimension and entity values are not empty, numbers are finite and written with the "
        "digits 0-9, values keep to a column's declared `values` and `min`; record values are "
        "text, numbers, true/false or null.",
        "来源记录中有错误的值",
        "请修正所列的记录：时间为不带 UTC 偏移的本地 ISO 日期或时间，维度和实体的值不为"
        "空，数字为有限数并用 0-9 书写，值符合列声明的 `values` 和 `min`；记录的值为文"
        "本、数字、true/false 或 null。",
    ),
    (
        "KPI-E044",
        "Input both measured and given",
        "An input computed from a source's records is also a column of the data rows: drop the "
        "column from the data, or the measure from the pack.",
        "输入既被度量又被直接给出",
        "某个由来源记录计算的输入同时也是数据行中的一列：请从数据中删去该列，或从指标包"
        "中删去该度量。",
    ),
    (
        "KPI-E045",
        "Data rows of other dimensions",
        "Rows given with raw records have the dimensions of the measured inputs and no other.",
        "数据行的维度不同",
        "与原始记录一起给出的数据行只能有被度量输入的维度，不能有其他维度。",
    ),
    (
        "KPI-E046",
        "Malformed table of records",
        "A source given as an in-memory table maps each column's name (text, not empty) to its "
        "values, every column as long as the others.",
        "记录表格式错误",
        "以内存表形式给出的来源，要把每列的名称（非空文本）映射到该列的值，且各列长度相同。",
    ),
    (
        "KPI-E047",
        "Text file too large to convert",
        "A source's CSV that is not UTF-8 is converted to UTF-8 before DuckDB reads it, up to a "
        "size (the message says it): save the file as CSV UTF-8 to read it as it is.",
        "文本文件过大，无法转换",
        "不是 UTF-8 的来源 CSV 会在 DuckDB 读取前先转换为 UTF-8，但有大小上限（消息会给"
        "出）：请将文件另存为 CSV UTF-8，以便直接读取。",
    ),
    (
        "KPI-E048",
        "Not a readable workbook",
        "The file is not an .xlsx workbook calamine can read (a damaged file, an old .xls, or a "
        "workbook with a password): save it from Excel as Excel Workbook (*.xlsx) without a "
        "password, or as CSV UTF-8.",
        "无法读取的工作簿",
        "该文件不是 calamine 能读取的 .xlsx 工作簿（文件损坏、旧版 .xls 或设有密码的工"
        "作簿）：请在 Excel 中另存为不设密码的 Excel 工作簿（*.xlsx），或另存为 CSV "
        "UTF-8。",
    ),
    (
        "KPI-E049",
        "Sheet not found",
        "The workbook has no sheet of that name (the message lists its sheets): name one with "
        "`--sheet NAME` or `book.xlsx#NAME` (`sheet=` over HTTP); the default is the first sheet.",
        "找不到工作表",
        "工作簿中没有该名称的工作表（消息会列出所有工作表）：用 `--sheet NAME` 或 "
        "`book.xlsx#NAME`（HTTP 中用 `sheet=`）指定一个；默认为第一个工作表。",
    ),
    (
        "KPI-E050",
        "Workbook too large",
        "A workbook is refused before it is read when the file, the data its zip expands to, its "
        "number of sheets or the cells of the sheet read pass the limits of docs/evaluation.md: "
        "split it, or save the sheet as CSV UTF-8.",
        "工作簿过大",
        "当文件大小、其 zip 解压后的数据量、工作表数或所读工作表的单元格数超过 "
        "docs/evaluation.md 中的上限时，工作簿在读取前即被拒绝：请拆分工作簿，或把该工"
        "作表另存为 CSV UTF-8。",
    ),
    (
        "KPI-E051",
        "Excel error value in a cell",
        "A cell holds #DIV/0!, #N/A, #VALUE! or another Excel error (a formula that failed): "
        "fix the formula, or clear the cell for a blank, and save the workbook again.",
        "单元格中有 Excel 错误值",
        "单元格中是 #DIV/0!、#N/A、#VALUE! 或其他 Excel 错误（公式计算失败）：请修正公"
        "式，或清空单元格表示空值，然后重新保存工作簿。",
    ),
    (
        "KPI-E052",
        "Sheet chosen for a file that is not a workbook",
        "`--sheet` (or `#NAME` after the path) chooses a sheet of an .xlsx workbook only.",
        "为非工作簿文件指定了工作表",
        "`--sheet`（或路径后的 `#NAME`）只能为 .xlsx 工作簿选择工作表。",
    ),
    # -- the columns and cells of exports (issue 14) ----------------------------------------
    (
        "KPI-E053",
        "Column header that names two things",
        "The header is a label two inputs or dimensions share, or one's id and another's label "
        '(docs/evaluation.md, "Column headers"): head the column with the id it stands for.',
        "列表头指向两样东西",
        "该表头是两个输入或维度共用的标签，或是一个的 id 同时是另一个的标签（docs/evalu"
        "ation.md，“Column headers”）：请用该列所代表的 id 作表头。",
    ),
    (
        "KPI-E054",
        "Two columns for one input",
        "Two headers of the data (an id and a label, or two labels) stand for the same input, "
        "dimension or period: keep one of the columns.",
        "同一输入有两列",
        "数据中的两个表头（一个 id 和一个标签，或两个标签）代表同一个输入、维度或期间："
        "请只保留其中一列。",
    ),
    (
        "KPI-E055",
        "No column for a dimension",
        "Rows of different dimension members share a key because the data has no column for "
        "the dimension, and a column the pack does not know is probably it: head that column "
        "with the dimension's id or label.",
        "缺少维度列",
        "由于数据中没有该维度的列，不同维度成员的行共用了同一个键，而某个指标包不认识的"
        "列很可能就是它：请用维度的 id 或标签作为该列的表头。",
    ),
    (
        "KPI-E056",
        "Number cell that reads two ways",
        "`1 200`, `1,20` or `1.200,50` could be read two ways, and a percent is read only in an "
        'input whose unit is a ratio: write 1200 or 1,200 (docs/evaluation.md, "Cells as '
        'exports write them").',
        "数字单元格有两种读法",
        "`1 200`、`1,20` 或 `1.200,50` 都可能有两种读法，百分数只在单位为比率的输入中才"
        "会读取：请写成 1200 或 1,200（docs/evaluation.md，“Cells as exports write "
        "them”）。",
    ),
    (
        "KPI-E057",
        "Date that reads two ways",
        "A period written day and month before the year (`01/02/2026`) is the 1st of February "
        "to some and the 2nd of January to others: write the year first (2026-02-01).",
        "日期有两种读法",
        "把日和月写在年份前面的期间（`01/02/2026`），有人读作 2 月 1 日，有人读作 1 月 "
        "2 日：请把年份写在前面（2026-02-01）。",
    ),
    (
        "KPI-E058",
        "Source headers that do not fit the file",
        "A source's `headers` maps a column to a header that the file does not have (the "
        "message lists the headers it has), or the file has both that header and a column under "
        "the pack's name: correct the mapping or the file.",
        "来源的表头与文件不符",
        "来源的 `headers` 把某列映射到文件中没有的表头（消息会列出文件现有的表头），或"
        "者文件中既有该表头，又有按指标包名称命名的列：请更正映射或文件。",
    ),
    # -- kpi publish, kpi pull, kpi init ---------------------------------------------------
    (
        "KPI-E061",
        "The server refused the request",
        "The message is the server's problem (its type and detail, and the pack's problems "
        "at their files and lines): fix what it names, or publish under a new version.",
        "服务器拒绝了请求",
        "消息是服务器返回的问题（其类型和详情，以及指标包在各文件和行上的问题）：请修正"
        "其中指出的问题，或以新版本发布。",
    ),
    (
        "KPI-E062",
        "The server cannot be reached",
        "Check --server (or $KPI_SERVER): the address of a running `kpi serve`, such as "
        "http://127.0.0.1:8000.",
        "无法连接服务器",
        "请检查 --server（或 $KPI_SERVER）：应为正在运行的 `kpi serve` 的地址，例如 "
        "http://127.0.0.1:8000。",
    ),
    (
        "KPI-E063",
        "No API token",
        "Publishing needs a token: pass --token or set $KPI_TOKEN (create one with "
        "`kpi keys create --owner NAME` on the server). The token is never printed.",
        "没有 API 令牌",
        "发布需要令牌：传入 --token 或设置 $KPI_TOKEN（在服务器上用 `kpi keys create "
        "--owner NAME` 创建）。令牌从不打印。",
    ),
    (
        "KPI-E064",
        "Folder or pack reference refused",
        "kpi pull and kpi init write into an empty or new folder (pass --force to replace "
        "the pack files of a non-empty one); a pack is named ID or ID@VERSION.",
        "文件夹或指标包引用被拒绝",
        "kpi pull 和 kpi init 只写入空文件夹或新文件夹（传入 --force 可替换非空文件夹中"
        "的指标包文件）；指标包写作 ID 或 ID@VERSION。",
    ),
    # -- warnings of an evaluation ---------------------------------------------------------
    (
        "KPI-W001",
        "Metric not computed: inputs missing",
        "The data lacks the columns in `missing_inputs`: add them to compute the metric, or "
        "name the metrics you want in `metrics`.",
        "指标未计算：缺少输入",
        "数据中缺少 `missing_inputs` 中的列：补上这些列即可计算该指标，或在 `metrics` "
        "中指定你需要的指标。",
    ),
    (
        "KPI-W002",
        "Metric not computed at this grain",
        "An input it needs cannot be combined into the grain or dimensions asked (the message "
        "says which): ask for the data's grain, or compute the inputs from raw records.",
        "指标未在此粒度下计算",
        "它需要的某个输入无法合并到所请求的粒度或维度（消息会指出是哪个）：请使用数据本"
        "身的粒度，或从原始记录计算这些输入。",
    ),
    (
        "KPI-W003",
        "Check not evaluated",
        "The check's assertion needs the values in `missing`: add the inputs they come from.",
        "校验未执行",
        "校验的断言需要 `missing` 中的值：请补上它们所来自的输入。",
    ),
    (
        "KPI-W004",
        "Rule not evaluated",
        "The rule's condition needs the values in `missing`: add the inputs they come from.",
        "规则未评估",
        "规则的条件需要 `missing` 中的值：请补上它们所来自的输入。",
    ),
    (
        "KPI-W005",
        "Rows after as_of left out",
        "Rows of periods that start after as_of are not evaluated: give a later as_of to keep "
        "them.",
        "已略去 as_of 之后的行",
        "开始于 as_of 之后的期间的行不参与计算：给出更晚的 as_of 即可保留它们。",
    ),
    (
        "KPI-W006",
        "Column with a param's name",
        "Params come from the pack, so the column is not used: override a param with "
        "`params` (`--param`), and rename or drop the column.",
        "列名与参数同名",
        "参数来自指标包，因此该列不会被使用：请用 `params`（`--param`）覆盖参数，并重命"
        "名或删去该列。",
    ),
    (
        "KPI-W007",
        "Records measured finer than the pack's grain",
        "`periods` counts the finer periods and bands judge values per finer period: compare "
        "with the bands at the pack's grain or a coarser one.",
        "记录的度量粒度比指标包更细",
        "`periods` 统计的是更细的期间，区间也按更细的期间评判数值：请在指标包的粒度或更"
        "粗的粒度上与区间比较。",
    ),
    (
        "KPI-W008",
        "Input combined although it depends on the period's length",
        "Its measure would count something else over the longer period: compute it from the "
        "raw records at the grain asked (`kpi run --source …`).",
        "输入依赖期间长度，却被合并了",
        "在更长的期间上，它的度量统计的是另一回事：请在所请求的粒度上从原始记录计算（`k"
        "pi run --source …`）。",
    ),
    (
        "KPI-W009",
        "Members counted per dimension member and added up",
        "With data rows joined on every dimension, a member of two stores counts twice: leave "
        "out the data rows (the records are then counted across the dimensions), or keep the "
        "dimensions in `by`.",
        "会员按各维度成员分别计数后相加",
        "数据行按所有维度合并时，在两家门店都有记录的会员会被计算两次：请不提供数据行（"
        "这样记录会跨维度计数），或在 `by` 中保留这些维度。",
    ),
    (
        "KPI-W010",
        "Value outside its metric's domain",
        "The value is one the metric cannot plausibly have (the data is likely wrong), so it "
        "gets no band; past 50 for one metric, one entry with `more: true` stands for the rest.",
        "数值超出指标的取值范围",
        "该值是指标不可能合理取到的值（数据很可能有误），因此不划入任何区间；同一指标超"
        "过 50 个时，用一条 `more: true` 的条目代表其余的。",
    ),
    (
        "KPI-W011",
        "Columns read by their labels",
        "Some columns of the data are headed with the pack's labels (充值金额, Recharge amount) "
        "rather than ids; `columns` maps each such header to the id it was read as.",
        "按标签读取的列",
        "数据中有些列以指标包的标签（充值金额、Recharge amount）而不是 id 作表头；`colu"
        "mns` 给出每个这样的表头被读作哪个 id。",
    ),
    # -- reports and templates (docs/excel.md) ------------------------------------------------
    (
        "KPI-E059",
        "Result too large for a workbook",
        "A worksheet holds at most 1,048,576 rows and 16,384 columns: ask for a coarser grain, "
        "fewer dimensions (`by`), fewer metrics or a shorter period, or take CSV or JSON.",
        "结果太大，工作簿放不下",
        "一个工作表最多 1,048,576 行、16,384 列：请改用更粗的粒度、更少的维度（`by`）、"
        "更少的指标或更短的期间，或改用 CSV 或 JSON。",
    ),
    (
        "KPI-E060",
        "Unknown source for a template",
        "`kpi template --source` names one of the pack's `sources:` (its raw ledgers): the "
        "message lists them; without `--source` the template has the pack's input rows.",
        "模板的来源未知",
        "`kpi template --source` 应指定指标包 `sources:` 中的一个来源（即其原始流水）："
        "消息会列出这些来源；不带 `--source` 时，模板是指标包的输入行。",
    ),
)


def code_entry(code: str | None) -> Code | RuntimeCode | None:
    """The catalogue entry of a pack problem code or an evaluation code (None if unknown)."""
    if code is None:
        return None
    return CODES.get(code) or RUNTIME_CODES.get(code)
