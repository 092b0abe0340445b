"""The pages over the app in-process (no browser): who sees what, escaping, headers, errors.

Visibility is the API's: the catalog page lists what ``GET /v1/packs`` lists for the same
caller, and a private pack is a 404 page for anyone but its owner.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient
from markupsafe import escape

from api.server import Settings, create_app
from api.server.registry import Registry
from api.web import i18n, mathml, report, views
from tests.api.http.conftest import YAML, bearer

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = (ROOT / "metrics" / "bakery-stored-value" / "examples" / "sample.csv").read_bytes()
EVIL = """\
pack: evil-pack
version: 1.0.0
title: {en: "<script>alert('t')</script> Evil", zh: "<img src=x onerror=alert(1)>"}
description: {en: "</textarea><script>alert(2)</script>"}
industry: "<b>retail</b>"
visibility: public
locales: [en, zh]
grain: month
inputs:
  sales: {label: {en: "<svg onload=alert(3)>", zh: 销售}, unit: "<i>CNY</i>"}
  visits: {label: {en: Visits, zh: 到访}}
metrics:
  per_visit:
    label: {en: "\\"><script>alert(4)</script>", zh: 客单}
    formula: sales / visits
    category: "<script>cat</script>"
    source: "<a href=javascript:alert(5)>src</a>"
    bands:
      - {status: good, min: 10, label: {en: "<script>band</script>"}}
      - {status: critical, max: 10, label: {en: low}}
rules:
  low_ticket:
    label: {en: "<script>rule</script>"}
    when: per_visit < 5
    metric: per_visit
    causes: [{en: "<script>cause</script>"}]
"""
EN = {"Cookie": "kpi_lang=en"}


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data", rate_limit=0, eval_workers=1, eval_timeout=30)


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    app = create_app(settings)
    with TestClient(app) as c:
        yield c
    app.state.pool.close()


@pytest.fixture
def alice(settings: Settings) -> str:
    return Registry(settings.data_dir).create_key("alice")


def publish(client: TestClient, token: str, text: str) -> None:
    r = client.post("/v1/packs", content=text.encode(), headers={**YAML, **bearer(token)})
    assert r.status_code == 201, r.text


def assert_page(r: Any, status: int = 200) -> str:
    assert r.status_code == status, r.text[:500]
    assert r.headers["content-type"].startswith("text/html")
    csp = r.headers["content-security-policy"]
    assert "default-src 'none'" in csp and "script-src 'self'" in csp and "unsafe-inline" not in csp
    html: str = r.text
    assert not re.search(r"<script(?![^>]*\bsrc=\"/static/web/web\.js\")", html)  # no inline script
    assert not re.search(r"\sstyle=", html) and "<style" not in html  # no inline style either
    for url in re.findall(r"[a-z][a-z0-9+.-]*://[^\s\"'<>]*", html, flags=re.I):  # nothing external
        assert urlsplit(url).hostname in ("localhost", "127.0.0.1"), url
    for target in re.findall(
        r'\s(?:href|src|action|formaction)="([^"]*)"', html
    ):  # links stay here
        assert target.startswith(("/", "#")) and not target.startswith("//"), target
    assert (
        r.headers["x-content-type-options"] == "nosniff" and r.headers["x-frame-options"] == "DENY"
    )
    assert "/work/" not in html and "/tmp/" not in html and "Traceback" not in html
    return html


def test_catalog_lists_what_the_api_lists_and_searches(client: TestClient, alice: str):
    publish(
        client,
        alice,
        EVIL.replace("pack: evil-pack", "pack: secret-pack").replace("public", "private"),
    )
    html = assert_page(client.get("/", headers=EN))
    assert re.findall(r'data-pack="([^"]+)"', html) == [
        p["id"] for p in client.get("/v1/packs").json()["packs"]
    ]
    assert "secret-pack" not in html
    mine = assert_page(client.get("/", headers={**EN, **bearer(alice)}))
    assert 'data-pack="secret-pack"' in mine
    found = assert_page(client.get("/", params={"q": "Bakery stored"}, headers=EN))
    assert re.findall(r'data-pack="([^"]+)"', found) == ["bakery-stored-value"]
    assert "No pack matches." in assert_page(client.get("/", params={"q": "zzz"}, headers=EN))


def test_private_packs_are_a_404_page_for_others(client: TestClient, alice: str):
    publish(
        client,
        alice,
        EVIL.replace("pack: evil-pack", "pack: secret-pack").replace("public", "private"),
    )
    for path in (
        "/packs/secret-pack",
        "/packs/secret-pack/metrics/per_visit",
        "/packs/secret-pack/report",
    ):
        html = assert_page(client.get(path), 404)
        assert (
            "there is no pack &#39;secret-pack&#39;" in html
            and "sales / visits" not in html
            and "客单" not in html
        )
        r = client.get(path, headers=bearer(alice))
        assert_page(r)
        assert r.headers["cache-control"] == "private, no-cache"
    r = client.post(
        "/packs/secret-pack/report",
        content=b"period,sales,visits\n2026-01,1,1\n",
        headers={"Content-Type": "text/csv"},
    )
    assert_page(r, 404)


def test_hostile_labels_are_escaped_everywhere(client: TestClient, alice: str):
    publish(client, alice, EVIL)
    pages = [
        client.get(p, headers=EN)
        for p in (
            "/",
            "/packs/evil-pack",
            "/packs/evil-pack/metrics/per_visit",
            "/packs/evil-pack/metrics/sales",
        )
    ]
    pages.append(
        client.post(
            "/packs/evil-pack/report",
            content=b"period,sales,visits\n2026-01,4,1\n2026-02,40,2\n",
            headers={**EN, "Content-Type": "text/csv"},
        )
    )
    for r in pages:
        html = assert_page(r)
        for raw in (
            "<script>alert",
            "<img src=x",
            "<svg onload",
            "<b>retail",
            "<i>CNY",
            "<a href=javascript",
            "<script>cat",
            "<script>band",
            "<script>rule",
            "<script>cause",
            '"><script>',
        ):
            assert raw not in html, (r.url, raw)
    assert "&lt;script&gt;alert(&#39;t&#39;)&lt;/script&gt; Evil" in pages[0].text
    # the rule fired, its cause shown as text
    assert "&lt;script&gt;cause&lt;/script&gt;" in pages[-1].text


def test_pack_and_indicator_pages_show_the_pack(client: TestClient):
    html = assert_page(client.get("/packs/bakery-stored-value", headers=EN))
    assert "<mi>closing_amount</mi>" in html and "<msub>" not in html  # ids whole, not split at "_"
    block = html[html.index('id="m-recharge_per_visit"') :]
    block = block[: block.index("</article>")]
    assert (
        'class="band b-good"' in block and 'class="band b-critical"' in block and "150.00" in block
    )
    assert "Recharge tiers too low" in block and "Healthy" in block
    html = assert_page(client.get("/packs/bakery-stored-value/metrics/closing_amount", headers=EN))
    assert "metrics/bakery-stored-value/funds.yaml" in html
    assert 'href="/packs/bakery-stored-value/metrics/closing_net"' in html
    assert re.search(r'class="proof p-(proved|depends_on_data)"', html)
    assert_page(client.get("/packs/bakery-stored-value/metrics/nothing_here"), 404)


def test_language_switch_sets_a_cookie_and_stays_on_this_site(client: TestClient):
    r = client.get(
        "/lang",
        params={"to": "en", "next": "/packs/bakery-stored-value?x=1"},
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"] == "/packs/bakery-stored-value?x=1"
    assert (
        "kpi_lang=en" in r.headers["set-cookie"] and "httponly" in r.headers["set-cookie"].lower()
    )
    for bad in ("//evil.example/", "https://evil.example/", "/\\evil.example"):
        r = client.get("/lang", params={"to": "zh", "next": bad}, follow_redirects=False)
        assert r.headers["location"] == "/"
    assert "<h1>指标包目录</h1>" in assert_page(client.get("/", headers={"Cookie": "kpi_lang=zh"}))
    client.cookies.clear()
    assert "<h1>Pack catalog</h1>" in assert_page(
        client.get("/", headers={"Accept-Language": "en-GB,en"})
    )


def test_report_goes_through_the_worker_pool(client: TestClient, monkeypatch: pytest.MonkeyPatch):
    pool = client.app.state.pool  # type: ignore[attr-defined]
    jobs: list[dict[str, Any]] = []
    real = pool.run

    async def spy(job: dict[str, Any], timeout: float) -> dict[str, Any]:
        jobs.append(job)
        return await real(job, timeout)

    monkeypatch.setattr(pool, "run", spy)
    html = assert_page(
        client.get(
            "/packs/bakery-stored-value/report",
            params={"data": "example", "by": "-", "view": "monthly"},
            headers=EN,
        )
    )
    assert [(j["kind"], j["media"], j["options"]["by"], j["body"] == SAMPLE) for j in jobs] == [
        ("evaluate", "csv", [], True)
    ]
    # every rule is judged (a view narrows what the page shows, so that no fired rule is hidden)
    assert jobs[0]["options"]["metrics"] is None
    shown = re.findall(r'<th scope="row"><a href="/packs/bakery-stored-value/metrics/(\w+)"', html)
    assert shown == [
        "churn_rate",
        "consume_per_visit",
        "consume_to_recharge_ratio",
        "fund_turnover",
    ]
    assert "<h3>Totals (no dimension)</h3>" in html and 'id="chart-churn_rate"' in html
    assert 'id="chart-gift_share"' not in html


def test_the_indicator_page_goes_down_to_the_raw_ledger(client: TestClient):
    html = assert_page(client.get("/packs/bakery-stored-value/metrics/gift_share", headers=EN))
    assert '<h2 id="m-h">From the raw ledger</h2>' in html
    assert "<code>sum of gift where kind == &#39;recharge&#39; — source card_events</code>" in html


def test_the_report_takes_an_as_of_day_and_marks_periods_not_over(client: TestClient):
    html = assert_page(
        client.get(
            "/packs/bakery-stored-value/report",
            params={"data": "example", "by": "-", "as_of": "2026-05-15"},
            headers=EN,
        )
    )
    assert 'name="as_of" type="date" value="2026-05-15"' in html
    assert "Data as of 2026-05-15; periods marked * are not over" in html
    assert '<th scope="col" class="partial" title="period not over">2026-05 *' in html
    assert ">2026-06<" not in html  # after as_of: left out
    plain = assert_page(
        client.get(
            "/packs/bakery-stored-value/report",
            params={"data": "example", "as_of": "x"},
            headers=EN,
        )
    )
    # not a day: ignored, like any unknown choice
    assert 'type="date" value=""' in plain and "periods marked" not in plain


def test_upload_errors_point_at_the_row(client: TestClient):
    bad = SAMPLE.replace(b"2026-02,S02,0,33000", b"2026-02,S02,0,lots", 1)
    r = client.post(
        "/packs/bakery-stored-value/report", content=bad, headers={**EN, "Content-Type": "text/csv"}
    )
    html = assert_page(r, 422)
    assert 'data-problem="invalid-input"' in html and 'id="bad-row-4"' in html
    assert "row 4, column &#39;recharge_amount&#39;: &#39;lots&#39; is not a number" in html
    assert '<td class="bad-cell">lots</td>' in html
    api = client.post(
        "/v1/packs/bakery-stored-value/evaluate", content=bad, headers={"Content-Type": "text/csv"}
    )
    assert escape(api.json()["errors"][0]["reason"]) in html  # the same words as the API
    r = client.post(
        "/packs/bakery-stored-value/report",
        content=bad,
        headers={**EN, "Content-Type": "text/csv", "X-KPI-Results": "1"},
    )
    assert_page(r, 200)  # the page's script shows the errors in place
    r = client.post(
        "/packs/bakery-stored-value/report",
        content=b"csv=period%2Cstore%0A2026-01%2CS1%0A&go=paste",
        headers={**EN, "Content-Type": "application/x-www-form-urlencoded"},
    )
    assert "period,store" in assert_page(r)  # pasted text is kept in the form
    r = client.post(
        "/packs/bakery-stored-value/report",
        content=b"{}",
        headers={"Content-Type": "application/json"},
    )
    assert_page(r, 415)


def test_uploads_over_the_size_limit_are_refused(settings: Settings):
    app = create_app(
        Settings(data_dir=settings.data_dir, rate_limit=0, eval_workers=1, max_body_bytes=1000)
    )
    with TestClient(app) as c:
        r = c.post(
            "/packs/bakery-stored-value/report",
            content=SAMPLE,
            headers={**EN, "Content-Type": "text/csv"},
        )
        assert "the limit is 1,000" in assert_page(r, 413)
        r = c.post(
            "/packs/bakery-stored-value/report",
            content=SAMPLE,
            headers={**EN, "Content-Type": "text/csv", "X-KPI-Results": "1"},
        )
        assert 'data-problem="payload-too-large"' in assert_page(r, 200)
    app.state.pool.close()


def test_static_assets_are_served_by_the_app(client: TestClient):
    for path, kind in (
        ("/static/web/web.css", "text/css"),
        ("/static/web/web.js", "javascript"),
        ("/static/web/icon.svg", "image/svg+xml"),
    ):
        r = client.get(path)
        assert r.status_code == 200 and kind in r.headers["content-type"]
        assert (
            "http://" not in r.text.replace('xmlns="http://www.w3.org/2000/svg"', "")
            and "https://" not in r.text
        )


# -- the reviewer's findings -----------------------------------------------------------------
def test_a_large_upload_gives_a_bounded_page(client: TestClient):
    # 5,000 stores of one month: a table per store and a line per store in every chart would be
    # tens of megabytes; the page shows the first ones and says where the rest is
    header, first = SAMPLE.decode().splitlines()[:2]
    rest = first.split(",")[2:]
    rows = [",".join(["2026-01", f"S{i:05d}", *rest]) for i in range(5000)]
    body = "\n".join([header, *rows]).encode() + b"\n"
    html = assert_page(
        client.post(
            "/packs/bakery-stored-value/report",
            content=body,
            headers={**EN, "Content-Type": "text/csv"},
        )
    )
    assert len(html) < 2_000_000
    assert html.count('<table class="values">') == report.MAX_TABLES
    charts = re.findall(r'<svg class="chart".*?</svg>', html, flags=re.S)
    assert charts and max(c.count('<g class="series') for c in charts) == report.MAX_LINES
    note = html[html.index('id="capped"') :]
    note = note[: note.index("</div>")]
    assert "the first 50 of 5,000 members" in note and "by=-" in note
    assert "POST /v1/packs/bakery-stored-value/evaluate" in note
    small = assert_page(
        client.get("/packs/bakery-stored-value/report", params={"data": "example"}, headers=EN)
    )
    assert 'id="capped"' not in small  # nothing left out of a small result


def test_report_layout_and_rendering_run_off_the_event_loop(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
):
    import threading

    from api.web import pages

    threads: dict[str, str] = {}
    real_layout, real_failure, real_html = report.layout, report.failure, pages.html_text

    def spy(name: str, real: Any) -> Any:
        def call(*args: Any, **kwargs: Any) -> Any:
            threads[name] = threading.current_thread().name
            return real(*args, **kwargs)

        return call

    monkeypatch.setattr(report, "layout", spy("layout", real_layout))
    monkeypatch.setattr(report, "failure", spy("failure", real_failure))
    monkeypatch.setattr(pages, "html_text", spy("render", real_html))
    client.get("/packs/bakery-stored-value/report", params={"data": "example"})
    client.post(
        "/packs/bakery-stored-value/report",
        content=b"period,store\n2026-13,S1\n",
        headers={"Content-Type": "text/csv"},
    )
    loop = client.portal.call(lambda: threading.current_thread().name)  # type: ignore[union-attr]
    assert set(threads) == {"layout", "failure", "render"} and loop not in threads.values()


def test_balance_gap_keeps_its_brackets(client: TestClient):
    html = assert_page(client.get("/packs/bakery-stored-value/metrics/balance_gap", headers=EN))
    math = re.findall(r"<math .*?</math>", html, flags=re.S)
    expanded = next(m for m in math if "consume_amount" in m)
    # reported_closing_amount − (imported_balance + … − consume_amount)
    assert re.search(r"<mi>reported_closing_amount</mi><mo>&#8722;</mo><mrow><mo>\(</mo>", expanded)
    assert (
        "<mo>&#8722;</mo><mi>consume_amount</mi></mrow><mo>)</mo></mrow></mrow></math>" in expanded
    )
    html = assert_page(
        client.get("/packs/bakery-stored-value/metrics/balance_net_change", headers=EN)
    )
    assert html.count("<mo>&#8722;</mo><mrow><mo>(</mo>") >= 1


def test_pack_pages_are_cached_and_formulas_budgeted(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
):
    made: list[str] = []
    real = views.pack_page
    monkeypatch.setattr(
        views, "pack_page", lambda c, locale: made.append(locale) or real(c, locale)
    )
    first = assert_page(client.get("/packs/bakery-stored-value", headers=EN))
    again = assert_page(client.get("/packs/bakery-stored-value?x=1", headers=EN))
    assert first == again and made == ["en"]  # a version never changes: its page is made once
    assert "<h1>烘焙会员储值分析</h1>" in assert_page(
        client.get("/packs/bakery-stored-value", headers={"Cookie": "kpi_lang=zh"})
    )
    assert made == ["en", "zh"]
    assert first.count("<math ") > 100 and "formula-only" not in first
    # a pack of many large formulas: past the page's budget, formulas are shown as text
    monkeypatch.setattr(mathml, "PAGE_NODES", 60)
    html = assert_page(client.get("/packs/membership-core", headers=EN))
    assert 0 < html.count("<math ") < 30 and html.count('class="formula-text formula-only"') > 20


def test_band_remedies_are_shown(client: TestClient):
    html = assert_page(client.get("/packs/bakery-stored-value", headers=EN))
    block = html[html.index('id="m-recharge_per_visit"') :]
    block = block[: block.index("</article>")]
    assert 'class="band-remedies"' in block and "Add higher recharge tiers" in block
    for label in (
        "Send discount coupons to silent members",
        "Flag suspected churners by buying cycle",
    ):
        assert label in html
    page = assert_page(
        client.get("/packs/bakery-stored-value/metrics/recharge_per_visit", headers=EN)
    )
    bands = page[page.index('class="band-list"') :]
    assert "Add higher recharge tiers" in bands[: bands.index("</ul></div></li></ul>")]


def test_pasted_csv_is_evaluated_with_the_options_chosen(client: TestClient):
    page = assert_page(client.get("/packs/bakery-stored-value/report", headers=EN))
    # the text box and its button belong to the options form: grain, dimension and view go with them
    assert re.search(r'<textarea id="csv" name="csv" form="options"', page)
    assert re.search(
        r'<button type="submit" form="options" formmethod="post" '
        r'formaction="/packs/bakery-stored-value/report" id="paste-button">',
        page,
    )
    form = {"grain": "quarter", "by": "-", "view": "", "csv": SAMPLE.decode()}
    r = client.post("/packs/bakery-stored-value/report", data=form, headers=EN)
    html = assert_page(r)
    assert "<h3>Totals (no dimension)</h3>" in html and "Grain: quarter" in html
    assert '<option value="quarter" selected>' in html and '<option value="-" selected>' in html


def test_a_form_with_too_many_fields_is_a_bad_request_page(client: TestClient):
    body = "&".join(f"f{i}=1" for i in range(20))
    r = client.post(
        "/packs/bakery-stored-value/report",
        content=body,
        headers={**EN, "Content-Type": "application/x-www-form-urlencoded"},
    )
    html = assert_page(r, 400)
    assert 'data-problem="malformed-body"' in html and "more than 16 fields" in html


@pytest.mark.parametrize(
    ("method", "path", "headers", "status"),
    [
        ("GET", "/?q=" + "x" * 201, {}, 422),
        ("GET", "/packs/" + "x" * 201, {}, 422),
        ("GET", "/packs/bakery-stored-value/report?grain=" + "m" * 65, {}, 422),
        ("GET", "/packs/", {}, 404),
        ("GET", "/packs/x/metrics/", {}, 404),
        ("GET", "/nothing/here", {}, 404),
        ("GET", "/static/web/nothing.css", {}, 404),
        ("GET", "/", {"Authorization": "Basic abc"}, 401),
        ("GET", "/packs/bakery-stored-value", {"Authorization": "Bearer not-a-token"}, 401),
        ("DELETE", "/", {}, 405),
        ("POST", "/packs/bakery-stored-value", {}, 405),
    ],
)
def test_errors_on_page_addresses_are_pages(
    client: TestClient, method: str, path: str, headers: dict[str, str], status: int
):
    r = client.request(method, path, headers={**EN, **headers})
    html = assert_page(r, status)
    assert f"({status})" in html and 'role="alert"' in html
    if status == 401:
        assert r.headers["www-authenticate"].startswith("Bearer")
    if status == 405:
        assert "GET" in r.headers["allow"]


def test_api_errors_stay_problem_json_and_pages_answer_head(client: TestClient):
    for path in ("/v1/nothing-here", "/v1/packs/" + "x" * 201):
        r = client.get(path)
        assert r.headers["content-type"] == "application/problem+json", path
    for path in (
        "/",
        "/packs/bakery-stored-value",
        "/packs/bakery-stored-value/metrics/closing_amount",
        "/packs/bakery-stored-value/report",
    ):
        r = client.head(path)
        assert (
            r.status_code == 200
            and r.headers["content-type"].startswith("text/html")
            and r.content == b""
        )
        assert "default-src 'none'" in r.headers["content-security-policy"]


def test_chinese_pages_have_chinese_words(client: TestClient):
    zh = {"Cookie": "kpi_lang=zh"}
    html = assert_page(client.get("/packs/bakery-stored-value", headers=zh))
    assert (
        'aria-label="导航路径"' in html
        and "扩展自 membership-core" in html
        and "extends" not in html
    )
    assert (
        '<span class="badge s-info">提示</span>' in html
        and ".badge.s-info" in client.get("/static/web/web.css").text
    )
    html = assert_page(
        client.get("/packs/bakery-stored-value/report", params={"data": "example"}, headers=zh)
    )
    assert (
        '<option value="month">月</option>' in html
        and "粒度: 月" in html
        and "breadcrumb" not in html
    )
    fired = html[html.index('data-rule="gift_share_too_high"') :]
    assert (
        '<a href="/packs/bakery-stored-value/metrics/gift_share">赠送占比</a>'
        in fired[: fired.index("</li>")]
    )
    assert "<h1>没有这个页面</h1>" in assert_page(client.get("/nothing", headers=zh), 404)


@pytest.mark.parametrize(
    ("header", "locale"),
    [
        ("zh;q=0.1, en;q=0.9", "en"),
        ("en;q=0.5, zh-CN", "zh"),
        ("fr, en-GB;q=0.8, zh;q=0.7", "en"),
        ("zh-TW, en", "zh"),
        ("en;q=0, zh;q=0.2", "zh"),
        ("fr, de", "zh"),
        ("enx, en;q=nan", "zh"),
        ("", "zh"),
    ],
)
def test_accept_language_weights_choose_the_language(header: str, locale: str):
    assert i18n.from_accept(header) == locale


def test_the_upload_button_needs_the_script(client: TestClient):
    css = client.get("/static/web/web.css").text
    js = client.get("/static/web/web.js").text
    assert "html:not(.js) .needs-js { display: none; }" in css
    assert 'document.documentElement.classList.add("js");' in js
    html = assert_page(client.get("/packs/bakery-stored-value/report", headers=EN))
    assert (
        'id="upload-button" class="needs-js"' in html
        and '<div class="field needs-js"><label for="file">' in html
    )
