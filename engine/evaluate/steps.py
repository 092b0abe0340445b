"""Stage: a plan → the typed steps that compute it, and the interface backends execute them by.

    ReadInputs ─▶ [ComputeMetrics base] ─▶ [CombineMembers] ─▶ [CombinePeriods]
      ─▶ [MeasureDirect] ─▶ ShapeOutput ─▶ ComputeMetrics output

A :class:`~engine.evaluate.plan.Plan` says *what* to compute; :func:`plan_steps` turns it into the
order of operations, and :func:`execute` drives any :class:`StepBackend` through them. The NumPy
backend (:mod:`engine.evaluate.backends.numpy_steps`) computes each step over ``[groups ×
periods]`` arrays, the SQL backend (:class:`engine.evaluate.measures.metrics.SqlBackend`) turns
each into common table expressions, and the tests drive a pure-Python one: all three take the
same steps, so the in-process numbers and the SQL's agree by construction (docs/design.md,
"One plan, several backends").

A backend may compute a subset of a step: the SQL of one source has only that source's inputs,
and leaves time functions to the evaluator. It never computes anything a step does not name.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Literal, Protocol, TypeVar

from engine.evaluate.plan import Plan

__all__ = [
    "CombineMembers",
    "CombinePeriods",
    "ComputeMetrics",
    "MeasureDirect",
    "ReadInputs",
    "ShapeOutput",
    "Step",
    "StepBackend",
    "execute",
    "plan_steps",
]


@dataclass(frozen=True)
class ReadInputs:
    """Read the inputs at the data's grain: one cell per dimension member and period."""

    grain: str
    dims: tuple[str, ...]
    inputs: tuple[str, ...]


@dataclass(frozen=True)
class ComputeMetrics:
    """Compute metrics, in evaluation order, on the cells at hand. ``level`` ``base``: per member
    and base period, before rolling up (the metrics that declare their own ``rollup`` and what
    they are made of); ``output``: on the output cells."""

    level: Literal["base", "output"]
    metrics: tuple[str, ...]


@dataclass(frozen=True)
class CombineMembers:
    """Combine dimension members within each period, keeping the ``by`` dimensions. ``carried``:
    every value that goes on (combined inputs, then metrics computed at the base level), each
    with its ``dims`` rule; nothing else is kept."""

    by: tuple[str, ...]
    carried: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class CombinePeriods:
    """Combine the periods of ``base`` grain into ``grain`` (``all``: one period over the whole
    range), each carried value by its ``time`` rule; ``periods`` counts the base periods."""

    base: str
    grain: str
    carried: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class MeasureDirect:
    """Measure inputs from the raw records directly at the output grain and ``by`` (those that
    cannot be combined: a distinct count, a measure that depends on the period's length)."""

    grain: str
    by: tuple[str, ...]
    inputs: tuple[str, ...]


@dataclass(frozen=True)
class ShapeOutput:
    """The output cells, with the inputs measured directly joined in, and their calendar: the
    days each output period covers (cut at ``as_of``: a period not over is partial)."""

    base: str
    grain: str
    by: tuple[str, ...]
    as_of: date | None


Step = ReadInputs | ComputeMetrics | CombineMembers | CombinePeriods | MeasureDirect | ShapeOutput


def plan_steps(plan: Plan) -> tuple[Step, ...]:
    """The steps that compute ``plan``, in order."""
    pack = plan.compiled.pack
    steps: list[Step] = [ReadInputs(plan.data_grain, plan.dims, plan.inputs)]
    if plan.aggregates:
        if plan.base_metrics:
            steps.append(ComputeMetrics("base", plan.base_metrics))
        rollups = [(i, pack.inputs[i].rollup) for i in plan.combined]
        for m in plan.rolled:
            rollup = pack.metrics[m].rollup
            assert rollup is not None, "the plan rolls up only metrics that declare a rollup"
            rollups.append((m, rollup))
        if plan.by != plan.dims:
            steps.append(CombineMembers(plan.by, tuple((n, r.dims) for n, r in rollups)))
        if plan.grain != plan.data_grain:
            steps.append(
                CombinePeriods(plan.data_grain, plan.grain, tuple((n, r.time) for n, r in rollups))
            )
        if plan.direct:
            steps.append(MeasureDirect(plan.grain, plan.by, plan.direct))
    steps.append(ShapeOutput(plan.data_grain, plan.grain, plan.by, plan.as_of))
    steps.append(ComputeMetrics("output", tuple(m for m in plan.metrics if m not in plan.rolled)))
    return tuple(steps)


S = TypeVar("S")


class StepBackend(Protocol[S]):
    """What a backend implements: one method per kind of step, each taking the state the previous
    step left (the backend's own type: arrays, a list of CTEs, …) and returning the next."""

    def read_inputs(self, step: ReadInputs) -> S: ...

    def compute_metrics(self, state: S, step: ComputeMetrics) -> S: ...

    def combine_members(self, state: S, step: CombineMembers) -> S: ...

    def combine_periods(self, state: S, step: CombinePeriods) -> S: ...

    def measure_direct(self, state: S, step: MeasureDirect) -> S: ...

    def shape_output(self, state: S, step: ShapeOutput) -> S: ...


def execute(steps: Sequence[Step], backend: StepBackend[S]) -> S:
    """Run ``steps`` (from :func:`plan_steps`) on ``backend``; the state the last one leaves."""
    first = steps[0]
    if not isinstance(first, ReadInputs):
        raise ValueError("a plan's steps start by reading the inputs")
    state = backend.read_inputs(first)
    for step in steps[1:]:
        match step:
            case ComputeMetrics():
                state = backend.compute_metrics(state, step)
            case CombineMembers():
                state = backend.combine_members(state, step)
            case CombinePeriods():
                state = backend.combine_periods(state, step)
            case MeasureDirect():
                state = backend.measure_direct(state, step)
            case ShapeOutput():
                state = backend.shape_output(state, step)
            case ReadInputs():
                raise ValueError("a plan reads its inputs once, first")
    return state
