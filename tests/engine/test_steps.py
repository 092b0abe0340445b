"""A plan's typed steps (engine/evaluate/steps.py), executed by three backends: NumPy (the
evaluator), SQL (one query per source) and a plain-Python one written for these tests
(tests/engine/py_backend.py). The Python backend's values are compared with the evaluator's over
random rows at every grain and ``by``; the SQL's with the evaluator's on DuckDB and Spark in
test_measures_packs.py and test_measures_spark.py."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.compile.pack import CompiledPack, check_text, compile_pack
from engine.evaluate.backends.numpy_steps import NumpySteps
from engine.evaluate.evaluation import evaluate
from engine.evaluate.measures.metrics import SqlBackend, metric_query, sql_plan
from engine.evaluate.plan import make_plan
from engine.evaluate.steps import (
    CombineMembers,
    CombinePeriods,
    ComputeMetrics,
    MeasureDirect,
    ReadInputs,
    ShapeOutput,
    Step,
    execute,
    plan_steps,
)
from engine.evaluate.table import periods_of, to_columns
from tests.engine.py_backend import PyBackend, Unsupported

ROOT = Path(__file__).resolve().parents[2]

PACK = """\
pack: steps
version: '1.0.0'
title: {en: Steps}
locales: [en]
dimensions: {store: {label: Store}, channel: {label: Channel}}
params:
  cost: {value: 2, label: Cost per order}
inputs:
  orders: {label: Orders}
  revenue: {label: Revenue}
  members: {label: Members, rollup: {time: last}}
  opening: {label: Opening members, rollup: {time: first}}
  peak: {label: Peak, rollup: {time: max, dims: max}}
  low: {label: Low, rollup: {time: min, dims: min}}
  rate: {label: Rate, rollup: {time: avg, dims: avg}}
  bonus: {label: Bonus, required: false, default: 0}
metrics:
  aov: {label: AOV, formula: revenue / orders}
  per_day: {label: Orders a day, formula: orders / days}
  monthly: {label: Orders a month, formula: orders / periods}
  spread: {label: Spread, formula: peak - low}
  capped: {label: Capped AOV, formula: 'min(aov, 50)'}
  safe: {label: Safe AOV, formula: 'if(orders > 0, revenue / orders, 0)'}
  filled: {label: Filled, formula: 'coalesce(aov, 0) + bonus'}
  margin: {label: Margin, formula: revenue - orders * cost, rollup: {time: sum, dims: sum}}
  margin_per_order: {label: Margin per order, formula: margin / orders}
  joined: {label: Joined, formula: members - opening}
  weighted: {label: Weighted, formula: revenue / members * rate}
"""


@pytest.fixture(scope="module")
def c() -> CompiledPack:
    compiled, problems = check_text(PACK)
    assert compiled is not None, problems
    return compiled


def kinds(steps: tuple[Step, ...]) -> list[str]:
    return [type(s).__name__ for s in steps]


def _rows() -> list[dict[str, Any]]:
    return [
        {"period": "2026-01", "store": "A", "channel": "web", "orders": 10, "revenue": 100,
         "members": 5, "opening": 4, "peak": 9, "low": 1, "rate": 0.5},
        {"period": "2026-02", "store": "A", "channel": "web", "orders": 0, "revenue": 40,
         "members": 7, "opening": 5, "peak": 3, "low": 2, "rate": 1.5},
        {"period": "2026-01", "store": "B", "channel": "shop", "orders": 4, "revenue": 60,
         "members": 2, "opening": 2, "peak": 4, "low": 0, "rate": 1.0},
    ]  # fmt: skip


def _plan(c: CompiledPack, rows: list[dict[str, Any]], **kw: Any) -> Any:
    columns = to_columns(rows)
    _, grain = periods_of(columns)
    return make_plan(c, list(columns.data), grain, **kw)


# -- the steps of a plan


def test_a_plan_at_its_own_grain_reads_shapes_and_computes(c: CompiledPack) -> None:
    steps = plan_steps(_plan(c, _rows()))
    assert kinds(steps) == ["ReadInputs", "ShapeOutput", "ComputeMetrics"]
    read, shape, compute = steps
    assert read == ReadInputs(
        "month",
        ("store", "channel"),
        ("orders", "revenue", "members", "opening", "peak", "low", "rate", "bonus"),
    )
    assert shape == ShapeOutput("month", "month", ("store", "channel"), None)
    assert isinstance(compute, ComputeMetrics) and compute.level == "output"
    # every metric, a metric after what it is made of
    assert compute.metrics.index("aov") < compute.metrics.index("capped")
    assert compute.metrics.index("margin") < compute.metrics.index("margin_per_order")
    assert set(compute.metrics) == set(c.pack.metrics)


def test_a_rolled_up_plan_computes_base_metrics_then_combines_members_then_periods(
    c: CompiledPack,
) -> None:
    steps = plan_steps(_plan(c, _rows(), grain="quarter", by=["store"], as_of=date(2026, 2, 20)))
    assert kinds(steps) == [
        "ReadInputs",
        "ComputeMetrics",
        "CombineMembers",
        "CombinePeriods",
        "ShapeOutput",
        "ComputeMetrics",
    ]
    base, members, periods, shape, output = steps[1:]
    assert base == ComputeMetrics("base", ("margin",))
    carried = (
        ("orders", "sum"), ("revenue", "sum"), ("members", "sum"), ("opening", "sum"),
        ("peak", "max"), ("low", "min"), ("rate", "avg"), ("bonus", "sum"), ("margin", "sum"),
    )  # fmt: skip
    assert members == CombineMembers(("store",), carried)
    time = ("sum", "sum", "last", "first", "max", "min", "avg", "sum", "sum")
    assert periods == CombinePeriods(
        "month", "quarter", tuple((n, how) for (n, _), how in zip(carried, time, strict=True))
    )
    assert shape == ShapeOutput("month", "quarter", ("store",), date(2026, 2, 20))
    # margin is rolled up, not computed again from the quarter's totals
    assert isinstance(output, ComputeMetrics) and "margin" not in output.metrics
    assert "margin_per_order" in output.metrics


def test_records_plans_measure_the_distinct_counts_again_at_the_output_grain() -> None:
    bakery = compile_pack(ROOT / "metrics" / "bakery-stored-value")
    # the records are measured for the whole chain (no dimension kept), so no members to combine
    steps = plan_steps(sql_plan(bakery, "quarter", []))
    assert kinds(steps) == [
        "ReadInputs",
        "ComputeMetrics",
        "CombinePeriods",
        "MeasureDirect",
        "ShapeOutput",
        "ComputeMetrics",
    ]
    read, base, periods, direct = steps[:4]
    assert isinstance(read, ReadInputs) and read.dims == ()
    # the average balance is computed per month, then averaged over the quarter's months
    assert isinstance(base, ComputeMetrics) and "avg_balance" in base.metrics
    assert isinstance(periods, CombinePeriods) and ("avg_balance", "avg") in periods.carried
    assert ("closing_members", "last") in periods.carried
    assert ("recharge_amount", "sum") in periods.carried
    # active members are a distinct count: measured per quarter, never combined from months
    assert isinstance(direct, MeasureDirect) and direct.grain == "quarter" and direct.by == ()
    assert direct.inputs == ("churned_members", "active_members", "repeat_buyers")
    assert not {n for n, _ in periods.carried} & set(direct.inputs)


def test_execute_starts_by_reading_the_inputs(c: CompiledPack) -> None:
    steps = plan_steps(_plan(c, _rows()))
    with pytest.raises(ValueError, match="start by reading"):
        execute(steps[1:], PyBackend(_plan(c, _rows()), _rows()))
    with pytest.raises(ValueError, match="once, first"):
        execute((*steps, steps[0]), PyBackend(_plan(c, _rows()), _rows()))


@dataclass
class Recording:
    """Wraps a backend and notes each step it is given (the steps' names, in order)."""

    inner: Any
    seen: list[str]

    def __getattr__(self, name: str) -> Any:
        method = getattr(self.inner, name)

        def call(*args: Any) -> Any:
            self.seen.append(name)
            return method(*args)

        return call


def test_the_sql_backend_turns_each_step_into_its_ctes() -> None:
    bakery = compile_pack(ROOT / "metrics" / "bakery-stored-value")
    plan = sql_plan(bakery, "quarter", [])
    sql_seen: list[str] = []
    sql = SqlBackend(bakery, "card_events", plan)
    query = sql.select(execute(plan_steps(plan), Recording(sql, sql_seen)))
    assert query.sql("duckdb") == metric_query(bakery, "card_events", plan=plan).sql("duckdb")
    assert sql_seen == [
        "read_inputs",
        "compute_metrics",
        "combine_periods",
        "measure_direct",
        "shape_output",
        "compute_metrics",
    ]
    # the CTEs come in the steps' order: measures, base metrics, periods, direct, output, metrics
    names = [cte.alias for cte in query.args["with_"].expressions]
    firsts = [names.index(n) for n in ("kpi__b0", "kpi__b1", "kpi__r", "kpi__d0", "kpi__j")]
    assert firsts == sorted(firsts) and names[-1].startswith("kpi__l")


def test_the_numpy_backend_executes_the_steps_it_is_given(c: CompiledPack) -> None:
    rows = _rows()
    plan = _plan(c, rows, grain="quarter", by=["store"])
    columns = to_columns(rows)
    seen: list[str] = []
    backend = NumpySteps(plan, columns, periods_of(columns)[0])
    state = execute(plan_steps(plan), Recording(backend, seen))
    assert seen == [
        "read_inputs",
        "compute_metrics",
        "combine_members",
        "combine_periods",
        "shape_output",
        "compute_metrics",
    ]
    assert state.frame is not None and state.frame.keys == [("A",), ("B",)]
    # store A's quarter: margins (100 − 2 × 10) + (40 − 0) over 10 orders; B's: (60 − 8) / 4
    assert state.frame.columns["margin_per_order"].tolist() == [[12.0], [13.0]]
    with pytest.raises(ValueError, match="shape it first"):
        backend.compute_metrics(backend.read_inputs(plan_steps(plan)[0]), plan_steps(plan)[-1])
    with pytest.raises(ValueError, match="give `measure`"):
        NumpySteps(plan, columns, periods_of(columns)[0]).measure_direct(
            state, MeasureDirect("quarter", (), ("orders",))
        )


# -- three backends, the same numbers


def _close(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return a is b
    # the same operations, not always in the same order: a few units in the last place
    return math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-9)


def _compare(c: CompiledPack, rows: list[dict[str, Any]], **kw: Any) -> int:
    """The Python backend's values against the evaluator's, cell by cell; how many compared."""
    plan = _plan(c, rows, **kw)
    py = PyBackend(plan, rows)
    mine = py.values(execute(plan_steps(plan), py))
    body = evaluate(c, rows, **kw).to_json()
    theirs = {(r["period"], tuple(r["dims"].values())): r["values"] for r in body["rows"]}
    assert set(mine) == set(theirs)
    n = 0
    for key, values in theirs.items():
        for name, value in values.items():
            assert _close(mine[key][name], value), (key, name, mine[key][name], value)
            n += 1
    return n


def test_the_python_backend_agrees_with_the_evaluator_on_hand_made_rows(c: CompiledPack) -> None:
    rows = _rows()
    assert _compare(c, rows) == 3 * 11  # every metric of every row
    # quarter for the whole chain: orders 14, revenue 200; margin per month and store rolled up
    # (100 − 20) + (40 − 0) + (60 − 8) = 172
    plan = _plan(c, rows, grain="quarter", by=[])
    py = PyBackend(plan, rows)
    ((_, values),) = py.values(execute(plan_steps(plan), py)).items()
    assert values["margin"] == 172
    assert values["margin_per_order"] == 172 / 14
    # members: the stores added up in each month, then the quarter's last month (February: only
    # A has a row, 7); opening: its first (January: 4 + 2)
    assert values["members"] == 7 and values["opening"] == 6
    assert _compare(c, rows, grain="quarter", by=[]) == 11


def test_the_python_backend_refuses_what_it_does_not_compute(c: CompiledPack) -> None:
    plan = _plan(c, _rows(), grain="all")
    with pytest.raises(Unsupported):
        execute(plan_steps(plan), PyBackend(plan, _rows()))


MONTHS = [f"{y}-{m:02d}" for y, m in [(2025, 11), (2025, 12), (2026, 1), (2026, 2), (2026, 3)]]
amount = st.one_of(st.none(), st.integers(0, 500).map(float), st.floats(0, 1000, width=32))


@st.composite
def data(draw: Any) -> list[dict[str, Any]]:
    keys = draw(
        st.lists(
            st.tuples(st.sampled_from(MONTHS), st.sampled_from("ABC"), st.sampled_from(["w", "s"])),
            min_size=1,
            max_size=14,
            unique=True,
        )
    )
    rows = []
    for month, store, channel in keys:
        row: dict[str, Any] = {"period": month, "store": store, "channel": channel}
        for name in ("orders", "revenue", "members", "opening", "peak", "low", "rate"):
            row[name] = draw(amount)
        if draw(st.booleans()):
            row["bonus"] = draw(amount)
        rows.append(row)
    if not any("bonus" in r for r in rows):
        for r in rows:
            r.pop("bonus", None)
    return rows


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    rows=data(),
    grain=st.sampled_from([None, "quarter", "year"]),
    by=st.sampled_from([None, [], ["store"], ["channel"]]),
    as_of=st.sampled_from([None, date(2026, 2, 14)]),
)
def test_the_python_backend_agrees_with_the_evaluator_over_random_rows(
    c: CompiledPack, rows: list[dict[str, Any]], grain: str | None, by: Any, as_of: Any
) -> None:
    if as_of is not None and all(r["period"] > "2026-02" for r in rows):
        as_of = None  # every row after as_of is an error, tested elsewhere
    if as_of is not None:
        rows = [r for r in rows if r["period"] <= "2026-02"]
    assert _compare(c, rows, grain=grain, by=by, as_of=as_of) > 0
