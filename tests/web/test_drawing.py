"""MathML of parsed formulas, and the geometry of band scales, lineage graphs and trend charts."""

from __future__ import annotations

from fractions import Fraction

import pytest
import sympy

from api.web.mathml import MAX_NODES, to_mathml
from api.web.svg import band_scale, lineage_graph, trend_chart
from engine.compile import compile_pack
from engine.formula import Text, parse_formula, symbol
from engine.formula.functions import In
from engine.lineage import lineage
from engine.model import Band
from engine.model import Text as Label


def band(status: str, lo: float | None, hi: float | None) -> Band:
    return Band(status, None if lo is None else Fraction(lo), None if hi is None else Fraction(hi),
                Label((("en", status.title()),)), Label(), ())


@pytest.mark.parametrize(("formula", "expected"), [
    ("closing_net + closing_gift", "<mi>closing_net</mi><mo>+</mo><mi>closing_gift</mi>"),
    ("previous(closing_net, default=initial_net)",
     "<mi>previous</mi><mo>(</mo><mrow><mi>closing_net</mi><mo>,</mo><mrow><mi>default</mi><mo>=</mo>"
     "<mi>initial_net</mi></mrow></mrow><mo>)</mo>"),
    ("cumulative_sum(gift_income)", "<mi>cumulative_sum</mi>"),
    ("gift_income / net_income", "<mfrac><mi>gift_income</mi><mi>net_income</mi></mfrac>"),
    ("if(a > 1, b, null)", "<mi>if</mi><mo>(</mo><mrow><mrow><mi>a</mi><mo>&gt;</mo><mn>1</mn></mrow>"),
])
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
    inside = to_mathml(In(symbol("kind"), sympy.Tuple(Text("a<b"), Text("c"))), "kind in ('a<b', 'c')")
    assert inside is not None and "<mo>&#8712;</mo>" in inside and "<ms>a&lt;b</ms>" in inside


def test_large_trees_fall_back_to_text():
    expr = sympy.Add(*[symbol(f"x{i}") for i in range(MAX_NODES + 5)], evaluate=False)
    assert to_mathml(expr, "x0 + …") is None


def test_band_scale_places_bounds_and_open_ends():
    scale = band_scale([band("good", 150, 200), band("critical", None, 100)], "currency", 2, "en", width=600)
    assert scale is not None
    good, critical = scale["segments"]
    assert [t["text"] for t in scale["ticks"]] == ["100.00", "150.00", "200.00"]
    # 100..200 spans the middle, the open low end is drawn a quarter of the span further left
    assert critical["x"] == 10 and good["x"] + good["w"] == pytest.approx(590, abs=0.2)
    assert good["x"] > critical["x"] + critical["w"]  # the gap 100..150 belongs to no band
    assert band_scale([], "number", None, "en") is None


def test_trend_chart_shades_bands_behind_the_lines():
    chart = trend_chart(["2026-01", "2026-02", "2026-03"], {"S01": [0.1, None, 0.3], "S02": [0.2, 0.25, 0.22]},
                        [band("good", None, 0.2), band("critical", 0.2, None)], "percent", 1, "en")
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
