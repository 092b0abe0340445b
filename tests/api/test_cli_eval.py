"""kpi eval: the same JSON as the façade, CSV and table renderings, and clean failures."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from api.cli import app
from engine.compile.pack import compile_pack
from engine.evaluate.evaluation import evaluate, read_table
from engine.load.library import PackLibrary

runner = CliRunner()
SAMPLE = (
    Path(__file__).resolve().parents[2]
    / "metrics"
    / "bakery-stored-value"
    / "examples"
    / "sample.csv"
)


def run(*args: str):
    return runner.invoke(app, list(args), env={"NO_COLOR": "1"})


def test_json_output_is_exactly_the_facades_response():
    result = run(
        "eval", "bakery-stored-value", "--inputs", str(SAMPLE), "--grain", "quarter", "--by", ""
    )
    assert result.exit_code == 0, result.output
    c = compile_pack("bakery-stored-value", PackLibrary.default())
    expected = evaluate(c, read_table(SAMPLE), grain="quarter", by=[]).to_json()
    assert json.loads(result.output) == json.loads(json.dumps(expected))
    body = json.loads(result.output)
    assert [r["period"] for r in body["rows"]] == ["2026-Q1", "2026-Q2"]
    assert body["by"] == [] and all(r["dims"] == {} for r in body["rows"])


def test_csv_has_one_column_per_metric():
    result = run(
        "eval",
        "bakery-stored-value",
        "-i",
        str(SAMPLE),
        "--metrics",
        "closing_amount,active_rate",
        "--format",
        "csv",
    )
    assert result.exit_code == 0, result.output
    rows = list(csv.reader(io.StringIO(result.output)))
    assert rows[0] == ["period", "store", "closing_amount", "active_rate", "partial"]
    assert len(rows) == 13  # header + 2 stores x 6 months
    assert rows[1][:2] == ["2026-01", "S01"]


def test_table_shows_labels_statuses_and_rules():
    result = run(
        "eval", "bakery-stored-value", "-i", str(SAMPLE), "--format", "table", "--locale", "en"
    )
    assert result.exit_code == 0, result.output
    assert "== 2026-01  store=S01 ==" in result.output
    assert "Closing balance (closing_amount)" in result.output
    assert "good (Healthy)" in result.output


def test_params_override_and_bad_params_fail_cleanly():
    base = json.loads(
        run(
            "eval", "bakery-stored-value", "-i", str(SAMPLE), "--metrics", "high_value_estimate"
        ).output
    )
    what_if = json.loads(
        run(
            "eval",
            "bakery-stored-value",
            "-i",
            str(SAMPLE),
            "--metrics",
            "high_value_estimate",
            "--param",
            "high_value_factor=3",
        ).output
    )
    a = base["rows"][0]["values"]["high_value_estimate"]
    b = what_if["rows"][0]["values"]["high_value_estimate"]
    # inversely proportional to the factor (shown as integers)
    assert b == pytest.approx(a * 1.5 / 3, abs=1)
    assert b < a
    result = run("eval", "bakery-stored-value", "-i", str(SAMPLE), "--param", "high_value_facter=3")
    assert result.exit_code == 2
    assert "unknown param 'high_value_facter'" in result.output
    assert "did you mean 'high_value_factor'?" in result.output


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (
            lambda rows: rows[2].__setitem__("recharge_amount", "abc"),
            "error KPI-E017: {bad}: row 3, column 'recharge_amount': 'abc' is not a number",
        ),
        (
            lambda rows: rows[4].__setitem__("period", "2026-13"),
            "error KPI-E014: {bad}: row 5, column 'period'",
        ),
        (
            lambda rows: rows[5].update(period=rows[3]["period"], store=rows[3]["store"]),
            "error KPI-E020: {bad}: row 6, column 'period': duplicate row",
        ),
    ],
    ids=["non-numeric", "bad-period", "duplicate-key"],
)
def test_bad_input_exits_2_with_row_and_column_and_prints_nothing(
    tmp_path: Path, mutate, message: str
):
    with SAMPLE.open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    mutate(rows)
    bad = tmp_path / "bad.csv"
    with bad.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    result = runner.invoke(app, ["eval", "bakery-stored-value", "-i", str(bad)])
    assert result.exit_code == 2
    assert result.stdout == ""  # no partial output
    # the code first, as a pack problem shows its own (docs/errors.md)
    assert result.stderr.startswith(message.format(bad=bad))


def test_unknown_by_and_finer_grain_are_errors():
    result = run("eval", "bakery-stored-value", "-i", str(SAMPLE), "--by", "region")
    assert result.exit_code == 2 and "'region'" in result.output
    result = run("eval", "bakery-stored-value", "-i", str(SAMPLE), "--grain", "day")
    assert result.exit_code == 2 and "finer" in result.output


def test_json_input_and_a_missing_file(tmp_path: Path):
    with SAMPLE.open(encoding="utf-8") as fh:
        rows = [
            {k: (v if k in ("period", "store") else float(v)) for k, v in r.items()}
            for r in csv.DictReader(fh)
        ]
    data = tmp_path / "rows.json"
    data.write_text(json.dumps(rows), encoding="utf-8")
    from_json = json.loads(run("eval", "bakery-stored-value", "-i", str(data)).output)
    from_csv = json.loads(run("eval", "bakery-stored-value", "-i", str(SAMPLE)).output)
    assert from_json == from_csv
    result = run("eval", "bakery-stored-value", "-i", str(tmp_path / "nope.csv"))
    assert result.exit_code == 2 and "file not found" in result.output


def test_parquet_input_gives_the_same_result_as_csv(tmp_path: Path):
    import duckdb

    target = tmp_path / "sample.parquet"
    con = duckdb.connect()
    con.execute(
        f"COPY (SELECT * FROM read_csv_auto('{SAMPLE}', all_varchar=false, "
        f"types={{'period': 'VARCHAR'}})) TO '{target}' (FORMAT PARQUET)"
    )
    from_parquet = json.loads(run("eval", "bakery-stored-value", "-i", str(target)).output)
    from_csv = json.loads(run("eval", "bakery-stored-value", "-i", str(SAMPLE)).output)
    assert from_parquet == from_csv
