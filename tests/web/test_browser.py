"""The pages in a real browser: headless Chromium against a live ``kpi serve``.

Every test ends with the checks of the ``visit`` fixture: no console error, no page error,
and no request to anything but the server itself.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.web.browser import LONG_CSV, PHONE

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
    # reported_balance, with its residual
    assert page.locator("table.checks tr.c-fail").count() >= 1
    assert page.evaluate("document.activeElement.id") == "results-h"  # focus moves to the results

    bad = SAMPLE.read_text().replace("2026-02,S02,0,33000", "2026-02,S02,0,lots", 1)
    page.set_input_files(
        "#file", files=[{"name": "bad.csv", "mimeType": "text/csv", "buffer": bad.encode()}]
    )
    page.click("#upload-button")
    note = page.locator("tr.error-note")
    note.wait_for()
    assert "recharge_amount" in note.inner_text() and "'lots' is not a number" in note.inner_text()
    assert page.locator("tr.bad-row td.bad-cell").inner_text() == "lots"


def test_report_upload_of_an_xlsx_workbook(visit: Any, tmp_path: Path):
    """The page's script sends a file named *.xlsx with the workbook media type (issue 14)."""
    import csv

    from tests.xlsx_writer import write_xlsx

    rows: list[list[object]] = []
    for i, record in enumerate(csv.reader(SAMPLE.read_text().splitlines())):
        rows.append(record if i == 0 else [*record[:2], *(float(c) for c in record[2:])])
    book = write_xlsx(tmp_path / "月报.xlsx", {"月报": rows})
    page, _ = visit()
    page.goto("/packs/bakery-stored-value/report")
    page.set_input_files("#file", str(book))
    page.click("#upload-button")
    rule = page.locator('li[data-rule="gift_share_too_high"]').first
    rule.wait_for()
    assert "Bonus share too high" in rule.inner_text()
    assert page.locator("table.checks tr.c-fail").count() >= 1


def _overflow(page: Any) -> int:
    return int(page.evaluate("document.documentElement.scrollWidth - window.innerWidth"))


def test_phone_width_and_keyboard(visit: Any):
    page, _ = visit(viewport=PHONE)
    for path in (
        "/",
        "/packs/bakery-stored-value",
        "/packs/bakery-stored-value/metrics/active_rate",
        "/packs/bakery-stored-value/report?data=example",
        # a pack of very long words, and bounds of ±1e308 (no NaN in the pictures: the
        # browser would log an error for each)
        "/packs/long-words",
        "/packs/long-words/metrics/per_visit",
        "/packs/long-words/metrics/sales",
        "/packs/long-words/report",
    ):
        page.goto(path)
        # wide tables and graphs scroll inside their own box
        assert _overflow(page) <= 1, (path, _overflow(page))
    page.set_input_files(
        "#file", files=[{"name": "long.csv", "mimeType": "text/csv", "buffer": LONG_CSV.encode()}]
    )
    page.click("#upload-button")
    page.locator("#chart-per_visit svg.chart").wait_for()
    # two member tables (the summary's heading is an h3 too, inside its own section)
    assert page.locator("#results > h3").count() == 2 and _overflow(page) <= 1
    page.goto("/packs/bakery-stored-value")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip"
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.tagName") == "A"


def test_without_the_script_the_paste_form_takes_the_options(visit: Any):
    page, _ = visit(js=False)
    page.goto("/packs/bakery-stored-value/report")
    assert (
        not page.locator("#upload-button").is_visible() and not page.locator("#file").is_visible()
    )
    page.select_option("#grain", "quarter")
    page.select_option("#by", "-")
    page.locator("#upload summary").click()
    page.fill("#csv", SAMPLE.read_text())
    page.click("#paste-button")
    page.locator("#results > h3").first.wait_for()
    assert page.locator("#results > h3").all_inner_texts() == ["Totals (no dimension)"]
    assert "Grain: quarter" in page.locator("#results-h").inner_text()
    assert page.locator("#csv").input_value().startswith("period,store,")  # the text is kept


def test_an_upload_answered_without_a_page_says_so(visit: Any):
    page, watch = visit()
    page.goto("/packs/bakery-stored-value/report")
    answers = iter(
        [
            lambda route: route.fulfill(
                status=429,
                content_type="application/problem+json",
                headers={"Retry-After": "3"},
                body='{"title": "Too many requests", "status": 429, '
                '"detail": "too many requests from this client; retry in 3 s"}',
            ),
            lambda route: route.abort(),
        ]
    )
    page.route(
        "**/packs/bakery-stored-value/report",
        lambda route: next(answers)(route) if route.request.method == "POST" else route.fallback(),
    )
    page.set_input_files("#file", str(SAMPLE))
    page.click("#upload-button")
    problem = page.locator('#results .problem[data-problem="client"]')
    problem.wait_for()
    assert problem.locator("p").all_inner_texts() == [
        "Too many requests (429)",
        "too many requests from this client; retry in 3 s",
    ]
    assert page.locator("#results-h").inner_text() == "The upload got no results"
    assert page.locator("#progress").is_hidden()
    assert page.evaluate("document.activeElement.id") == "results-h"
    page.click("#upload-button")
    page.get_by_text("Network error: the server did not answer.").wait_for()
    # the two failed loads are logged by the browser itself; nothing else may be
    assert len(watch.console_errors) == 2 and all(
        "Failed to load resource" in e for e in watch.console_errors
    )
    watch.console_errors.clear()


#: font families that hold the Chinese of the pages (web.css names them after system-ui)
CJK_FAMILIES = ("CJK", "PingFang", "YaHei", "Hei", "Song", "WenQuanYi", "Droid Sans Fallback")


def rendering_fonts(page: Any, selector: str) -> list[dict[str, Any]]:
    """The platform fonts Chromium drew ``selector``'s text with, and how many glyphs each
    (DevTools' CSS.getPlatformFontsForNode): what is on the screen, not what CSS asked for."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("DOM.enable")
    cdp.send("CSS.enable")
    root = cdp.send("DOM.getDocument")["root"]["nodeId"]
    node = cdp.send("DOM.querySelector", {"nodeId": root, "selector": selector})["nodeId"]
    fonts: list[dict[str, Any]] = cdp.send("CSS.getPlatformFontsForNode", {"nodeId": node})["fonts"]
    cdp.detach()
    return fonts


def test_chinese_pages_render_with_a_cjk_font(visit: Any):
    """Chinese text is drawn by a font that has its glyphs (fonts-noto-cjk, which make test
    installs), not as empty boxes: every glyph of the heading comes from a CJK family."""
    page, _ = visit(locale="zh-CN")
    page.goto("/packs/bakery-stored-value/report?data=example")
    heading = page.locator("#attention-h")
    assert heading.inner_text().startswith("需要关注")
    fonts = rendering_fonts(page, "#attention-h")
    han = sum(1 for ch in heading.inner_text() if "\u4e00" <= ch <= "\u9fff")
    cjk = [f for f in fonts if any(name in f["familyName"] for name in CJK_FAMILIES)]
    assert cjk, (
        f"no CJK font draws the Chinese heading (fonts used: {fonts}); install fonts-noto-cjk"
    )
    assert sum(f["glyphCount"] for f in cjk) >= han == 4, fonts
    # and the glyphs are real: four Chinese characters are about 4 em wide; without a CJK font
    # Chromium draws a narrow box for each (1.43 em for the four, measured with fontconfig
    # limited to DejaVu and Liberation)
    width = page.evaluate(
        """() => { const s = document.createElement('span'); s.textContent = '需要关注';
        document.querySelector('#attention-h').append(s);
        const w = s.getBoundingClientRect().width / parseFloat(getComputedStyle(s).fontSize);
        s.remove(); return w; }"""
    )
    assert 3.5 <= width <= 4.5, width
