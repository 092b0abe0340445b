"""The report page for a store manager: what needs attention first, empty indicators hidden,
the grains the data allows, and the rules a view leaves out — on the bakery example, zh and en.

Expectations come from the evaluation JSON of the same data (the engine, in this process), and
one of them by hand: gift_share for 2026-02 at S01 is gift_income / net_income = 10000 / 40000.
"""

from __future__ import annotations

import html as htmllib
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.server import Settings, create_app
from api.web import attention, report
from engine.api import compile_pack, display_text, evaluate, read_table
from tests.xlsx_writer import write_xlsx

ROOT = Path(__file__).resolve().parents[2]
SAMPLE_PATH = ROOT / "metrics" / "bakery-stored-value" / "examples" / "sample.csv"
REPORT = "/packs/bakery-stored-value/report"
EN, ZH = {"Cookie": "kpi_lang=en"}, {"Cookie": "kpi_lang=zh"}


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    settings = Settings(
        data_dir=tmp_path_factory.mktemp("summary") / "data",
        rate_limit=0,
        eval_workers=1,
        eval_timeout=30,
    )
    app = create_app(settings)
    with TestClient(app) as c:
        yield c
    app.state.pool.close()


def page(client: TestClient, headers: dict[str, str], **params: str) -> str:
    r = client.get(REPORT, params={"data": "example", **params}, headers=headers)
    assert r.status_code == 200, r.text[:500]
    return r.text


def text(fragment: str) -> str:
    """The visible text of an HTML fragment, spaces collapsed."""
    return " ".join(htmllib.unescape(re.sub(r"<[^>]+>", "", fragment)).split())


def summary_items(html: str) -> list[tuple[str, str, str, str, str]]:
    """(severity group, rule, period, member, value shown) of each summary entry, in order."""
    section = html[
        html.index('id="attention"') : html.index("</section>", html.index('id="attention"'))
    ]
    out = []
    for group, body in re.findall(
        r'<h4 class="sev-heading" data-severity="(\w+)">.*?</h4>\s*'
        r'<ul class="attention-list">(.*?)</ul>',
        section,
        flags=re.S,
    ):
        for rid, period, member, value in re.findall(
            r'data-rule="(\w+)" data-period="([^"]+)" data-member="([^"]+)">.*?'
            r'<strong class="value[^"]*">([^<]*)</strong>',
            body,
            flags=re.S,
        ):
            out.append((group, rid, period, member, value))
    return out


@pytest.fixture(scope="module")
def expected() -> list[tuple[str, str, str, str, str]]:
    """The fired rules of the evaluation JSON, most severe first, with their metric's value."""
    c = compile_pack("bakery-stored-value")
    body = evaluate(c, read_table(SAMPLE_PATH), locale="en").to_json()
    fired = []
    for row in body["rows"]:
        for rule in row["rules"]:
            metric = c.pack.rules[rule["id"]].metric
            assert metric is not None
            value = display_text(row["values"][metric], c.pack.metrics.get(metric))
            fired.append((rule["severity"], rule["id"], row["period"], row["dims"]["store"], value))
    order = {"critical": 0, "warning": 1, "info": 2}
    return sorted(fired, key=lambda f: order[f[0]])  # stable: row order within a severity


def test_needs_attention_lists_the_fired_rules_by_severity_with_their_values(
    client: TestClient, expected: list[tuple[str, str, str, str, str]]
):
    html = page(client, EN)
    # the summary comes before the first table of values
    assert html.index('id="attention"') < html.index('<table class="values">')
    assert summary_items(html) == expected
    assert len(expected) == 8 and {f[0] for f in expected} == {"warning", "info"}
    # by hand: 2026-02, S01: gift_share = gift_income / net_income = 10000 / 40000 = 25.0%
    assert ("warning", "gift_share_too_high", "2026-02", "S01", "25.0%") in expected
    assert re.search(r'<h3 id="attention-h">Needs attention \(8\)</h3>', html)
    assert re.search(
        r'data-severity="warning"><span class="badge s-warning">warning</span> \(6\)', html
    )
    assert re.search(r'data-severity="info"><span class="badge s-info">info</span> \(2\)', html)
    first = html.rindex(
        "<li", 0, html.index('data-rule="gift_share_too_high" data-period="2026-02"')
    )
    entry = text(html[first : html.index("</li>", first)])
    assert entry == (
        "Bonus share too high – profit squeezed — 2026-02 · S01: Bonus share 25.0% "
        "(Bonus cost out of control: ≥ 25.0%) condition gift_share > 20%, "
        "where Bonus share gift_share = 25.0% "
        "Remedies: Adjust bonus tiers · Restrict where bonus money can be spent"
    )
    # the band of the value, with its bounds as the pack writes them (above 20%, max 25%)
    june = html.rindex(
        "<li", 0, html.index('data-rule="gift_share_too_high" data-period="2026-06"')
    )
    assert "Bonus share 22.0% (Profit under pressure: > 20.0%, < 25.0%)" in text(
        html[june : html.index("</li>", june)]
    )
    # each remedy links to the fired rule's full entry, which lists the remedies with details
    assert '<a href="#fired-1">Adjust bonus tiers</a>' in html
    assert re.search(
        r'<li class="rule sev-warning" id="fired-1" data-rule="gift_share_too_high">', html
    )


def test_needs_attention_in_chinese(client: TestClient):
    html = page(client, ZH)
    assert re.search(r'<h3 id="attention-h">需要关注 \(8\)</h3>', html)
    assert re.search(
        r'data-severity="warning"><span class="badge s-warning">警告</span> \(6\)', html
    )
    assert re.search(r'data-severity="info"><span class="badge s-info">提示</span> \(2\)', html)
    first = html.rindex("<li", 0, html.index('data-rule="low_sedimentation" data-period="2026-01"'))
    entry = text(html[first : html.index("</li>", first)])
    assert entry == (
        "沉淀资金率过低 — 2026-01 · S02: 沉淀资金率 27.0% (资金沉淀不足: < 30.0%) "
        "条件 sedimentation_rate < 30%, 其中 沉淀资金率 sedimentation_rate = 27.0% "
        "解决方案: 推出长期储值档 · 储值卡绑定生日蛋糕预定"
    ), entry


def test_indicators_without_any_value_are_one_line_not_empty_rows(client: TestClient):
    c = compile_pack("bakery-stored-value")
    body = evaluate(c, read_table(SAMPLE_PATH)).to_json()
    empty = [
        m for m in body["rows"][0]["values"] if all(r["values"][m] is None for r in body["rows"])
    ]
    assert empty == [
        "rfm_champion_share",
        "rfm_at_risk_share",
        "returning_member_share",
        "high_value_member_share",
        "silent_member_share",
    ]
    html = page(client, EN)
    rows = re.findall(r'<th scope="row"><a href="/packs/bakery-stored-value/metrics/(\w+)"', html)
    assert rows and not set(rows) & set(empty)
    assert not any(f'id="chart-{m}"' in html for m in empty)
    line = re.search(r'<p class="note small" role="note" id="empty-metrics">(.*?)</p>', html, re.S)
    assert line is not None
    assert text(line.group(1)) == (
        "5 indicators have no value for this data: "
        "RFM champion share (why: rfm_champions is empty in the data), "
        "RFM at-risk share (why: rfm_at_risk is empty in the data), "
        "Returning member share (why: returning_members is empty in the data), "
        "High-value member share (counted) (why: high_value_members is empty in the data), "
        "Silent member share (why: silent_members is empty in the data)"
    )
    zh = page(client, ZH)
    line = re.search(r'id="empty-metrics">(.*?)</p>', zh, re.S)
    assert line is not None and text(line.group(1)).startswith(
        "5 个指标在这份数据上没有值: "
        "RFM 重要价值客户占比 (原因: rfm_champions is empty in the data)"
    )


def grain_options(html: str) -> list[str]:
    select = re.search(r'<select id="grain" name="grain">(.*?)</select>', html, re.S)
    assert select is not None
    return re.findall(r'<option value="(\w*)"', select.group(1))


def test_the_grain_menu_offers_only_the_grains_the_data_allows(client: TestClient):
    # before any data, every grain; over monthly data, month and the coarser ones only
    r = client.get(REPORT, headers=EN)
    assert grain_options(r.text) == ["", "day", "week", "month", "quarter", "year", "all"]
    html = page(client, EN)
    assert grain_options(html) == ["", "month", "quarter", "year", "all"]
    assert ">quarter</option>" in html and ">week</option>" not in html
    zh = page(client, ZH, grain="quarter")
    assert grain_options(zh) == ["", "month", "quarter", "year", "all"]
    assert '<option value="quarter" selected>季度</option>' in zh
    # uploaded daily data allows days and weeks again
    daily = b"period,store,recharge_amount\n2026-01-05,S01,100\n"
    up = client.post(REPORT, content=daily, headers={**EN, "Content-Type": "text/csv"})
    assert grain_options(up.text) == ["", "day", "week", "month", "quarter", "year", "all"]


@pytest.mark.parametrize(
    ("body", "grain"),
    [
        (b"period,x\n2026-W03,1\n", "week"),
        (b"\xef\xbb\xbfstore,period\nS1,2026-Q2\n", "quarter"),
        (b"period\n\n2026\n", "year"),
        (b"store\nS1\n", None),
        (b"period\nsoon\n", None),
        (b"", None),
        # as the engine reads them (issue 14 review #12): a label header, GB18030 and UTF-16
        # text, export periods
        ("期间,门店\n2026-01-05,S01\n".encode("gb18030"), "day"),
        ("月份,门店\n2026年1月,S01\n".encode("utf-16"), "month"),
        (b"period,store\n2026/1,S01\n", "month"),
        ("期间,门店\n2026年1月31日,S01\n".encode(), "day"),
    ],
)
def test_data_grain_reads_the_first_period(body: bytes, grain: str | None):
    c = compile_pack("bakery-stored-value")
    assert attention.data_grain(c, body) == grain


def test_the_grain_menu_of_a_workbook_upload_is_its_first_sheets(
    client: TestClient, tmp_path: Path
):
    # the worker reads the workbook and says its grain (the server process never parses it)
    book = write_xlsx(
        tmp_path / "b.xlsx",
        {"月报": [["期间", "门店", "充值金额"], ["2026-01-05", "S01", 100]], "其他": [["x"]]},
    )
    xlsx = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    up = client.post(REPORT, content=book.read_bytes(), headers={**EN, "Content-Type": xlsx})
    assert up.status_code == 200, up.text[:500]
    assert grain_options(up.text) == ["", "day", "week", "month", "quarter", "year", "all"]
    monthly = write_xlsx(
        tmp_path / "m.xlsx", {"月报": [["月份", "门店", "充值金额"], ["2026年1月", "S01", 100]]}
    )
    up = client.post(REPORT, content=monthly.read_bytes(), headers={**EN, "Content-Type": xlsx})
    assert grain_options(up.text) == ["", "month", "quarter", "year", "all"]


def test_the_grain_menu_follows_the_engine_on_a_gb18030_upload(client: TestClient):
    # headed 期间, daily: day and week are offered (before, the menu said month and coarser for
    # the UTF-8 twin headed period, and every grain for this file); and picking week works
    body = "期间,门店,充值金额\n2026-01-05,S01,100\n2026-01-06,S01,50\n".encode("gb18030")
    csv_zh = {**ZH, "Content-Type": "text/csv"}
    up = client.post(REPORT, content=body, headers=csv_zh)
    assert up.status_code == 200, up.text[:500]
    assert grain_options(up.text) == ["", "day", "week", "month", "quarter", "year", "all"]
    monthly = "月份,门店,充值金额\n2026年1月,S01,100\n".encode("gb18030")
    up = client.post(REPORT, content=monthly, headers=csv_zh)
    assert grain_options(up.text) == ["", "month", "quarter", "year", "all"]
    # a failed evaluation (week asked of monthly data): the menu still offers the data's grains
    finer = client.post(REPORT, params={"grain": "week"}, content=monthly, headers=csv_zh)
    assert 'data-problem="invalid-input"' in finer.text
    assert grain_options(finer.text) == ["", "month", "quarter", "year", "all"]
    week = client.post(REPORT, params={"grain": "week"}, content=body, headers=csv_zh)
    assert week.status_code == 200 and 'data-problem="' not in week.text


def test_a_view_says_how_many_rules_fired_outside_it(client: TestClient):
    html = page(client, EN, view="monthly")
    note = re.search(r'<p class="note" role="note" id="outside-note">(.*?)</p>', html, re.S)
    assert note is not None
    assert text(note.group(1)) == "8 more rules fired outside this view. Show them"
    assert '<a href="#outside">Show them</a>' in note.group(1)
    assert '<p class="muted" id="attention-none">No rule fired in this view.</p>' in html
    outside = html[html.index('<section id="outside"') :]
    assert "Rules that fired outside this view (8)" in outside
    assert len(re.findall(r'<li class="rule sev-\w+" id="outside-\d+"', outside)) == 8
    assert 'data-rule="gift_share_too_high"' in outside
    zh = page(client, ZH, view="monthly")
    note = re.search(r'id="outside-note">(.*?)</p>', zh, re.S)
    assert (
        note is not None and text(note.group(1)) == "另有 8 条规则在此视图之外触发。 查看这些规则"
    )
    assert "在此视图之外触发的规则 (8)" in zh
    # a view that holds the fired rules' metric keeps them in the summary
    weekly = page(client, EN, view="weekly")  # sedimentation_rate, gift_share, …
    kept = {rid for _, rid, *_ in summary_items(weekly)}
    assert kept == {"gift_share_too_high", "low_sedimentation", "members_declining"}
    note = re.search(r'id="outside-note">(.*?)</p>', weekly, re.S)
    assert note is not None and text(note.group(1)).startswith("3 more rules fired outside")
    # no view: nothing is outside
    assert 'id="outside-note"' not in page(client, EN)


TARGET_PACK = """\
pack: target-demo
version: 1.0.0
title: {en: Target demo, zh: 目标演示}
locales: [en, zh]
grain: month
inputs:
  sales: {label: {en: Sales, zh: 销售额}}
  visits: {label: {en: Visits, zh: 到访}}
params:
  min_ticket: {value: 5, label: {en: Lowest ticket, zh: 最低客单}}
metrics:
  ticket:
    label: {en: Ticket, zh: 客单价}
    formula: sales / visits
    format: number
    decimals: 2
rules:
  low_ticket:
    label: {en: Ticket below target, zh: 客单价低于目标}
    severity: critical
    when: ticket < min_ticket and visits > 0
    metric: ticket
"""


def test_a_condition_shows_its_parameter_and_inputs_with_their_values(tmp_path: Path):
    (tmp_path / "pack.yaml").write_text(TARGET_PACK)
    c = compile_pack(tmp_path)
    rows = [
        {"period": "2026-01", "sales": 36, "visits": 9},
        {"period": "2026-02", "sales": 60, "visits": 10},
    ]
    body = evaluate(c, rows, locale="zh").to_json()
    fired = [(r["period"], [x["id"] for x in r["rules"]]) for r in body["rows"]]
    assert fired == [("2026-01", ["low_ticket"]), ("2026-02", [])]  # 36 / 9 = 4 < 5; 6 ≥ 5
    row = body["rows"][0]
    entry = attention.fired_entry(c, row, "合计", row["rules"][0], "zh")
    assert (entry["label"], entry["severity"], entry["value"], entry["when"]) == (
        "客单价低于目标",
        "critical",
        "4.00",
        "ticket < min_ticket and visits > 0",
    )
    # metrics, then parameters (by name within each), each value as shown; an input (visits)
    # is named only when the result carries its value, which a page's evaluation does not
    assert entry["named"] == [
        {"id": "ticket", "label": "客单价", "text": "4.00", "kind": "metric"},
        {"id": "min_ticket", "label": "最低客单", "text": "5", "kind": "param"},
    ]
    with_inputs = evaluate(c, rows, metrics=["ticket", "visits"], locale="zh").to_json()["rows"][0]
    named = attention.fired_entry(c, with_inputs, "合计", with_inputs["rules"][0], "zh")["named"]
    assert [(n["id"], n["text"], n["kind"]) for n in named] == [
        ("ticket", "4.00", "metric"),
        ("visits", "9", "input"),
        ("min_ticket", "5", "param"),
    ]
    assert [g["severity"] for g in attention.by_severity([entry])] == ["critical"]


def test_a_view_counts_the_page_cap_against_what_the_page_reads(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
):
    # issue 14 review #2: with a view the page reads the view's metrics and the names of the
    # rules judged (so that no fired rule is hidden), not every value: the cap counts those
    c = compile_pack("bakery-stored-value")
    result = evaluate(c, read_table(SAMPLE_PATH), by=["store"], locale="en")
    names = set(c.pack.views["daily"].metrics)
    for rid in result.plan.rules:
        names |= c.rules[rid].names | {c.pack.rules[rid].metric or rid}
    kept = names & set(result.plan.output)
    rows, width = len(result), len(result.plan.output)
    assert (rows, width) == (12, 41) and len(kept) < width
    monkeypatch.setattr(report, "PAGE_MAX_VALUES", rows * len(kept))
    html = page(client, EN, view="daily", by="store")
    assert 'data-problem="' not in html
    # every rule is judged still: those outside the view are counted as from the full result
    view = set(c.pack.views["daily"].metrics)
    fired = [x["id"] for row in result.to_json()["rows"] for x in row["rules"]]
    outside = sum(not attention.in_view(c, rid, view) for rid in fired)
    assert (len(fired), outside) == (8, 7)
    assert f"{outside} more rules fired outside this view" in html
    # without a view the page draws every value: over the cap, with the page's own advice
    r = client.get(REPORT, params={"data": "example", "by": "store"}, headers=EN)
    assert r.status_code == 413
    assert (
        f"the result would hold 12 rows x 41 values = 492 values; the limit is {rows * len(kept)}: "
        "show totals (by: none), a coarser grain, a view, or fewer rows"
    ) in htmllib.unescape(r.text)
    assert "metrics=..." not in r.text
