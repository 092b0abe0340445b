"""The catalogue of pack problem codes: what each code means, in English and in Chinese.

Every :class:`engine.core.problems.Problem` carries one of these codes; ``docs/errors.md`` is
generated from :data:`CODES`. Each entry holds its title and explanation in English and in
Chinese (``title_zh``, ``explanation_zh``): the CLI prints them in the language chosen with
``--locale`` or ``$KPI_LOCALE``, and the HTTP API after ``Accept-Language`` (docs/errors.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Severity = Literal["error", "warning"]


def is_zh(locale: str | None) -> bool:
    """Whether a locale (``zh``, ``zh-CN``, ``zh_Hans``, …) asks for Chinese texts."""
    return locale is not None and locale.strip().lower().replace("_", "-").split("-")[0] == "zh"


@dataclass(frozen=True)
class Code:
    """One entry of the catalog of problem codes: its title and explanation in English and in
    Chinese."""

    code: str
    severity: Severity
    title: str
    explanation: str
    title_zh: str
    explanation_zh: str

    def title_in(self, locale: str | None) -> str:
        """The title in ``locale`` (Chinese for ``zh…``, English otherwise)."""
        return self.title_zh if is_zh(locale) else self.title

    def hint_in(self, locale: str | None) -> str:
        """The explanation in ``locale``: the general hint of every problem of this code."""
        return self.explanation_zh if is_zh(locale) else self.explanation


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
        "文件或指标包过大",
        "某个指标包文件超过 5 MB，或一个指标包的所有文件合计超过 5 MB。",
    ),
    Code(
        "KPI-L002",
        "error",
        "YAML syntax error",
        "The file is not well-formed YAML (bad indentation, an unclosed quote or bracket, a tab).",
        "YAML 语法错误",
        "文件不是格式正确的 YAML（缩进错误、引号或括号未闭合、使用了制表符）。",
    ),
    Code(
        "KPI-L003",
        "error",
        "Duplicate key",
        "The same key appears twice in one mapping. YAML tools silently keep the last one; "
        "KPI Forge refuses, because the first definition would be lost without a trace.",
        "重复的键",
        "同一个映射中出现了两次相同的键。一般的 YAML 工具会悄悄保留后一个；KPI Forge 拒"
        "绝接受，因为前一个定义会不留痕迹地丢失。",
    ),
    Code(
        "KPI-L004",
        "error",
        "Document too large when expanded",
        "Anchors and aliases (`&a` / `*a`) expand to more nodes than allowed (an 'alias bomb'), "
        "or the document has more nodes than allowed.",
        "展开后文档过大",
        "锚点和别名（`&a` / `*a`）展开后的节点数超过上限（“别名炸弹”），或文档本身的节"
        "点数超过上限。",
    ),
    Code(
        "KPI-L005",
        "error",
        "Tag not allowed",
        "Only plain YAML data is accepted: `!!python/...` and custom tags are refused.",
        "不允许的标签",
        "只接受普通的 YAML 数据：`!!python/...` 和自定义标签会被拒绝。",
    ),
    Code(
        "KPI-L006",
        "error",
        "Nesting too deep",
        "The document nests mappings and lists deeper than allowed.",
        "嵌套过深",
        "文档中映射和列表的嵌套层数超过上限。",
    ),
    Code(
        "KPI-L007",
        "error",
        "More than one document",
        "A pack file holds one YAML document; `---` separating several documents is refused.",
        "包含多个文档",
        "一个指标包文件只能有一个 YAML 文档；用 `---` 分隔多个文档会被拒绝。",
    ),
    Code(
        "KPI-L008",
        "error",
        "Merge key not supported",
        "YAML merge keys (`<<: *base`) are not part of the pack language; use `extends` and "
        "`override: true` instead.",
        "不支持合并键",
        "YAML 合并键（`<<: *base`）不属于指标包语言；请改用 `extends` 和 `override: true`。",
    ),
    Code(
        "KPI-L009",
        "error",
        "Pack not found",
        "A path or pack id that does not exist, a directory without `*.yaml` files, or a file "
        "that is not UTF-8 text.",
        "找不到指标包",
        "路径或指标包 id 不存在，目录中没有 `*.yaml` 文件，或文件不是 UTF-8 文本。",
    ),
    Code(
        "KPI-L010",
        "error",
        "Top level is not a mapping",
        "A pack file must be a mapping of keys such as `pack`, `inputs` and `metrics`.",
        "顶层不是映射",
        "指标包文件必须是由 `pack`、`inputs`、`metrics` 等键组成的映射。",
    ),
    Code(
        "KPI-L011",
        "error",
        "Conflicting pack files",
        "Two files of one pack set the same top-level key (other than the sections, which may "
        "be split across files), or name different pack ids.",
        "指标包文件相互冲突",
        "同一指标包的两个文件设置了同一个顶层键（可以拆分到多个文件的各个分区除外），或"
        "写了不同的指标包 id。",
    ),
    Code(
        "KPI-L012",
        "error",
        "Bidirectional control character",
        "A pack file holds a character that reorders how text is displayed (U+202A–U+202E, "
        "U+2066–U+2069, U+200E, U+200F, U+061C), so an editor or a review shows the text in "
        "another order than KPI Forge reads it ('Trojan Source'). Refused anywhere in the file, "
        "comments included; right-to-left text needs no such characters.",
        "双向控制字符",
        "指标包文件中含有会改变文本显示顺序的字符（U+202A–U+202E、U+2066–U+2069、U+200E"
        "、U+200F、U+061C），编辑器或代码审查中显示的顺序与 KPI Forge 读取的顺序不同（“"
        "Trojan Source”）。文件中任何位置（包括注释）都不允许出现；从右到左书写的文字并"
        "不需要这类字符。",
    ),
    Code(
        "KPI-L013",
        "error",
        "Not a file of a pack folder",
        "A pack posted as a stream of files or as a zip archive holds something that is not a "
        "pack file: a path with '..', an absolute path, a subfolder, a symbolic link, a file "
        "other than *.yaml/*.yml (README.md is skipped), a name used twice, text before the "
        "first '# file:' header, or an archive that cannot be read.",
        "不是指标包文件夹中的文件",
        "以文件流或 zip 压缩包提交的指标包中含有不是指标包文件的内容：含 '..' 的路径、"
        "绝对路径、子文件夹、符号链接、*.yaml/*.yml 以外的文件（README.md 会被跳过）、"
        "重复使用的文件名、第一个 '# file:' 标头之前的文本，或无法读取的压缩包。",
    ),
    Code(
        "KPI-L014",
        "error",
        "Pack archive too large",
        "A pack stream or zip archive holds more than 64 files, or its files add up (inflated) "
        "to more than the pack size limit: it is refused before anything is inflated.",
        "指标包压缩包过大",
        "指标包文件流或 zip 压缩包中的文件超过 64 个，或所有文件解压后合计超过指标包大"
        "小上限：在解压任何内容之前即被拒绝。",
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
        "YAML 语法中使用了全角标点",
        "中文输入法在 YAML 需要 ASCII 语法的位置输入了全角标点：键后面用了 `：`（U+FF1A"
        "，全角冒号）而不是 `: `，`{ … }` 或 `[ … ]` 的各项之间用了 `，`（全角逗号）或 "
        "`、`，或者在映射或列表开始处用了全角括号 `【】` `（）` `［］` `｛｝`。消息会指"
        "出该字符及其行号和列号。文本值内部（例如描述中的中文句子）的全角标点属于普通文"
        "本，可以接受。",
    ),
    Code(
        "KPI-L016",
        "error",
        "Full-width space as indentation",
        "A line is indented with the full-width space U+3000 (全角空格), or another space that "
        "is not the ASCII one: YAML reads it as text, so the key is not where it looks.",
        "用全角空格缩进",
        "某行用全角空格 U+3000 或其他非 ASCII 空格缩进：YAML 会把它当作文本，键的实际位"
        "置与看上去的不同。",
    ),
    Code(
        "KPI-L017",
        "error",
        "Inconsistent indentation",
        "A key is indented differently from the keys around it, so YAML cannot tell which "
        "mapping it belongs to. The message names the neighbouring keys and their indentation.",
        "缩进不一致",
        "某个键的缩进与周围的键不同，YAML 无法判断它属于哪个映射。消息会列出相邻的键及其缩进。",
    ),
    # -- schema --------------------------------------------------------------------------
    Code(
        "KPI-S001",
        "error",
        "Missing required key",
        "A required key such as `formula` of a metric or `when` of a rule is missing.",
        "缺少必需的键",
        "缺少必需的键，例如指标的 `formula` 或规则的 `when`。",
    ),
    Code(
        "KPI-S002",
        "error",
        "Unknown key",
        "A key the pack language does not define (often "
        "a typo: the hint suggests the closest key).",
        "未知的键",
        "指标包语言中没有定义的键（常常是拼写错误：提示会给出最接近的键）。",
    ),
    Code(
        "KPI-S003",
        "error",
        "Wrong type",
        "A value has the wrong type (a list where a mapping is expected, …).",
        "类型错误",
        "值的类型不对（例如需要映射的地方写了列表）。",
    ),
    Code(
        "KPI-S004",
        "error",
        "Value not allowed",
        "A value is not one of the allowed choices (an unknown status, grain, …).",
        "不允许的值",
        "值不在允许的选项之中（未知的状态、粒度等）。",
    ),
    Code(
        "KPI-S005",
        "error",
        "Bad format",
        "A value does not have the required format (pack id, version, …).",
        "格式错误",
        "值不符合要求的格式（指标包 id、版本号等）。",
    ),
    Code(
        "KPI-S006",
        "error",
        "Schema violation",
        "Any other violation of the pack schema.",
        "不符合指标包模式",
        "其他任何不符合指标包模式（schema）的情况。",
    ),
    Code(
        "KPI-S007",
        "error",
        "Text where a list or mapping is expected, written with full-width punctuation",
        "YAML read a value as text because its syntax was typed full-width: `［a, b］` or "
        "`【a, b】` instead of `[a, b]`, or `label：充值` on its own line under a key instead of "
        "`label: 充值`. The message names the character, its line and column.",
        "因全角标点，应为列表或映射的值被读成了文本",
        "由于语法是用全角输入的，YAML 把值读成了文本：写了 `［a, b］` 或 `【a, b】` 而"
        "不是 `[a, b]`，或者在某个键下单独一行写了 `label：充值` 而不是 `label: 充值`。"
        "消息会指出该字符及其行号和列号。",
    ),
    # -- formulas ------------------------------------------------------------------------
    Code(
        "KPI-F001",
        "error",
        "Formula syntax error",
        "The formula is not well-formed (an unclosed bracket, two operators in a row, …).",
        "公式语法错误",
        "公式格式不正确（括号未闭合、两个运算符连在一起等）。",
    ),
    Code(
        "KPI-F002",
        "error",
        "Unknown function",
        "A call of a function that the formula language does not have.",
        "未知函数",
        "调用了公式语言中没有的函数。",
    ),
    Code(
        "KPI-F003",
        "error",
        "Wrong number of arguments",
        "A function was called with too few or too many arguments.",
        "函数参数个数不对",
        "调用函数时给的参数过少或过多。",
    ),
    Code(
        "KPI-F004",
        "error",
        "Construct not allowed",
        "Attribute access (`a.b`), indexing (`a[0]`), strings, lambdas and other programming "
        "constructs are not part of the formula language.",
        "不允许的语法结构",
        "属性访问（`a.b`）、下标（`a[0]`）、字符串、lambda 等编程语法不属于公式语言。",
    ),
    Code(
        "KPI-F005",
        "error",
        "Formula too long",
        "A formula is longer than 10,000 characters.",
        "公式过长",
        "公式长度超过 10,000 个字符。",
    ),
    Code(
        "KPI-F006",
        "error",
        "Formula too complex",
        "A formula nests too deeply or has too many parts.",
        "公式过于复杂",
        "公式嵌套过深或组成部分过多。",
    ),
    Code(
        "KPI-F007",
        "error",
        "Exponent not allowed",
        "The exponent of `**` must be a number literal between -10 and 10.",
        "不允许的指数",
        "`**` 的指数必须是 -10 到 10 之间的数字字面量。",
    ),
    Code(
        "KPI-F008",
        "error",
        "Number literal not allowed",
        "A number literal that is too long, too large or not finite.",
        "不允许的数字字面量",
        "数字字面量过长、过大或不是有限数。",
    ),
    Code(
        "KPI-F009",
        "error",
        "Bad named argument",
        "A named argument the function does not take (only `previous` takes `n=` and `default=`), "
        "or one given twice, or a positional argument after a named one.",
        "命名参数有误",
        "函数不接受的命名参数（只有 `previous` 接受 `n=` 和 `default=`），同一命名参数"
        "给了两次，或位置参数写在命名参数之后。",
    ),
    Code(
        "KPI-F010",
        "error",
        "Number where a condition is expected, or the reverse",
        "Metric formulas compute numbers; `when` of a rule and `assert` of a check are conditions. "
        "Arithmetic on a condition, or a number used as a condition, is refused.",
        "需要条件的地方用了数值，或反之",
        "指标公式计算的是数值；规则的 `when` 和校验的 `assert` 是条件。对条件做算术运算"
        "，或把数值当作条件使用，都会被拒绝。",
    ),
    Code(
        "KPI-F011",
        "error",
        "Argument must be a whole-number literal",
        "Window lengths (`n` of `previous`, `rolling_sum`, …) and the digits of `round` must be "
        "whole-number literals in the allowed range.",
        "参数必须是整数字面量",
        "窗口长度（`previous`、`rolling_sum` 等的 `n`）和 `round` 的小数位数必须是允许"
        "范围内的整数字面量。",
    ),
    # -- semantic rules ------------------------------------------------------------------
    Code(
        "KPI-R001",
        "error",
        "Unknown reference",
        "A formula names an input, metric or param that is not defined (the hint suggests the "
        "closest id).",
        "未知引用",
        "公式引用了未定义的输入、指标或参数（提示会给出最接近的 id）。",
    ),
    Code(
        "KPI-R002",
        "error",
        "Duplicate id",
        "An id is defined twice: in two files of a pack, in two of inputs / metrics / params, or "
        "by two packs that this pack extends.",
        "重复的 id",
        "同一个 id 定义了两次：在指标包的两个文件中、在 inputs / metrics / params 中的"
        "两处，或在本指标包所扩展的两个指标包中。",
    ),
    Code(
        "KPI-R003",
        "error",
        "Redefinition without override",
        "A pack defines an id it already inherits through `extends`. Say `override: true` to "
        "change the inherited definition field by field.",
        "重新定义而未声明覆盖",
        "指标包定义了一个已经通过 `extends` 继承的 id。写上 `override: true` 即可逐字段"
        "修改继承来的定义。",
    ),
    Code(
        "KPI-R004",
        "warning",
        "Override of nothing",
        "`override: true` on an id that no extended pack defines.",
        "覆盖了不存在的定义",
        "某个 id 写了 `override: true`，但没有任何被扩展的指标包定义它。",
    ),
    Code(
        "KPI-R005",
        "error",
        "Bad id",
        "Ids must be identifiers (letters, digits and `_`, not starting with a digit; Chinese is "
        "fine) and not a reserved word of the formula language.",
        "无效的 id",
        "id 必须是标识符（字母、数字和 `_`，不以数字开头；可以用中文），且不能是公式语言的保留字。",
    ),
    Code(
        "KPI-R006",
        "error",
        "Dependency cycle",
        "Metrics that depend on each other in a circle. A dependency through `previous(...)` is "
        "a carry-over and is allowed; any other cycle is an error.",
        "循环依赖",
        "指标之间相互依赖形成了环。通过 `previous(...)` 的依赖属于跨期结转，是允许的；"
        "其他任何环都是错误。",
    ),
    Code(
        "KPI-R007",
        "error",
        "Unknown remedy",
        "A rule or band names a remedy that `remedies` does not define.",
        "未知的改进措施",
        "规则或区间引用了 `remedies` 中未定义的改进措施。",
    ),
    Code(
        "KPI-R008",
        "error",
        "Unknown role",
        "A remedy's `owner` is not a role defined in `roles`.",
        "未知角色",
        "改进措施的 `owner` 不是 `roles` 中定义的角色。",
    ),
    Code(
        "KPI-R009",
        "error",
        "Unknown metric",
        "A view, a role's `focus` or a check's `rules` names a metric or rule that is not defined.",
        "未知指标",
        "视图、角色的 `focus` 或校验的 `rules` 引用了未定义的指标或规则。",
    ),
    Code(
        "KPI-R010",
        "error",
        "Overlapping bands",
        "Two bands of one metric cover a common value (`min` is inclusive, `max` exclusive), or "
        "a band's `min` is not below its `max`.",
        "区间重叠",
        "同一指标的两个区间覆盖了共同的值（`min` 包含端点，`max` 不包含），或某个区间的"
        " `min` 不小于其 `max`。",
    ),
    Code(
        "KPI-R011",
        "warning",
        "Unused input",
        "An input that no metric, check or rule uses.",
        "未使用的输入",
        "没有任何指标、校验或规则使用的输入。",
    ),
    Code(
        "KPI-R012",
        "error",
        "Extended pack not found",
        "A pack named in `extends` does not exist, or no version of it satisfies the constraint.",
        "找不到被扩展的指标包",
        "`extends` 中指定的指标包不存在，或没有任何版本满足版本约束。",
    ),
    Code(
        "KPI-R013",
        "error",
        "Extends cycle",
        "Packs that extend each other in a circle.",
        "扩展形成循环",
        "指标包之间相互扩展形成了环。",
    ),
    Code(
        "KPI-R014",
        "error",
        "Optional input without default",
        "An input with `required: false` needs a `default`.",
        "可选输入没有默认值",
        "`required: false` 的输入需要一个 `default`。",
    ),
    Code(
        "KPI-R015",
        "warning",
        "Check refuted",
        "The compiler proved from the formulas that a check can never hold (its residual is a "
        "non-zero constant).",
        "校验被否定",
        "编译器根据公式证明某个校验永远不可能成立（其残差是一个非零常数）。",
    ),
    Code(
        "KPI-R016",
        "error",
        "Self reference",
        "A metric's formula uses the metric itself outside `previous(...)`.",
        "引用了自身",
        "指标的公式在 `previous(...)` 之外使用了该指标自身。",
    ),
    Code(
        "KPI-R017",
        "error",
        "Unknown source",
        "An input's `measure` names a source that `sources` does not define.",
        "未知来源",
        "输入的 `measure` 引用了 `sources` 中未定义的来源。",
    ),
    Code(
        "KPI-R018",
        "error",
        "Not available in a measure",
        "A measure's `of` or `where` names a column the source does not "
        "declare, or uses a time function (measures are computed per period "
        "from records; time functions belong in metrics), a column outside an "
        "entity attribute, or an entity measure on a source without `entity`.",
        "度量中不可用",
        "度量的 `of` 或 `where` 引用了来源未声明的列，或使用了时间函数（度量按期间从记"
        "录计算；时间函数应写在指标中），或使用了实体属性以外的列，或在没有 `entity` 的"
        "来源上使用了实体度量。",
    ),
    Code(
        "KPI-R019",
        "error",
        "Measure fields that do not fit together",
        "A measure combines fields that have no meaning together: `since` / `until` / "
        "`having` without `per: entity`, `where` in an entity measure, `as_of` with an "
        "aggregate other than sum or count, or an aggregate without the `of` it needs.",
        "度量的字段不能搭配使用",
        "度量组合了放在一起没有意义的字段：没有 `per: entity` 却用了 `since` / `until` "
        "/ `having`，实体度量中用了 `where`，`as_of` 搭配了 sum 或 count 以外的聚合，或"
        "聚合缺少它需要的 `of`。",
    ),
    Code(
        "KPI-R020",
        "error",
        "Measure types do not fit",
        "An expression of a measure mixes values whose types do not go together against "
        "the source's declared `columns` (text added to a time, a number compared with "
        "text, a sum of times), which the SQL engine would only refuse when it runs.",
        "度量的类型不匹配",
        "按来源声明的 `columns`，度量的表达式混用了类型不能搭配的值（文本加时间、数字与"
        "文本比较、对时间求和），SQL 引擎要到运行时才会拒绝。",
    ),
    Code(
        "KPI-R021",
        "warning",
        "Band and rule disagree at an edge",
        "A rule compares a metric with a value that is also an edge of one of "
        "the metric's bands, but puts that exact value on the other side: at the "
        "edge the band says one thing and the rule another (`min` is inclusive "
        "and `max` exclusive; `above` and `at_most` say the opposite).",
        "区间与规则在边界值上不一致",
        "规则把指标与某个值比较，而该值恰好也是该指标某个区间的边界，但规则把这个值归到"
        "了另一侧：在边界上，区间说的是一回事，规则说的是另一回事（`min` 包含端点，`max"
        "` 不包含；`above` 和 `at_most` 正好相反）。",
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
        "容易混淆的 id",
        "可能被误认为另一个 id 的 id：混用了外形相似的文字（拉丁字母与西里尔或希腊字母"
        "：`rаtio` 中的 `а` 是西里尔字母），或使用了全角或其他兼容形式（`ｒatio`、`ﬁ`）"
        "、0-9 以外的数字，或本可用一个字符却用了字母加单独的附加符号。中文 id，以及中"
        "文与 ASCII 字母、数字和 `_` 的组合（`会员_count`）都没有问题（docs/pack-langua"
        "ge.md，§3）。",
    ),
    Code(
        "KPI-R023",
        "error",
        "Header of an unknown column",
        "A source's `headers` maps a name that is not a column of the source (its `time`, a "
        "dimension or `entity` column, or a declared `columns` entry), or maps a column to a "
        "blank header: declare the column, correct the name, or write the file's header.",
        "未知列的表头",
        "来源的 `headers` 映射了一个不是该来源的列的名称（不是它的 `time`、维度列、`ent"
        "ity` 列或 `columns` 中声明的列），或把某列映射到空白表头：请声明该列、更正名称，"
        "或写上文件中的表头。",
    ),
    Code(
        "KPI-R024",
        "error",
        "Two columns from one header",
        "A source's `headers` maps two columns to one header of the file (or maps a column to "
        "the name another column is read from as it is): map each column to a header of its own.",
        "两个列对应同一个表头",
        "来源的 `headers` 把两个列映射到文件的同一个表头（或把某列映射到另一列按原名读"
        "取的名称）：请让每个列对应自己的表头。",
    ),
    Code(
        "KPI-R025",
        "warning",
        "Label that names two things",
        "An input's or dimension's label (compared as column headers are: NFKC, trimmed, case "
        "folded) is also another input's or dimension's label or id, or a name of the period "
        "column: data rows with a column headed by it are refused (KPI-E053), so give it a "
        "label of its own.",
        "一个标签指向两样东西",
        "某个输入或维度的标签（按列表头的方式比较：NFKC 规范化、去除首尾空白、忽略大小"
        "写）同时也是另一个输入或维度的标签或 id，或是期间列的名称之一：以它为列表头的"
        "数据行会被拒绝（KPI-E053），请给它一个独有的标签。",
    ),
    Code(
        "KPI-R026",
        "error",
        "Missing translation",
        "Reported only by `kpi validate --strict-locales zh,en`: a label, description, benchmark, "
        "detail, cause, scenario or band text of the pack lacks one of the listed locales. A "
        "label left out (which shows the id) lacks every locale. Built-in packs pass with "
        "`zh,en`.",
        "缺少翻译",
        "仅由 `kpi validate --strict-locales zh,en` 报告：指标包中的某个标签、描述、基"
        "准、详情、原因、场景或区间文本缺少所列语言之一。省略的标签（显示为 id）视为缺"
        "少所有语言。内置指标包在 `zh,en` 下均能通过。",
    ),
    Code(
        "KPI-R027",
        "error",
        "Recoded into a value the column does not allow",
        "A source's `recode` reads a value of the file as one that is not among the column's "
        "declared `values` (so every such row would be refused), or names a column the source "
        "does not have: recode into one of the declared values, or correct the column's name.",
        "重新编码为该列不允许的值",
        "来源的 `recode` 把文件中的某个值读作不在该列声明的 `values` 中的值（这样每一行都"
        "会被拒绝），或者指定了来源没有的列：请编码为已声明的值之一，或更正列名。",
    ),
)
