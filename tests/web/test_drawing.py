"""MathML of parsed formulas, and the geometry of band scales, lineage graphs and trend charts."""

from __future__ import annotations

import math
import random
import re
import xml.etree.ElementTree as ET
from fractions import Fraction
from typing import Any

import pytest
import sympy

from api.web.mathml import MAX_NODES, Budget, to_mathml
from api.web.svg import band_scale, lineage_graph, trend_chart
from engine.compile.expand import Expander
from engine.compile.pack import compile_pack
from engine.core.model import Band
from engine.core.model import Text as Label
from engine.formula import Text, parse_formula, symbol
from engine.formula.functions import In
from engine.render.lineage import lineage


def band(status: str, lo: float | None, hi: float | None) -> Band:
    return Band(
        status,
        None if lo is None else Fraction(lo),
        None if hi is None else Fraction(hi),
        Label((("en", status.title()),)),
        Label(),
        (),
    )


@pytest.mark.parametrize(
    ("formula", "expected"),
    [
        ("closing_net + closing_gift", "<mi>closing_net</mi><mo>+</mo><mi>closing_gift</mi>"),
        (
            "previous(closing_net, default=initial_net)",
            "<mi>previous</mi><mo>(</mo><mrow><mi>closing_net</mi><mo>,</mo><mrow><mi>default</mi><mo>=</mo>"
            "<mi>initial_net</mi></mrow></mrow><mo>)</mo>",
        ),
        ("cumulative_sum(gift_income)", "<mi>cumulative_sum</mi>"),
        ("gift_income / net_income", "<mfrac><mi>gift_income</mi><mi>net_income</mi></mfrac>"),
        (
            "if(a > 1, b, null)",
            "<mi>if</mi><mo>(</mo><mrow><mrow><mi>a</mi><mo>&gt;</mo><mn>1</mn></mrow>",
        ),
    ],
)
def test_formulas_become_mathml_with_whole_names(formula: str, expected: str):
    parsed = parse_formula(formula, expect="number")
    markup = to_mathml(parsed.expr, formula)
    assert markup is not None and expected in markup
    assert markup.startswith(f'<math alttext="{formula.replace(">", "&gt;")}">')


def test_percentages_print_as_decimals_and_relations_are_escaped():
    markup = to_mathml(parse_formula("0.01 < abs(gap) < 100", expect="condition").expr, "x")
    assert markup is not None
    assert "<mn>0.01</mn><mo>&lt;</mo>" in markup and "<mo>|</mo><mi>gap</mi><mo>|</mo>" in markup


def test_text_literals_cannot_become_markup():
    # sympy's printer writes text nodes raw; a text literal of measure mode must stay text
    expr = sympy.Eq(symbol("kind"), Text("</ms><script>alert(1)</script>&lt;"), evaluate=False)
    markup = to_mathml(expr, "kind == '…'")
    assert markup is not None
    assert "<script>" not in markup
    assert "<ms>&lt;/ms&gt;&lt;script&gt;alert(1)&lt;/script&gt;&amp;lt;</ms>" in markup
    inside = to_mathml(
        In(symbol("kind"), sympy.Tuple(Text("a<b"), Text("c"))), "kind in ('a<b', 'c')"
    )
    assert inside is not None and "<mo>&#8712;</mo>" in inside and "<ms>a&lt;b</ms>" in inside


def shown(markup: Any) -> str:
    """The MathML as a reader sees it: its tokens, a fraction as [top / bottom], x² as x^2."""

    def walk(el: ET.Element) -> str:
        kids = [walk(k) for k in el]
        if el.tag == "mfrac":
            return f"[{kids[0]} / {kids[1]}]"
        if el.tag == "msup":
            return f"{kids[0]}^{kids[1]}"
        return el.text or " ".join(kids)

    return " ".join(walk(ET.fromstring(str(markup))).split())


@pytest.mark.parametrize(
    ("formula", "expected"),
    [
        ("a - (b - c)", "a − ( b − c )"),
        ("a - (b + c)", "a − ( b + c )"),
        ("-(a - b)", "− ( a − b )"),
        ("a - (-b)", "a − ( − b )"),
        ("a * -b", "a · ( − b )"),
        ("(a + b) * c", "( a + b ) · c"),
        ("a - b / c", "a − [b / c]"),
        ("(a - b) / (c - d)", "[a − b / c − d]"),
        ("(a / b) ** 2", "( [a / b] )^2"),
        ("-a ** 2", "− a^2"),
        ("(-a) ** 2", "( − a )^2"),
        ("a > 1 and (b < 2 or c < 3)", "a > 1 ∧ ( b < 2 ∨ c < 3 )"),
        ("not (a > b)", "¬ ( a > b )"),
        ("a - 1 >= -(b + c)", "a − 1 ≥ − ( b + c )"),
    ],
)
def test_mathml_keeps_the_brackets_the_formula_needs(formula: str, expected: str):
    kind = "condition" if any(op in formula for op in "<>") else "number"
    assert shown(to_mathml(parse_formula(formula, expect=kind).expr, formula)) == expected


_BACK = {"−": "-", "·": "*"}


def _as_formula(el: ET.Element) -> str:
    """MathML of a number formula back to formula text (a fraction and a power in full brackets)."""
    kids = [_as_formula(k) for k in el]
    if el.tag == "mfrac":
        return f"({kids[0]}) / ({kids[1]})"
    if el.tag == "msup":
        return f"({kids[0]}) ** ({kids[1]})"
    if el.tag == "mo":
        return _BACK.get(el.text or "", el.text or "")
    text = el.text or " ".join(kids)
    return re.sub(r"\b(n|default) = ", r"\1=", text)


def test_every_built_in_formula_and_expansion_reads_back_as_itself():
    # the brackets drawn are the ones needed: reading the MathML back as a formula gives the same
    # values (random inputs) as the formula itself, for every indicator and every expansion
    rng = random.Random(7)
    for pack in ("bakery-stored-value", "membership-core"):
        c = compile_pack(pack)
        expander = Expander(c.metrics, c.graph)
        exprs = [s.parsed.expr for s in c.metrics.values()]
        exprs += [e for e in (expander.metric(m) for m in c.pack.metrics) if e is not None]
        for expr in exprs:
            markup = to_mathml(expr, "x")
            assert markup is not None
            back = parse_formula(_as_formula(ET.fromstring(str(markup))), expect="number").expr
            values = {
                s: sympy.Rational(rng.randint(1, 97), rng.randint(1, 13))
                for s in expr.free_symbols | back.free_symbols
            }
            assert sympy.simplify(back.xreplace(values) - expr.xreplace(values)) == 0, (
                pack,
                str(markup),
            )


def test_a_page_budget_turns_formulas_into_text_past_it():
    budget = Budget(10)
    small = parse_formula("a + b", expect="number").expr  # 3 nodes
    assert to_mathml(small, "a + b", budget) is not None and budget.left == 7
    # 8 nodes
    assert to_mathml(parse_formula("a * b + c * d + e", expect="number").expr, "…", budget) is None
    assert to_mathml(small, "a + b", budget) is None  # nothing after the first that did not fit
    assert to_mathml(small, "a + b") is not None  # without a budget: only the size cap


def test_large_trees_fall_back_to_text():
    expr = sympy.Add(*[symbol(f"x{i}") for i in range(MAX_NODES + 5)], evaluate=False)
    assert to_mathml(expr, "x0 + …") is None


def test_band_scale_places_bounds_and_open_ends():
    scale = band_scale(
        [band("good", 150, 200), band("critical", None, 100)], "currency", 2, "en", width=600
    )
    assert scale is not None
    good, critical = scale["segments"]
    assert [t["text"] for t in scale["ticks"]] == ["100.00", "150.00", "200.00"]
    # 100..200 spans the middle, the open low end is drawn a quarter of the span further left
    assert critical["x"] == 10 and good["x"] + good["w"] == pytest.approx(590, abs=0.2)
    assert good["x"] > critical["x"] + critical["w"]  # the gap 100..150 belongs to no band
    assert band_scale([], "number", None, "en") is None


def test_trend_chart_shades_bands_behind_the_lines():
    chart = trend_chart(
        ["2026-01", "2026-02", "2026-03"],
        {"S01": [0.1, None, 0.3], "S02": [0.2, 0.25, 0.22]},
        [band("good", None, 0.2), band("critical", 0.2, None)],
        "percent",
        1,
        "en",
    )
    assert chart is not None
    assert [s["status"] for s in chart["stripes"]] == ["good", "critical"]
    good, critical = chart["stripes"]
    assert good["y"] == pytest.approx(critical["y"] + critical["h"], abs=0.2)  # they meet at 20%
    s01, s02 = chart["lines"]
    assert len(s01["paths"]) == 2 and len(s02["paths"]) == 1  # a gap where the value is missing
    assert s01["points"][0]["title"] == "S01 2026-01: 10.0%"
    assert trend_chart(["2026-01"], {"S01": [None]}, [], "number", None, "en") is None


def test_lineage_graph_puts_inputs_before_what_uses_them():
    c = compile_pack("bakery-stored-value")
    info = lineage(c, "closing_amount", "en")
    labels = {n["id"]: n["label"] for n in info["upstream"]["nodes"]}
    g = lineage_graph(c.graph.graph, info, labels)
    assert g is not None
    x = {n["id"]: n["x"] for n in g["nodes"]}
    assert set(x) == {n["id"] for n in info["upstream"]["nodes"]} | set(info["downstream"])
    assert x["closing_net"] < x["closing_amount"] < x["balance_gap"]
    assert x["net_income"] < x["closing_net"]
    assert [n["id"] for n in g["nodes"] if n["self"]] == ["closing_amount"]
    assert any(e["lagged"] for e in g["edges"])  # opening_net = previous(closing_net)


def _numbers(picture: Any) -> list[float]:
    """Every number in a picture's geometry (path data included)."""
    found: list[float] = []
    if isinstance(picture, dict):
        for key, value in picture.items():
            if key in ("d", "paths") or isinstance(value, dict | list):
                found += _numbers(value)
            elif isinstance(value, int | float) and not isinstance(value, bool):
                found.append(float(value))
    elif isinstance(picture, list):
        for value in picture:
            found += (
                _numbers(value)
                if isinstance(value, dict | list)
                else [float(v) for v in re.findall(r"[-+\w.]+", str(value)) if _is_number(v)]
            )
    return found


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def test_pictures_of_huge_bounds_and_values_stay_finite():
    # spans of ±1e308 overflow to infinity when subtracted: positions must not become NaN
    bands = [
        band("good", -1e308, 1e308),
        band("critical", None, -1e308),
        band("warning", 1e308, None),
    ]
    scale = band_scale(bands, "number", None, "en")
    assert scale is not None
    xs = _numbers(scale)
    assert xs and all(math.isfinite(v) for v in xs) and "nan" not in str(scale)
    good, critical, warning = scale["segments"]
    assert critical["x"] == 10 and critical["x"] < good["x"] < warning["x"] < 590
    chart = trend_chart(
        ["2026-01", "2026-02", "2026-03"],
        {"S1": [1e308, -1e308, 0.0], "S2": [1.7e308, None, -1.7e308]},
        bands,
        "number",
        None,
        "en",
    )
    assert chart is not None
    ys = _numbers(chart)
    assert (
        ys
        and all(math.isfinite(v) for v in ys)
        and "nan" not in str(chart)
        and "inf" not in str(chart)
    )
    top, bottom = chart["top"], chart["top"] + chart["plot_h"]
    assert all(top <= p["y"] <= bottom for line in chart["lines"] for p in line["points"])
    # past float
    assert band_scale([band("good", Fraction(10**400), None)], "number", None, "en") is not None
