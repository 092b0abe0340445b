"""The in-process backend of a plan's steps (:mod:`engine.evaluate.steps`): cells and dense
``[groups × periods]`` frames, the metrics computed on them by :class:`NumpyBackend`.

It is the reference the SQL backend is tested against, cell by cell.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Any

import numpy as np

from engine.evaluate.backends.numpy_backend import Ctx, NumpyBackend
from engine.evaluate.cells import RATIO_UNITS
from engine.evaluate.frame import (
    Cells,
    Frame,
    Span,
    across_members,
    across_periods,
    base_cells,
    frame_cells,
    place,
    to_frame,
)
from engine.evaluate.plan import Plan
from engine.evaluate.steps import (
    CombineMembers,
    CombinePeriods,
    ComputeMetrics,
    MeasureDirect,
    ReadInputs,
    ShapeOutput,
)
from engine.evaluate.table import Columns, dimension_codes, numeric

#: measures inputs from the raw records at the output grain and ``by`` (the records' evaluation)
MeasureCells = Callable[[MeasureDirect], Cells]


@dataclass(frozen=True)
class NumpyState:
    """What one step leaves: the cells, the frame they are laid out in once they are (to compute
    metrics on), its context after metrics are computed, inputs measured at the output grain."""

    cells: Cells
    frame: Frame | None = None
    ctx: Ctx | None = None
    direct: Cells | None = None


class NumpySteps:
    """Executes a plan's steps over input rows (``columns``, their periods as indices at the plan's
    data grain); ``measure`` measures the inputs of a :class:`MeasureDirect` step."""

    def __init__(
        self,
        plan: Plan,
        columns: Columns,
        period_index: np.ndarray,
        measure: MeasureCells | None = None,
    ) -> None:
        self.plan = plan
        self.columns = columns
        self.period_index = period_index
        self.measure = measure
        self.backend = NumpyBackend()
        self.formulas: dict[str, Any] = {
            m: site.parsed.expr for m, site in plan.compiled.metrics.items()
        }
        self.cut: date | None = plan.as_of + timedelta(days=1) if plan.as_of is not None else None

    def read_inputs(self, step: ReadInputs) -> NumpyState:
        inputs = self.plan.compiled.pack.inputs
        columns = self.columns
        values: dict[str, np.ndarray] = {}
        for name in step.inputs:
            spec = inputs[name]
            if name in columns:
                values[name] = numeric(
                    columns,
                    name,
                    spec.default,
                    fill_blank=not spec.required,
                    percent=spec.unit in RATIO_UNITS,
                )
            else:
                values[name] = np.full(
                    columns.n, np.nan if spec.default is None else float(spec.default)
                )
        codes, labels = [], []
        for dim in step.dims:
            code, label = dimension_codes(columns, dim)
            codes.append(code)
            labels.append(label)
        return NumpyState(
            base_cells(step.grain, step.dims, codes, labels, self.period_index, values)
        )

    def compute_metrics(self, state: NumpyState, step: ComputeMetrics) -> NumpyState:
        # the base level computes on the cells as read; the output level on the shaped frame
        if step.level == "output" and state.frame is None:
            raise ValueError("output metrics are computed on the shaped output: shape it first")
        frame = state.frame if state.frame is not None else to_frame(state.cells, self.cut)
        ctx = self.backend.run(
            frame, step.metrics, self.formulas, self.plan.compiled.graph.graph, self.plan.params
        )
        return replace(state, frame=frame, ctx=ctx)

    def combine_members(self, state: NumpyState, step: CombineMembers) -> NumpyState:
        cells = across_members(_carried(state, step.carried), step.by, dict(step.carried))
        return NumpyState(cells, direct=state.direct)

    def combine_periods(self, state: NumpyState, step: CombinePeriods) -> NumpyState:
        cells = across_periods(_carried(state, step.carried), step.grain, dict(step.carried))
        return NumpyState(cells, direct=state.direct)

    def measure_direct(self, state: NumpyState, step: MeasureDirect) -> NumpyState:
        if self.measure is None:
            raise ValueError("the plan measures inputs at the output grain: give `measure`")
        return replace(state, direct=self.measure(step))

    def shape_output(self, state: NumpyState, step: ShapeOutput) -> NumpyState:
        span = None
        if step.grain == "all" and len(self.period_index):
            span = Span(step.base, int(self.period_index.min()), int(self.period_index.max()))
        frame = to_frame(state.cells, self.cut, span, step.base)
        if state.direct is not None:
            place(frame, state.direct)
        return NumpyState(state.cells, frame)


def _carried(state: NumpyState, carried: tuple[tuple[str, str], ...]) -> Cells:
    """The cells of the values a combining step carries (metrics too, once computed)."""
    names = [n for n, _ in carried]
    if state.frame is not None:
        return frame_cells(state.frame, names)
    cells = state.cells
    return replace(cells, values={n: cells.values[n] for n in names})
