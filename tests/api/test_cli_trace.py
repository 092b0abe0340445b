"""`--trace` in table output: `kpi eval … --format table --trace` and `kpi run … --trace` print,
under the table, each traced metric's formula and the formula with the row's numbers.

The bakery example by quarter for the whole chain, by hand from examples/sample.csv: in Q1 the
two stores credited 3000 + 2500 + 10000 + 3000 + … = 23500 of bonus on 175000 of principal, so
gift_share = 23500 / 175000 = 13.4%.
"""

from __future__ import annotations

import csv
from pathlib import Path

from typer.testing import CliRunner

from api.cli import app

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "metrics" / "bakery-stored-value" / "examples" / "sample.csv"
LEDGER_PACK = ROOT / "tests" / "packs" / "measures" / "ledger-demo"
runner = CliRunner()


def run(*args: str) -> str:
    result = runner.invoke(app, list(args), env={"NO_COLOR": "1"})
    assert result.exit_code == 0, result.output
    return result.stdout


def quarter_sums(column: str) -> dict[str, float]:
    out: dict[str, float] = {}
    with SAMPLE.open(newline="") as f:
        for row in csv.DictReader(f):
            q = f"2026-Q{(int(row['period'][5:7]) - 1) // 3 + 1}"
            out[q] = out.get(q, 0.0) + float(row[column])
    return out


def test_eval_table_with_trace_prints_each_formula_with_its_numbers():
    gift, principal = quarter_sums("gift_income"), quarter_sums("net_income")
    assert (gift["2026-Q1"], principal["2026-Q1"]) == (23500, 175000)  # the CSV, summed here
    out = run(
        "eval", "bakery-stored-value", "-i", str(SAMPLE), "--format", "table", "--trace",
        "--grain", "quarter", "--by", "", "--metrics", "gift_share", "--locale", "en",
    )  # fmt: skip
    table, _, trace = out.partition(
        "trace: each value's formula, then the formula with its numbers"
    )
    assert (
        "  Bonus share (gift_share)             13.4%  good (Promotion cost under control)" in table
    )
    assert trace.strip("\n").splitlines() == [
        "== 2026-Q1 ==",
        "  Bonus share (gift_share) = 13.4%",
        "      gift_income / net_income",
        "    = 23500 / 175000",
        "",
        "== 2026-Q2 ==",
        "  Bonus share (gift_share) = 13.7%",
        "      gift_income / net_income",
        f"    = {gift['2026-Q2']:.0f} / {principal['2026-Q2']:.0f}",
    ]
    assert f"{gift['2026-Q2']:.0f} / {principal['2026-Q2']:.0f}" == "24900 / 182000"


def test_the_trace_uses_the_locales_labels_and_every_row():
    out = run(
        "eval", "bakery-stored-value", "-i", str(SAMPLE), "--format", "table", "--trace",
        "--metrics", "churn_rate", "--locale", "zh",
    )  # fmt: skip
    trace = out.split("trace: each value's formula, then the formula with its numbers\n", 1)[1]
    lines = trace.splitlines()
    # 12 rows (2 stores x 6 months), each with churn_rate and avg_members, which it uses
    assert sum(line.startswith("== ") for line in lines) == 12
    assert lines[:7] == [
        "== 2026-01  store=S01 ==",
        "  月均会员流失率 (churn_rate) = 3.0%",
        "      churned_members / periods / avg_members",
        "    = 30 / 1 / 1000",  # churned 30, one month, (980 + 1020) / 2 members
        "  月均会员数量 (avg_members) = 1,000.0",
        "      (opening_members + closing_members) / 2",
        "    = (980 + 1020) / 2",
    ]


def test_table_without_trace_has_no_trace_and_json_is_unchanged():
    out = run("eval", "bakery-stored-value", "-i", str(SAMPLE), "--format", "table")
    assert "trace:" not in out


def test_kpi_run_table_with_trace(tmp_path: Path):
    events = tmp_path / "card_events.csv"
    events.write_text(
        "event_time,store_id,member_id,kind,amount,gift\n"
        "2025-01-03 10:00:00,S1,m1,recharge,100,10\n"
        "2025-01-09 11:00:00,S1,m2,recharge,300,50\n"
        "2025-01-20 12:00:00,S1,m3,register,0,0\n"
    )
    out = run(
        "run", str(LEDGER_PACK), "--source", f"card_events={events}", "--format", "table",
        "--trace", "--metrics", "recharge_per_visit,gift_share_of_recharge", "--locale", "en",
    )  # fmt: skip
    trace = out.split("trace: each value's formula, then the formula with its numbers\n", 1)[1]
    assert trace.strip("\n").splitlines() == [
        "== 2025-01 *  store=S1 ==",  # * : the data ends on 20 January, the month goes on
        "  Recharge per visit (recharge_per_visit) = 200",
        "      recharge_amount / recharge_count",
        "    = 400 / 2",
        "  Bonus share (gift_share_of_recharge) = 0.15",
        "      gift_income / recharge_amount",
        "    = 60 / 400",
    ]
