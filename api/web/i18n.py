"""The pages' own words in both languages, and which language a visitor reads.

A visitor's choice is kept in the ``kpi_lang`` cookie (set by ``/lang``); without it, the
browser's ``Accept-Language`` decides. Packs' labels come in the pack's locales: a label
missing in the chosen one falls back to the pack's first locale.
"""

from __future__ import annotations

from starlette.requests import Request

LOCALES = ("zh", "en")
COOKIE = "kpi_lang"

_WORDS: dict[str, tuple[str, str]] = {  # key: (zh, en)
    "app": ("KPI Forge 指标库", "KPI Forge"),
    "catalog": ("指标包目录", "Pack catalog"),
    "catalog_intro": ("你可以查看的全部指标包。", "Every pack you may read."),
    "search": ("搜索", "Search"),
    "search_hint": ("按名称、编号、行业或说明搜索", "Search by name, id, industry or description"),
    "no_match": ("没有匹配的指标包。", "No pack matches."),
    "catalog_page": (
        "第 {first:,}–{last:,} 个,共 {total:,} 个指标包",
        "Packs {first:,}–{last:,} of {total:,}",
    ),
    "previous_page": ("上一页", "Previous"),
    "next_page": ("下一页", "Next"),
    "industry": ("行业", "Industry"),
    "version": ("版本", "Version"),
    "inputs": ("输入", "Inputs"),
    "metrics": ("指标", "Indicators"),
    "checks": ("校验", "Checks"),
    "rules": ("规则", "Rules"),
    "params": ("参数", "Parameters"),
    "views": ("视图", "Views"),
    "roles": ("角色", "Roles"),
    "builtin": ("内置", "built-in"),
    "public": ("公开", "public"),
    "private": ("私有", "private"),
    "not_compiled": ("此指标包当前无法编译。", "This pack does not compile at the moment."),
    "language": ("语言", "Language"),
    "skip": ("跳到正文", "Skip to content"),
    "report": ("报表", "Report"),
    "open_report": ("用数据查看报表", "See a report over data"),
    "template": ("数据模板", "Data template"),
    "template_hint": (
        "表头为列标识(kpi eval 读取的列名);第二行是一行可直接计算的示例数据。",
        "The header row holds the column ids (what kpi eval reads); row 2 is an example row "
        "that evaluates as it is.",
    ),
    "needed_columns": ("数据需要的列", "Columns the data needs"),
    "column_optional": ("可选", "optional"),
    "download_xlsx": ("下载示例数据的 Excel 报表", "Download the example data's report (Excel)"),
    "download_pasted_xlsx": ("下载为 Excel 报表", "Download as an Excel report"),
    "category_none": ("未分类", "Uncategorised"),
    "formula": ("公式", "Formula"),
    "formula_written": ("公式(原文)", "Formula as written"),
    "formula_words": ("公式(名称)", "In words"),
    "expanded": ("展开到输入", "Expanded to inputs"),
    "unit": ("单位", "Unit"),
    "direction": ("方向", "Direction"),
    "higher_is_better": ("越高越好", "higher is better"),
    "lower_is_better": ("越低越好", "lower is better"),
    "in_range": ("区间内为好", "best within a range"),
    "bands": ("基准区间", "Bands"),
    "benchmark": ("行业基准", "Benchmark"),
    "used_by_rules": ("使用它的规则", "Rules that use it"),
    "remedies": ("解决方案", "Remedies"),
    "causes": ("可能原因", "Causes"),
    "in_views": ("所在视图", "In views"),
    "for_roles": ("关注的角色", "Roles that focus on it"),
    "lineage": ("血缘", "Lineage"),
    "lineage_graph": ("血缘图(上游与下游)", "Lineage graph (upstream and downstream)"),
    "graph_too_large": (
        "图过大,仅列出节点。",
        "The graph is too large to draw; its nodes are listed.",
    ),
    "upstream": ("上游", "Upstream"),
    "downstream": ("下游(使用它的指标)", "Downstream (indicators that use it)"),
    "defined_in": ("定义位置", "Defined in"),
    "inherited_from": ("覆盖自", "Overrides the definition of"),
    "source": ("出处", "Source"),
    "proofs": ("相关校验的证明状态", "Proof status of the checks it appears in"),
    "proved": ("已证明", "proved"),
    "refuted": ("不可能成立", "refuted"),
    "depends_on_data": ("取决于数据", "depends on data"),
    "residual": ("残差", "Residual"),
    "from_ledger": ("来自原始流水", "From the raw ledger"),
    "ledger_source": ("数据源", "Source"),
    "ledger_how": ("计算方式", "How it is computed"),
    "ledger_columns": ("读取的列", "Columns read"),
    "none": ("无", "none"),
    "kind_metric": ("指标", "indicator"),
    "kind_input": ("输入", "input"),
    "kind_param": ("参数", "parameter"),
    "kind_builtin": ("内置量", "built-in"),
    "report_title": ("报表", "Report"),
    "data": ("数据", "Data"),
    "example_data": ("示例数据", "Example data"),
    "use_example": ("使用示例数据", "Use the example data"),
    "upload": ("上传 CSV 或 Excel", "Upload a CSV or Excel file"),
    "upload_button": ("上传并计算", "Upload and evaluate"),
    "upload_hint": (
        "首行为表头:period、维度列与输入列。CSV 可为 UTF-8、UTF-16 或 GBK;Excel 读取第一个工作表。",
        "Header row first: period, dimension columns and inputs. CSV in UTF-8, UTF-16 or GBK; "
        "of an .xlsx workbook, the first sheet.",
    ),
    "paste": ("或粘贴 CSV 文本", "Or paste CSV text"),
    "paste_button": ("计算粘贴的数据", "Evaluate the pasted data"),
    "needs_js": (
        "上传文件需要 JavaScript;也可以粘贴 CSV 文本。",
        "Uploading a file needs JavaScript; you can paste CSV text instead.",
    ),
    "uploading": ("上传中", "Uploading"),
    "grain": ("粒度", "Grain"),
    "by": ("按维度", "By"),
    "totals": ("合计(不分维度)", "Totals (no dimension)"),
    "view": ("视图", "View"),
    "all_metrics": ("全部指标", "All indicators"),
    "apply": ("应用", "Apply"),
    "values_title": ("指标值", "Values"),
    "period": ("期间", "Period"),
    "fired_rules": ("触发的规则", "Rules that fired"),
    "no_rules": ("没有规则触发。", "No rule fired."),
    "check_results": ("校验结果", "Checks"),
    "status": ("状态", "Status"),
    "pass": ("通过", "pass"),
    "fail": ("未通过", "fail"),
    "skipped": ("跳过", "skipped"),
    "trends": ("趋势", "Trends"),
    "warnings": ("提示", "Notes"),
    "error": ("出错了", "Something went wrong"),
    "upload_error": ("数据有误", "The data has errors"),
    "row": ("行", "row"),
    "column": ("列", "column"),
    "hint": ("提示", "hint"),
    "no_example": ("此指标包没有示例数据。", "This pack has no example data."),
    "back_catalog": ("返回目录", "Back to the catalog"),
    "good": ("良好", "good"),
    "fair": ("一般", "fair"),
    "warning": ("警告", "warning"),
    "critical": ("严重", "critical"),
    "severity": ("级别", "Severity"),
    "undefined": ("无值", "no value"),
    "focus": ("关注指标", "Focus"),
    "scenarios": ("场景", "Scenarios"),
    "description": ("说明", "Description"),
    "indicators_of": ("指标一览", "Indicators"),
    "inputs_params": ("输入与参数", "Inputs and parameters"),
    "line": ("行", "line"),
    "file": ("文件", "file"),
    "pack": ("指标包", "pack"),
    "legend": ("图例", "Legend"),
    "chart_of": ("趋势图", "Trend of"),
    "value": ("值", "Value"),
    "api_json": ("JSON(API)", "JSON (API)"),
    "info": ("提示", "info"),
    "extends": ("扩展自", "extends"),
    "breadcrumb": ("导航路径", "Breadcrumb"),
    "ident": ("编号", "id"),
    "grain_day": ("日", "day"),
    "grain_week": ("周", "week"),
    "grain_month": ("月", "month"),
    "grain_quarter": ("季度", "quarter"),
    "grain_year": ("年", "year"),
    "grain_all": ("全部时间", "all time"),
    "as_of": ("数据截至", "Data as of"),
    "as_of_hint": ("留空:按数据的最后一天", "empty: the data's last day"),
    "partial_note": (
        "数据截至 {day};标 * 的周期尚未结束(按截至日计算)",
        "Data as of {day}; periods marked * are not over (measured up to that day)",
    ),
    "partial_period": ("未结束的周期", "period not over"),
    "implausible": ("不合理值", "implausible value"),
    "band_remedies": ("对应的解决方案", "Remedies for this band"),
    "capped_tables": (
        "只显示前 {shown} 个维度成员的表格(共 {total:,} 个)。",
        "Tables are shown for the first {shown} of {total:,} members.",
    ),
    "capped_lines": (
        "每张趋势图只画前 {shown} 个维度成员(共 {total:,} 个)。",
        "Each trend chart draws the first {shown} of {total:,} members.",
    ),
    "capped_periods": (
        "只显示最近的 {shown} 个期间(共 {total:,} 个)。",
        "Only the latest {shown} of {total:,} periods are shown.",
    ),
    "capped_fired": (
        "只列出前 {shown} 条触发的规则(共 {total:,} 条)。",
        "The first {shown} of {total:,} fired rules are listed.",
    ),
    "capped_checks": (
        "只列出前 {shown} 条校验结果(共 {total:,} 条,未通过的在前)。",
        "The first {shown} of {total:,} check results are listed (failures first).",
    ),
    "capped_rest": (
        "查看全部:在“按维度”中选择“合计”(by=-),或调用 JSON API:POST /v1/packs/{pack}/evaluate。",
        "For all of it, choose totals (By: Totals, by=-) or ask the JSON API: "
        "POST /v1/packs/{pack}/evaluate.",
    ),
    "attention": ("需要关注", "Needs attention"),
    "attention_none": (
        "没有需要关注的问题:没有规则触发。",
        "Nothing needs attention: no rule fired.",
    ),
    "attention_none_view": ("此视图中没有规则触发。", "No rule fired in this view."),
    "condition": ("条件", "condition"),
    "where": ("其中", "where"),
    "empty_metrics": (
        "{n} 个指标在这份数据上没有值:",
        "{n} indicators have no value for this data:",
    ),
    "why": ("原因", "why"),
    "outside_view": (
        "另有 {n} 条规则在此视图之外触发。",
        "{n} more rules fired outside this view.",
    ),
    "show_them": ("查看这些规则", "Show them"),
    "outside_title": ("在此视图之外触发的规则", "Rules that fired outside this view"),
    "upload_failed": ("上传没有得到结果", "The upload got no results"),
    "network_error": ("网络错误:服务器没有应答。", "Network error: the server did not answer."),
    "error_400": ("请求无法读取", "The request cannot be read"),
    "error_401": ("需要有效的令牌", "A valid token is needed"),
    "error_404": ("没有这个页面", "There is no such page"),
    "error_405": ("此地址不支持这种请求", "This address does not take that request"),
    "error_422": ("地址中的参数无效", "The address has parameters that are not valid"),
}


def words(locale: str) -> dict[str, str]:
    """Every UI word in ``locale`` (zh or en)."""
    index = 0 if locale == "zh" else 1
    return {key: pair[index] for key, pair in _WORDS.items()}


def chosen(request: Request) -> str:
    """The visitor's language: the cookie, else Accept-Language, else Chinese."""
    cookie = request.cookies.get(COOKIE)
    if cookie in LOCALES:
        return cookie
    return from_accept(request.headers.get("accept-language", ""))


def from_accept(header: str) -> str:
    """The language of ``Accept-Language`` with the highest weight (``q``), the first on a tie;
    Chinese when it names neither. ``zh;q=0.1, en;q=0.9`` is English."""
    best, best_q = "zh", 0.0
    for part in header.lower().split(",")[:50]:
        tag, *params = (p.strip() for p in part.split(";"))
        q = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        locale = next((loc for loc in LOCALES if tag == loc or tag.startswith(loc + "-")), None)
        if locale is not None and 0 < q <= 1 and q > best_q:
            best, best_q = locale, q
    return best
