"""The Excel report (engine/render/workbook.py, docs/excel.md), opened with openpyxl and compared
cell by cell with the evaluation's JSON on the bakery example data (stores-24m.csv), plus
hand-picked cells, the formula subset and hostile text."""

from __future__ import annotations

import io
import math
import re
import zipfile
from functools import cache
from typing import Any

import openpyxl
import pytest
from openpyxl.workbook.workbook import Workbook

from engine.compile.pack import check_text, compile_pack
from engine.core.errors import InputError
from engine.evaluate.evaluation import Evaluation, evaluate, read_table
from engine.load.library import BUILTIN_ROOT, PackLibrary
from engine.render import workbook as workbook_module
from engine.render.workbook import BAND_FILLS, render_workbook, sheet_name

BAKERY = "bakery-stored-value"
DATA = BUILTIN_ROOT / BAKERY / "examples" / "stores-24m.csv"
REF = re.compile(r"\b([A-Z]{1,3})([0-9]+)\b")


@cache
def _bakery(locale: str) -> tuple[Evaluation, dict[str, Any], bytes]:
    c = compile_pack(BAKERY, PackLibrary([BUILTIN_ROOT]))
    result = evaluate(c, read_table(DATA), locale=locale)
    return result, result.to_json(), render_workbook(result)


def _open(data: bytes, values: bool) -> Workbook:
    return openpyxl.load_workbook(io.BytesIO(data), data_only=values)


def _columns(ws: Any) -> dict[str, int]:
    """Column id (row 2) → column number."""
    return {c.value: c.column for c in ws[2] if c.value}


def _key(ws: Any, row: int) -> tuple[Any, ...]:
    return ws.cell(row, 1).value, ws.cell(row, 2).value


TOKEN = re.compile(r"\s*(?:([A-Z]{1,3}[0-9]+)|([0-9.]+(?:E[-+]?[0-9]+)?)|(.))")


def _excel(formula: str, sheet: Any) -> float | str:
    """A formula of the subset the writer emits, computed as Excel computes it: ``IFERROR(x,"")``
    around ``+ - * /``, unary minus, parentheses, cells and numbers, left to right, negation
    binding tightest (a small parser of the test's own: nothing is eval'd)."""
    text = formula[1:]
    guarded = text.startswith("IFERROR(") and text.endswith(',"")')
    if guarded:
        text = text[len("IFERROR(") : -len(',"")')]
    tokens = [m.groups() for m in TOKEN.finditer(text)]
    pos = 0

    def atom() -> float:
        nonlocal pos
        ref, number, op = tokens[pos]
        pos += 1
        if ref:
            value = sheet[ref].value
            assert isinstance(value, float)
            return value
        if number:
            return float(number)
        if op == "-":
            return -atom()
        assert op == "(", text
        value = expression()
        assert tokens[pos][2] == ")"
        pos += 1
        return value

    def term() -> float:
        nonlocal pos
        value = atom()
        while pos < len(tokens) and tokens[pos][2] in ("*", "/"):
            op = tokens[pos][2]
            pos += 1
            right = atom()
            value = value * right if op == "*" else value / right  # ZeroDivisionError: #DIV/0!
        return value

    def expression() -> float:
        nonlocal pos
        value = term()
        while pos < len(tokens) and tokens[pos][2] in ("+", "-"):
            op = tokens[pos][2]
            pos += 1
            right = term()
            value = value + right if op == "+" else value - right
        return value

    try:
        value = expression()
    except ZeroDivisionError:
        if guarded:
            return ""
        raise
    assert pos == len(tokens), text
    return value


def test_sheets_are_the_views_then_values_rules_checks_lineage_in_the_chosen_locale():
    _, _, data = _bakery("zh")
    book = _open(data, values=True)
    assert book.sheetnames == [
        *("会员增长", "会员活跃度", "会员价值", "客户行为(RFM)", "会员流失与留存"),
        *("满意度与口碑", "客户互动与参与度", "日报关注", "周报分析", "月报总结", "资金安全"),
        # the bakery's own 会员增长 view repeats the label of membership-core's
        *("会员增长 (2)", "运营效率", "营销效果"),
        *("全部数值", "触发的规则", "检查", "指标血缘"),
    ]
    _, _, english = _bakery("en")
    names = _open(english, values=True).sheetnames
    assert names[-4:] == ["All values", "Rules fired", "Checks", "Lineage"]
    assert "Monthly report" in names and "Customer behaviour (RFM)" in names
    ws = book["月报总结"]
    assert [c.value for c in ws[1]] == [
        "期间",
        "门店",
        "资金周转率",
        "月均会员流失率",
        "月均人均消费金额",
        "月均充值消费金额转化率",
    ]
    assert [c.value for c in ws[2]] == [
        None,
        "store",
        "fund_turnover",
        "churn_rate",
        "consume_per_visit",
        "consume_to_recharge_ratio",
    ]


def test_every_value_cell_is_the_evaluations_value_and_every_band_its_fill():
    result, body, data = _bakery("zh")
    values, formulas = _open(data, values=True), _open(data, values=False)
    pack = result.plan.compiled.pack
    checked = filled = 0
    for name in values.sheetnames[:-3]:  # the value sheets
        ws, wf = values[name], formulas[name]
        columns = _columns(ws)
        assert ws.max_row == 2 + len(body["rows"]) == 122
        for i, row in enumerate(body["rows"]):
            r = i + 3
            assert _key(ws, r) == (row["period"], row["dims"]["store"])
            for ident, col in columns.items():
                if ident == "store":
                    continue
                cell = ws.cell(r, col)
                if ident in row["values"]:
                    expected = row["values"][ident]
                else:  # an input: the JSON lists metrics only
                    exact = float(result.values(ident)[i])
                    expected = exact if math.isfinite(exact) else None
                assert cell.value == expected, (name, cell.coordinate, ident)
                band = row["bands"].get(ident)
                fill = wf.cell(r, col).fill
                if band is None:
                    assert fill.fill_type is None, (name, cell.coordinate)
                else:
                    assert fill.fgColor.rgb == "FF" + BAND_FILLS[band["status"]]
                    filled += 1
                if ident in pack.metrics and expected is not None:
                    assert cell.number_format != "General" or pack.metrics[ident].decimals is None
                checked += 1
    assert checked > 10_000 and filled > 1_000


def test_formula_cells_read_the_cells_of_their_metrics_formula_on_their_row():
    result, body, data = _bakery("zh")
    wf, wv = _open(data, values=False)["全部数值"], _open(data, values=True)["全部数值"]
    columns = _columns(wf)
    ids = {openpyxl.utils.get_column_letter(col): ident for ident, col in columns.items()}
    formulas = {m: s for m, s in result.plan.compiled.metrics.items()}
    count = 0
    for row in wf.iter_rows(min_row=3):
        for cell in row:
            if not (isinstance(cell.value, str) and cell.value.startswith("=")):
                continue
            count += 1
            metric = ids[cell.column_letter]
            refs = REF.findall(cell.value)
            assert {int(n) for _, n in refs} == {cell.row}  # cells of its own row only
            read = {ids[letter] for letter, _ in refs}
            assert read == set(formulas[metric].names) - set(result.plan.params)
            # the cached value is the engine's value, exactly
            assert wv[cell.coordinate].value == body["rows"][cell.row - 3]["values"][metric]
            # and Excel computing the formula over the cells gets that value again, exactly
            assert _excel(cell.value, wv) == wv[cell.coordinate].value, cell.value
    assert count == 3958  # the cells of 36 metrics that are plain arithmetic of their row


def test_hand_picked_cells():
    _, _, data = _bakery("zh")
    wf, wv = _open(data, values=False), _open(data, values=True)
    all_f, all_v = wf["全部数值"], wv["全部数值"]
    col = _columns(all_f)
    letter = {k: openpyxl.utils.get_column_letter(v) for k, v in col.items()}
    # 2025-01, S01: cac = marketing_spend / new_members = 13220 / 187
    cac = all_f.cell(3, col["cac"])
    assert cac.value == f'=IFERROR({letter["marketing_spend"]}3/{letter["new_members"]}3,"")'
    assert all_v.cell(3, col["cac"]).value == 13220 / 187 == 70.6951871657754
    assert cac.number_format == "#,##0.00"  # currency: 2 places
    # gift_share = gift_income / net_income = 16399 / 67585: warning (利润承压) from 20%
    share = all_f.cell(3, col["gift_share"])
    assert share.value == f'=IFERROR({letter["gift_income"]}3/{letter["net_income"]}3,"")'
    assert all_v.cell(3, col["gift_share"]).value == 16399 / 67585
    assert share.number_format == "0.0%" and share.fill.fgColor.rgb == "FFFFF1D6"
    # retention = (total_members - new_members) / members_at_start, a subtraction
    retention = all_f.cell(3, col["retention_rate"]).value
    assert retention == (
        f"=IFERROR(({letter['total_members']}3-{letter['new_members']}3)"
        f'/{letter["members_at_start"]}3,"")'
    )
    assert all_v.cell(3, col["retention_rate"]).value == (2481 - 187) / 2400
    # churn_rate divides by `periods` (a built-in): a value, green (健康)
    churn = all_f.cell(3, col["churn_rate"])
    assert churn.value == 106 / 1 / ((2400 + 2481) / 2)
    assert churn.fill.fgColor.rgb == "FFE3F2E4"
    # on the weekly view, gift_share's inputs are not on the sheet: a value, not a formula
    weekly = wf["周报分析"]
    assert weekly.cell(3, _columns(weekly)["gift_share"]).value == 16399 / 67585
    # returning_members is not in the data: null is an empty cell
    assert all_v.cell(3, col["returning_members"]).value is None


def test_rules_sheet_lists_every_fired_rule_with_its_texts():
    _, body, data = _bakery("zh")
    ws = _open(data, values=True)["触发的规则"]
    assert [c.value for c in ws[1]] == [
        *("期间", "门店", "规则", "名称", "级别", "指标", "数值", "可能原因", "改进措施", "负责方")
    ]
    expected = [
        (
            row["period"],
            row["dims"]["store"],
            rule["id"],
            rule["label"],
            rule["severity"],
            "\n".join(rule["causes"]),
            "\n".join(r["label"] for r in rule["remedies"]),
        )
        for row in body["rows"]
        for rule in row["rules"]
    ]
    got = [
        (r[0], r[1], r[2], r[3], r[4], r[7] or "", r[8] or "")
        for r in ws.iter_rows(min_row=3, values_only=True)
    ]
    assert got == expected and len(got) == 227
    first = next(ws.iter_rows(min_row=3, max_row=3, values_only=True))
    assert first[:7] == (
        "2025-01",
        "S01",
        "gift_share_too_high",
        "赠送占比过高，利润承压",
        "warning",
        "赠送占比",
        16399 / 67585,
    )
    assert first[9] == "marketing"  # the remedies' owner


def test_checks_sheet_has_every_check_of_every_row_with_its_residual():
    _, body, data = _bakery("en")
    ws = _open(data, values=True)["Checks"]
    expected = [
        (row["period"], row["dims"]["store"], c["id"], c["severity"], c["status"], c["residual"])
        for row in body["rows"]
        for c in row["checks"]
    ]
    got = [(r[0], r[1], r[2], r[4], r[5], r[6]) for r in ws.iter_rows(min_row=3, values_only=True)]
    assert got == expected and len(got) == 120 * 5
    assert got[0] == ("2025-01", "S01", "member_flow", "warning", "undefined", None)
    assert got[1] == ("2025-01", "S01", "balance_identity", "critical", "pass", 0.0)
    assert {status for *_, status, _ in got} >= {"pass", "undefined"}
    # the example's one gap: S01 reports a closing balance 0.60 off in 2026-03 (row 14, 3rd check)
    assert got[14 * 5 + 2] == ("2026-03", "S01", "reported_balance", "critical", "fail", 0.6)
    assert ws.cell(3 + 14 * 5 + 2, 6).fill.fgColor.rgb == "FFFDE4E4"  # fail: red


def test_lineage_sheet_gives_each_metrics_formula_down_to_inputs():
    _, _, data = _bakery("en")
    ws = _open(data, values=True)["Lineage"]
    rows = {r[0]: r for r in ws.iter_rows(min_row=3, values_only=True)}
    churn = rows["churn_rate"]
    assert churn[2] == "metric" and churn[4] == "churned_members / periods / avg_members"
    assert churn[6] == "churned_members / periods / ((opening_members + closing_members) / 2)"
    assert churn[7] == "churned_members, closing_members, opening_members"
    assert churn[10] == "metrics/bakery-stored-value/members.yaml:77"
    assert rows["recharge_amount"][2] == "input"


def _small(text: str) -> Any:
    c, problems = check_text(text, library=PackLibrary([]))
    assert c is not None, [p.render_short() for p in problems]
    return c


SMALL = (
    "pack: small\nversion: '1.0.0'\ntitle: T\nlocales: [en]\ndimensions: {store: {label: Store}}\n"
    "params: {k: {label: K, value: 2.5}}\n"
    "inputs: {sales: {label: Sales}, cost: {label: Cost}}\n"
    "metrics:\n"
    "  margin: {label: Margin, formula: sales - cost}\n"
    "  ratio: {label: Ratio, formula: sales / cost, format: percent}\n"
    "  scaled: {label: Scaled, formula: sales * k}\n"
    "  negated: {label: Negated, formula: -(sales + cost)}\n"
    "  share: {label: Share, formula: margin / (sales * cost)}\n"
    "  guarded: {label: Guarded, formula: 'if(cost > 0, sales / cost, 0)'}\n"
    "  before: {label: Before, formula: previous(sales)}\n"
    "  third: {label: Third, formula: sales / 3}\n"
    "  precise: {label: Precise, formula: sales * 0.1234567890123456}\n"
)


def test_the_formula_subset_and_its_fallbacks():
    c = _small(SMALL)
    rows = [
        {"period": "2026-01", "store": "A", "sales": 10.0, "cost": 4.0},
        {"period": "2026-01", "store": "B", "sales": 3.0, "cost": 0.0},
    ]
    data = render_workbook(evaluate(c, rows))
    ws, wv = _open(data, False)["All values"], _open(data, True)["All values"]
    assert [c.value for c in ws[2]][2:] == [
        *("sales", "cost", "margin", "ratio", "scaled", "negated", "share"),
        *("guarded", "before", "third", "precise"),
    ]
    a = [c.value for c in ws[3]]
    assert a[2:] == [
        10.0,
        4.0,
        "=C3-D3",
        '=IFERROR(C3/D3,"")',
        "=C3*2.5",  # a param is a constant
        "=-(C3+D3)",
        '=IFERROR(E3/(C3*D3),"")',
        2.5,  # if(): a value
        None,  # previous(): null in the first period
        '=IFERROR(C3/3,"")',
        10 * 0.1234567890123456,  # a constant that 15 digits do not write exactly: a value
    ]
    assert [c.value for c in wv[3]][2:] == [
        *(10.0, 4.0, 6.0, 2.5, 25.0, -14.0, 0.15, 2.5, None, 10 / 3, 10 * 0.1234567890123456)
    ]
    b = [c.value for c in ws[4]]
    # cost 0: the engine's null is an empty cell, never #DIV/0!
    assert b[2:] == [
        *(3.0, 0.0, "=C4-D4", None, "=C4*2.5", "=-(C4+D4)", None, 0.0, None),
        *('=IFERROR(C4/3,"")', 3 * 0.1234567890123456),
    ]
    assert ws["F3"].number_format == "0.0%"
    for cell in (c for row in ws.iter_rows(min_row=3) for c in row):
        if isinstance(cell.value, str) and cell.value.startswith("="):
            assert _excel(cell.value, wv) == wv[cell.coordinate].value, cell.coordinate


def test_text_from_the_data_is_never_a_formula():
    c = _small(SMALL)
    hostile = ['=HYPERLINK("http://x","y")', "+1", "@SUM(A1)", "-x", "a\x07b"]
    rows = [{"period": "2026-01", "store": s, "sales": 1.0, "cost": 2.0} for s in hostile]
    data = render_workbook(evaluate(c, rows))
    ws = _open(data, False)["All values"]
    stores = {ws.cell(r, 2).value: ws.cell(r, 2).data_type for r in range(3, 8)}
    assert stores == {
        '=HYPERLINK("http://x","y")': "s",
        "+1": "s",
        "@SUM(A1)": "s",
        "-x": "s",
        "a\ufffdb": "s",  # a control character XML cannot hold
    }
    sheet = zipfile.ZipFile(io.BytesIO(data)).read("xl/worksheets/sheet1.xml").decode()
    assert "<f>HYPERLINK" not in sheet
    assert re.search(r'<c r="B[0-9]" t="inlineStr"><is><t>=HYPERLINK\("http://x","y"\)</t>', sheet)


@pytest.mark.parametrize(
    ("title", "taken", "name"),
    [
        ("a/b:c*d?e[f]g\\h", set(), "a_b_c_d_e_f_g_h"),
        ("'quoted'", set(), "quoted"),
        ("", set(), "Sheet"),
        ("x" * 40, set(), "x" * 31),
        ("Rules", {"rules"}, "Rules (2)"),
        ("x" * 40, {"x" * 31}, "x" * 27 + " (2)"),
        ("会员增长", {"会员增长", "会员增长 (2)"}, "会员增长 (3)"),
    ],
)
def test_sheet_names_are_what_excel_accepts_and_unique(title: str, taken: set[str], name: str):
    assert sheet_name(title, {t.casefold() for t in taken}) == name


def test_a_result_larger_than_a_worksheet_is_an_input_error(monkeypatch: pytest.MonkeyPatch):
    c = _small(SMALL)
    rows = [{"period": f"2026-{m:02d}", "store": "A", "sales": 1.0, "cost": 2.0} for m in (1, 2)]
    result = evaluate(c, rows)
    monkeypatch.setattr(workbook_module, "MAX_ROWS", 3)  # Excel's 1,048,576, made small
    with pytest.raises(InputError) as err:
        render_workbook(result)
    assert err.value.code == "KPI-E059" and "at most 3 rows" in str(err.value)


def test_values_keep_every_digit():
    c = _small(SMALL)
    rows = [{"period": "2026-01", "store": "A", "sales": 0.1, "cost": -0.2}]
    data = render_workbook(evaluate(c, rows))
    wv = _open(data, True)["All values"]
    # openpyxl alone writes 16 significant digits: 0.30000000000000004 would read back as 0.3
    assert wv["C3"].value == 0.1 and wv["E3"].value == 0.1 + 0.2 == 0.30000000000000004
