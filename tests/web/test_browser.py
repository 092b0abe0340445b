"""The pages in a real browser: headless Chromium against a live ``kpi serve``.

Every test ends with the checks of the ``visit`` fixture: no console error, no page error,
and no request to anything but the server itself.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.web.browser import PHONE

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "metrics" / "bakery-stored-value" / "examples" / "sample.csv"


def test_catalog_locale_pack_indicator_and_a_lineage_link(visit: Any):
    page, watch = visit(locale="zh-CN")
    page.goto("/")
    assert page.locator("h1").inner_text() == "指标包目录"
    card = page.locator('li.card[data-pack="bakery-stored-value"]')
    assert "烘焙会员储值分析" in card.inner_text()
    assert card.locator(".industry").inner_text() == "bakery"

    # the switch persists: a cookie, so a fresh load of another page stays in English
    page.get_by_role("link", name="English").click()
    page.wait_for_url("**/")
    assert page.locator("h1").inner_text() == "Pack catalog"
    page.fill("#q", "bakery")
    page.press("#q", "Enter")
    page.wait_for_url("**/?q=bakery")
    assert page.locator("li.card").count() == 1

    page.get_by_role("link", name="Bakery member stored-value analysis").click()
    page.wait_for_url("**/packs/bakery-stored-value")
    assert page.locator("h1").inner_text() == "Bakery member stored-value analysis"
    math = page.locator("#m-closing_amount math").first
    assert math.bounding_box()["width"] > 50  # MathML laid out natively, not left as raw text
    assert page.locator("#m-recharge_per_visit svg.scale rect.band").count() == 2

    page.locator("#m-closing_amount h3 a").click()
    page.wait_for_url("**/packs/bakery-stored-value/metrics/closing_amount")
    assert "Closing balance" in page.locator("h1").inner_text()
    assert page.get_by_text("metrics/bakery-stored-value/funds.yaml").is_visible()
    assert page.locator(".proof").first.inner_text() in ("proved", "depends on data")

    node = page.locator('svg.graph a[href="/packs/bakery-stored-value/metrics/closing_net"]')
    node.click()
    page.wait_for_url("**/metrics/closing_net")
    assert "closing_net" in page.locator("h1").inner_text()
    assert page.locator("svg.graph .self").count() == 1
    assert watch.requests


def test_report_upload_fired_rule_and_shaded_chart(visit: Any):
    page, _ = visit()
    page.goto("/packs/bakery-stored-value/report")
    page.set_input_files("#file", str(SAMPLE))
    page.click("#upload-button")
    rule = page.locator('li[data-rule="gift_share_too_high"]').first
    rule.wait_for()
    assert "Bonus share too high" in rule.inner_text()
    assert "Adjust bonus tiers" in rule.inner_text()  # its remedy
    chart = page.locator('#chart-gift_share svg.chart[data-shaded="true"]')
    assert chart.locator("rect.band").count() >= 2 and chart.locator("polyline").count() >= 1
    assert page.locator("table.checks tr.c-fail").count() >= 1  # reported_balance, with its residual
    assert page.evaluate("document.activeElement.id") == "results-h"  # focus moves to the results

    bad = SAMPLE.read_text().replace("2026-02,S02,0,33000", "2026-02,S02,0,lots", 1)
    page.set_input_files("#file", files=[{"name": "bad.csv", "mimeType": "text/csv", "buffer": bad.encode()}])
    page.click("#upload-button")
    note = page.locator("tr.error-note")
    note.wait_for()
    assert "recharge_amount" in note.inner_text() and "'lots' is not a number" in note.inner_text()
    assert page.locator("tr.bad-row td.bad-cell").inner_text() == "lots"


def test_phone_width_and_keyboard(visit: Any):
    page, _ = visit(viewport=PHONE)
    for path in ("/", "/packs/bakery-stored-value", "/packs/bakery-stored-value/metrics/active_rate",
                 "/packs/bakery-stored-value/report?data=example"):
        page.goto(path)
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 1, (path, overflow)  # wide tables and graphs scroll inside their own box
    page.goto("/packs/bakery-stored-value")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip"
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.tagName") == "A"
