"""The evaluation façade over raw records: a pack's sources → measured inputs → evaluation.

    sources ─DuckDB─▶ inputs per base period and dimension member ─plan─▶ what to compute
      ─(inputs that cannot be combined: measured again at the output grain and `by`)─▶
      engine.evaluate.evaluation.evaluate_plan (the plan's steps; MeasureDirect measures
      the records again) ─▶ Evaluation

The same plan (:func:`engine.evaluate.plan.make_plan`, with ``records=True``) drives the SQL that
``kpi sql`` prints (:mod:`engine.evaluate.measures.metrics`), so the two agree cell by cell. The CLI
(``kpi run``) and the HTTP API (``sources`` in an evaluate request) call
:func:`evaluate_records` and hold no logic of their own.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

import numpy as np

from engine.compile.pack import CompiledPack
from engine.core.errors import InputError
from engine.core.periods import parse_period
from engine.evaluate.evaluation import Evaluation, evaluate_plan, rows_until
from engine.evaluate.frame import Cells
from engine.evaluate.headers import name_columns
from engine.evaluate.measures.run import Progress, Records, SourceData, merge_inputs
from engine.evaluate.plan import check_as_of, make_plan, records_grain
from engine.evaluate.steps import MeasureDirect
from engine.evaluate.table import Columns, periods_of, to_columns


def evaluate_records(
    c: CompiledPack,
    paths: Mapping[str, SourceData],
    *,
    data: Columns | None = None,
    grain: str | None = None,
    by: Sequence[str] | None = None,
    metrics: Sequence[str] | None = None,
    params: Mapping[str, Any] | None = None,
    locale: str | None = None,
    trace: bool = False,
    as_of: date | None = None,
    progress: Progress | None = None,
) -> Evaluation:
    """Compute the measured inputs from the sources' records (one file or in-memory table per
    source) and evaluate.

    ``data``: input rows for the inputs without a measure, joined on period and dimensions;
    ``as_of``: the records are read up to the end of this day (default: the last record's day),
    and a period that goes on after it is partial. Bad input raises :class:`InputError`.
    """
    check_as_of(as_of)
    named: list[dict[str, Any]] = []
    if data is not None:
        data, named = name_columns(c.pack, data)
    records = Records(c, paths)
    try:
        day = as_of or records.last_day()
        base_grain = records_grain(c.pack.grain, grain)
        # the records are measured for the dimensions kept: a member who shops at two stores is
        # one member of the chain (rows given as --data are joined on every dimension instead)
        dims = None if data is not None or by is None else by
        base = records.measure(base_grain, dims=dims, as_of=day, params=params, progress=progress)
        if not base.get("period"):
            raise InputError(
                f"no record of the sources is on or before as_of {day.isoformat()}",
                code="KPI-E033",
                hint="give an as_of on or after the first record's day",
            )
        if data is not None:
            _same_grain(data, base_grain, grain)
        columns = to_columns(merge_inputs(c, base, data) if data is not None else base)
        period_index, data_grain = periods_of(columns)
        columns, period_index, notes = rows_until(columns, period_index, data_grain, day)
        plan = make_plan(
            c,
            list(columns.data),
            data_grain,
            grain=grain,
            by=by,
            metrics=metrics,
            params=params,
            locale=locale,
            records=True,
            as_of=day,
        )
        plan.warnings[:0] = [*named, *notes]
        if data is not None:
            plan.warnings.extend(_summed_entities(plan))

        def measure(step: MeasureDirect) -> Cells:
            measured = records.measure(
                step.grain,
                dims=step.by,
                inputs=step.inputs,
                as_of=day,
                params=params,
                progress=progress,
            )
            return _cells(measured, step.grain, step.by, step.inputs)

        return evaluate_plan(plan, columns, period_index, measure=measure, trace=trace)
    finally:
        records.close()


def _same_grain(data: Columns, base_grain: str, grain: str | None) -> None:
    """Rows given with the records must be by the grain the records are measured at."""
    _, rows_grain = periods_of(data)
    if rows_grain != base_grain:
        asked = f" for --grain {grain}" if grain and grain != base_grain else ""
        raise InputError(
            f"the data rows are by {rows_grain}, but the records are measured "
            f"by {base_grain}{asked}: they are joined period by period",
            code="KPI-E024",
            column="period",
            hint=f"give the rows by {base_grain}, or ask for grain {rows_grain} or a coarser one",
        )


def _summed_entities(plan: Any) -> list[dict[str, Any]]:
    """With rows joined on every dimension, members followed per dimension member are added up
    across the dimensions not kept: say so for each such input the output uses."""
    if plan.by == plan.dims:
        return []
    pack = plan.compiled.pack
    out = []
    for i in plan.combined:
        m = pack.inputs[i].measure
        if m is not None and m.per == "entity":
            out.append(
                {
                    "code": "KPI-W009",
                    "input": i,
                    "message": f"{i} is counted per "
                    f"{', '.join(d for d in plan.dims if d not in plan.by)} and added up, "
                    "because rows are joined on every dimension: a member of two counts "
                    "twice (without data rows, the records are counted across them)",
                }
            )
    return out


def _cells(
    measured: Mapping[str, list[Any]], grain: str, by: tuple[str, ...], names: tuple[str, ...]
) -> Cells:
    """Measured columns (period labels of ``grain``, the ``by`` dimensions) as cells."""
    labels = measured.get("period", [])
    t = np.asarray([0 if grain == "all" else parse_period(str(p)).index for p in labels], np.int64)
    keys = [tuple(str(measured[d][k]) for d in by) for k in range(len(labels))]
    distinct = sorted(set(keys))
    code = {key: n for n, key in enumerate(distinct)}
    g = np.asarray([code[key] for key in keys], np.int64)
    values = {
        n: np.asarray([np.nan if v is None else float(v) for v in measured[n]], np.float64)
        for n in names
    }
    return Cells(grain, by, distinct, g, t, values, np.ones(len(labels)))
