"""The evaluation façade: a compiled pack over rows → values, bands, rules, checks and trace.

    rows ─table─▶ validated columns ─plan─▶ what to compute ─steps─▶ how, in order
      ─NumPy backend─▶ base cells ─(roll up: across members, then periods)─▶ frame at the
      output grain (+ inputs measured directly at that grain, from raw records) ─▶ values
      ─▶ Evaluation (arrays; ``to_json()`` gives the response of pack-language §9)

The CLI and the HTTP API call :func:`evaluate` (input rows) or
:func:`engine.evaluate.records.evaluate_records` (raw records) and hold no logic of their own.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import sympy

from engine.compile.pack import CompiledPack, compile_pack
from engine.core.display import display_text
from engine.core.errors import InputError
from engine.core.periods import Period
from engine.core.version import engine_version
from engine.evaluate.backends.numpy_backend import Ctx, NumpyBackend
from engine.evaluate.backends.numpy_steps import MeasureCells, NumpySteps
from engine.evaluate.explain import Explainer, format_number
from engine.evaluate.frame import Frame
from engine.evaluate.headers import missing_dimension, name_columns
from engine.evaluate.plan import Plan, check_as_of, make_plan
from engine.evaluate.steps import execute, plan_steps
from engine.evaluate.table import (
    Columns,
    Rows,
    periods_of,
    read_table,
    take_rows,
    to_columns,
)
from engine.load.library import PackLibrary

__all__ = [
    "CheckResult",
    "Evaluation",
    "Judgement",
    "data_grain",
    "evaluate",
    "evaluate_plan",
    "read_table",
    "rows_until",
]

#: most values outside a metric's domain listed one by one in ``warnings`` (then a count)
MAX_DOMAIN_WARNINGS = 50


def evaluate(
    pack: CompiledPack | str | Path,
    rows: Rows | Columns,
    *,
    grain: str | None = None,
    by: Sequence[str] | None = None,
    metrics: Sequence[str] | None = None,
    params: Mapping[str, Any] | None = None,
    locale: str | None = None,
    trace: bool = False,
    as_of: date | None = None,
    library: PackLibrary | None = None,
) -> Evaluation:
    """Evaluate a pack over input rows. Bad input raises :class:`engine.core.errors.InputError`.

    ``as_of``: the data is complete up to the end of this day: rows of later periods are left
    out (with a warning), and the period that holds it is partial (``days`` counts to it)."""
    check_as_of(as_of)
    c = pack if isinstance(pack, CompiledPack) else compile_pack(pack, library)
    columns, named = name_columns(c.pack, to_columns(rows))
    period_index, data_grain = periods_of(columns)
    notes: list[dict[str, Any]] = []
    if as_of is not None:
        columns, period_index, notes = rows_until(columns, period_index, data_grain, as_of)
    plan = make_plan(
        c,
        list(columns.data),
        data_grain,
        grain=grain,
        by=by,
        metrics=metrics,
        params=params,
        locale=locale,
        as_of=as_of,
    )
    plan.warnings[:0] = [*named, *notes]
    try:
        return evaluate_plan(plan, columns, period_index, trace=trace)
    except InputError as err:  # a duplicate row because a dimension's column is misnamed?
        better = missing_dimension(c.pack, columns, err)
        if better is None:
            raise
        raise better from None


def data_grain(pack: CompiledPack, rows: Rows | Columns) -> str:
    """The grain of the rows' periods, read as :func:`evaluate` reads them: the period column by
    its id or a label header (期间, 月份 …), export periods (2026年1月, 2026/1) and one grain for
    every row. Bad rows raise the :class:`InputError` evaluate would raise."""
    columns, _ = name_columns(pack.pack, to_columns(rows))
    return periods_of(columns)[1]


def rows_until(
    columns: Columns, period_index: np.ndarray, grain: str, as_of: date
) -> tuple[Columns, np.ndarray, list[dict[str, Any]]]:
    """The rows of periods that start on or before ``as_of``, and a warning if any are left out."""
    starts = {int(t): Period(grain, int(t)).start for t in np.unique(period_index)}
    keep = np.asarray([starts[int(t)] <= as_of for t in period_index], bool)
    if keep.all():
        return columns, period_index, []
    if not keep.any():
        raise InputError(
            f"every row is of a period after as_of {as_of.isoformat()}",
            code="KPI-E033",
            column="period",
            hint="give an as_of on or after the first period's first day",
        )
    dropped = int((~keep).sum())
    note = {
        "code": "KPI-W005",
        "as_of": as_of.isoformat(),
        "rows_left_out": dropped,
        "message": f"{dropped} row(s) of periods after as_of {as_of.isoformat()} are left out",
    }
    return take_rows(columns, keep), period_index[keep], [note]


def evaluate_plan(
    plan: Plan,
    columns: Columns,
    period_index: np.ndarray,
    *,
    measure: MeasureCells | None = None,
    trace: bool = False,
) -> Evaluation:
    """Evaluate a plan over base rows (``columns``, their periods as indices at the plan's data
    grain): its steps (:func:`engine.evaluate.steps.plan_steps`) executed by the NumPy backend.
    ``measure`` measures the inputs of :attr:`Plan.direct` at the output grain and ``by``."""
    backend = NumpySteps(plan, columns, period_index, measure)
    state = execute(plan_steps(plan), backend)
    assert state.frame is not None and state.ctx is not None, "the last step computes metrics"
    return Evaluation(plan, state.frame, state.ctx, backend.backend, backend.formulas, trace)


@dataclass(frozen=True)
class CheckResult:
    """A check on every output row: ``pass``, ``fail`` or ``undefined`` (a side is null), and
    for an equality the residual lhs − rhs (NaN where undefined or not an equality)."""

    id: str
    status: tuple[str, ...]
    residual: np.ndarray


@dataclass(frozen=True)
class Judgement:
    """What the pack says about the values of an evaluation, row by row, computed before any
    serialising: the band each value is in, whether it is plausible, which rules fire, and how
    each check comes out."""

    #: metric → the index of its band on each output row (-1: in none, null, not finite, or
    #: outside the metric's domain)
    bands: dict[str, np.ndarray]
    #: metric → whether each output row's value is inside the metric's domain (null counts)
    plausible: dict[str, np.ndarray]
    #: rule → whether it fires on each output row
    fired: dict[str, np.ndarray]
    #: check → its result on every output row
    checks: dict[str, CheckResult]


class Evaluation:
    """The result of one evaluation: arrays over the output rows, what the pack's bands, rules
    and checks make of them (:meth:`judge`), and their JSON (:meth:`to_json`)."""

    def __init__(
        self,
        plan: Plan,
        frame: Frame,
        ctx: Ctx,
        backend: NumpyBackend,
        formulas: dict[str, Any],
        trace: bool,
    ) -> None:
        self.plan = plan
        self.frame = frame
        self.ctx = ctx
        self.backend = backend
        self.formulas = formulas
        self.trace = trace
        self._g, self._t = frame.cells()
        width = frame.shape[1]
        self._flat = self._g * width + self._t
        self._complete = bool(frame.present.all())  # then the output rows are every cell, in order
        self._judgement: Judgement | None = None

    def __len__(self) -> int:
        return len(self._g)

    def values(self, name: str) -> np.ndarray:
        """Values of a metric (or input) over the output rows, exact; NaN is null."""
        flat: np.ndarray = np.asarray(
            np.broadcast_to(self.ctx.columns[name], self.frame.shape), dtype=np.float64
        ).reshape(-1)
        return flat if self._complete else flat[self._flat]

    def row_keys(self) -> tuple[list[str], dict[str, list[str]]]:
        periods = [self.frame.label(int(t)) for t in self._t]
        dims = {
            d: [self.frame.keys[int(g)][self.frame.dims.index(d)] for g in self._g]
            for d in self.plan.by
        }
        return periods, dims

    def row_partial(self) -> list[bool]:
        """Whether each output row's period is not over (``as_of`` falls inside it)."""
        return [self.frame.partial(int(t)) for t in self._t]

    def judge(self) -> Judgement:
        """Bands, plausibility, rules and checks over the output rows (computed once)."""
        if self._judgement is None:
            plan, pack = self.plan, self.plan.compiled.pack
            g_idx, t_idx = self._g, self._t
            shown = [m for m in plan.output if m in pack.metrics]
            plausible = {
                m: np.asarray(pack.metrics[m].plausible(self.values(m)), bool)
                for m in shown
                if pack.metrics[m].domain is not None
            }
            bands = {}
            for m in shown:
                if pack.metrics[m].bands:
                    values = self.values(m)
                    index = self._bands(m, values)
                    index[~np.isfinite(values)] = -1  # null (and never ±inf) has no band
                    if m in plausible:  # a band cannot judge a value its metric cannot have
                        index[~plausible[m]] = -1
                    bands[m] = index
            fired = {
                r: np.asarray(
                    self.backend.value(self.ctx, plan.compiled.rules[r].parsed.expr)[g_idx, t_idx],
                    bool,
                )
                for r in plan.rules
            }
            checks = {k: CheckResult(k, *self._check(k)) for k in plan.checks}
            self._judgement = Judgement(bands, plausible, fired, checks)
        return self._judgement

    def to_json(self, *, formatted: bool = False) -> dict[str, Any]:
        """The response of pack-language §9: exact values
        (``formatted``: also each value as shown)."""
        plan, pack = self.plan, self.plan.compiled.pack
        explainer = Explainer(
            self.ctx, self.backend, self.formulas, set(plan.inputs), set(plan.rolled)
        )
        g_idx, t_idx = self._g, self._t
        exact = {m: self.values(m) for m in plan.output}
        judged = self.judge()
        shown_bands = {
            m: [
                {"status": b.status, "label": b.label.get(plan.locale) or None}
                for b in pack.metrics[m].bands
            ]
            for m in judged.bands
        }
        rule_json = {r: self._rule(r) for r in plan.rules}  # the same text every time a rule fires
        check_json = {
            k: (pack.checks[k].severity, pack.checks[k].label.get(plan.locale) or None)
            for k in plan.checks
        }
        # trace explains each value and each metric it is made of (pack order)
        traced = (
            {m: self.values(m) for m in pack.metrics if m in set(plan.metrics)}
            if self.trace
            else {}
        )
        partial = [self.frame.partial(int(t)) for t in range(self.frame.shape[1])]
        domain_warnings: list[dict[str, Any]] = []
        self._outside: dict[str, int] = {}  # values outside each metric's domain, so far
        rows = []
        for i, (g, t) in enumerate(zip(g_idx.tolist(), t_idx.tolist(), strict=True)):
            key = self.frame.keys[g]
            values: dict[str, float | None] = {}
            undefined: dict[str, str] = {}
            bands: dict[str, dict[str, Any]] = {}
            implausible: dict[str, str] = {}
            dims = {d: key[self.frame.dims.index(d)] for d in plan.by}
            for m, column in exact.items():
                v = float(column[i])
                if not math.isfinite(v):  # never NaN or inf in the output
                    values[m] = None
                    undefined[m] = explainer.reason(m, g, t)
                    continue
                values[m] = v + 0.0  # no -0.0
                if m in judged.plausible and not judged.plausible[m][i]:
                    implausible[m] = self._implausible(
                        m, v, self.frame.label(t), dims, domain_warnings
                    )
                    continue  # a band cannot judge a value its metric cannot have
                if m in judged.bands:
                    index = int(judged.bands[m][i])
                    if index >= 0:
                        bands[m] = shown_bands[m][index]
            row: dict[str, Any] = {
                "period": self.frame.label(t),
                "partial": partial[t],
                "dims": dims,
                "values": values,
                "undefined": undefined,
                "bands": bands,
                "implausible": implausible,
                "rules": [rule_json[r] for r in plan.rules if judged.fired[r][i]],
                "checks": [
                    {
                        "id": k,
                        "status": result.status[i],
                        "residual": _residual(result.residual[i]),
                        "severity": check_json[k][0],
                        "label": check_json[k][1],
                    }
                    for k, result in judged.checks.items()
                ],
            }
            if formatted:
                row["formatted"] = {m: display_text(values[m], pack.metrics.get(m)) for m in exact}
            if self.trace:
                row["trace"] = {m: self._trace(explainer, traced[m][i], m, g, t) for m in traced}
            rows.append(row)
        return {
            "pack": pack.id,
            "version": pack.version,
            "pack_sha256": pack.sha256,
            "extends": dict(pack.ancestor_versions),
            "engine_version": engine_version(),
            "grain": plan.grain,
            "by": list(plan.by),
            "as_of": plan.as_of.isoformat() if plan.as_of is not None else None,
            "rows": rows,
            "warnings": [*plan.warnings, *domain_warnings],
        }

    def _implausible(
        self,
        metric: str,
        value: float,
        period: str,
        dims: dict[str, str],
        out: list[dict[str, Any]],
    ) -> str:
        """Note a value outside its metric's domain; returns the row's short text."""
        domain = self.plan.compiled.pack.metrics[metric].domain
        assert domain is not None
        low, high = (
            "-∞" if domain[0] is None else format_number(domain[0]),
            "∞" if domain[1] is None else format_number(domain[1]),
        )
        text = f"outside [{low}, {high}]"
        listed = self._outside.get(metric, 0)
        self._outside[metric] = listed + 1
        if listed < MAX_DOMAIN_WARNINGS:
            where = ", ".join([period, *dims.values()])
            out.append(
                {
                    "code": "KPI-W010",
                    "metric": metric,
                    "period": period,
                    "dims": dims,
                    "value": value,
                    "domain": list(domain),
                    "message": f"{metric} = {format_number(value)} for ({where}) is "
                    f"{text}, the values it can plausibly have: it gets no band",
                }
            )
        elif listed == MAX_DOMAIN_WARNINGS:
            out.append(
                {
                    "code": "KPI-W010",
                    "metric": metric,
                    "domain": list(domain),
                    "more": True,
                    "message": f"{metric}: more values outside "
                    f"[{low}, {high}] are not listed one by one",
                }
            )
        return text

    def _bands(self, metric: str, values: np.ndarray) -> np.ndarray:
        """Which band (index, or -1) each output row's exact value is in."""
        bands = self.plan.compiled.pack.metrics[metric].bands
        index = np.full(len(values), -1)
        for k, band in reversed(list(enumerate(bands))):  # bands do not overlap; first wins anyway
            index[band.mask(values)] = k
        return index

    def _trace(
        self, explainer: Explainer, value: float, metric: str, g: int, t: int
    ) -> dict[str, Any]:
        formula = self.plan.compiled.pack.metrics[metric].formula
        shown = None if math.isnan(value) else float(value)
        if metric in self.plan.rolled:  # computed per member and base period, then combined
            rollup = self.plan.compiled.pack.metrics[metric].rollup
            assert rollup is not None
            return {
                "formula": formula,
                "with_values": None,
                "value": shown,
                "combined": f"{rollup.dims} across members, {rollup.time} across periods",
            }
        return {
            "formula": formula,
            "with_values": explainer.with_values(metric, g, t),
            "value": shown,
        }

    def _rule(self, rid: str) -> dict[str, Any]:
        pack, loc = self.plan.compiled.pack, self.plan.locale
        rule = pack.rules[rid]
        return {
            "id": rid,
            "severity": rule.severity,
            "label": rule.label.get(loc),
            "causes": [c.get(loc) for c in rule.causes],
            "remedies": [
                {"id": r, "label": pack.remedies[r].label.get(loc)} for r in rule.remedies
            ],
        }

    def _check(self, cid: str) -> tuple[tuple[str, ...], np.ndarray]:
        """Status and residual of a check on every output row.

        A row is ``undefined`` when a side of any comparison in the assertion is null (so
        ``coalesce(b, 0) >= 0`` is defined, ``a / b <= 1`` with b = 0 is not). Tolerances are
        exact: an absolute tolerance allows binary noise only (a few units in the last place of
        the amounts compared), not a share of their size.
        """
        check = self.plan.compiled.pack.checks[cid]
        expr = self.plan.compiled.checks[cid].parsed.expr
        g, t = self._g, self._t
        known = np.ones(len(g), bool)
        for rel in (n for n in sympy.preorder_traversal(expr) if isinstance(n, sympy.Rel)):
            for side in rel.args:
                known &= ~np.isnan(
                    np.asarray(self.backend.value(self.ctx, side), dtype=np.float64)[g, t]
                )
        residual = np.full(len(g), np.nan)
        if isinstance(expr, sympy.Eq):
            lhs = self.backend.value(self.ctx, expr.args[0])[g, t]
            rhs = self.backend.value(self.ctx, expr.args[1])[g, t]
            with np.errstate(all="ignore"):
                residual = lhs - rhs
                scale = np.maximum(np.abs(lhs), np.abs(rhs))
                noise = 8 * np.spacing(np.where(np.isfinite(scale), scale, 0.0))
                if check.tolerance is None:
                    ok = np.abs(residual) <= np.maximum(1e-9 * scale, noise)
                elif check.tolerance_relative:
                    ok = np.abs(residual) <= np.maximum(check.tolerance * scale, noise)
                else:
                    ok = np.abs(residual) <= check.tolerance + noise
                # lhs − rhs of two large amounts carries their binary noise
                # (0.599999999998545 for a gap of 0.60): round it at the noise floor,
                # keeping every digit that means something
                digits = np.clip(-np.ceil(np.log10(np.maximum(noise, 1e-15))), -300, 15)
                residual = np.round(residual * 10.0**digits) / 10.0**digits
        else:
            ok = np.asarray(self.backend.value(self.ctx, expr), bool)[g, t]
        status = tuple(
            "undefined" if not k else ("pass" if o else "fail")
            for k, o in zip(known, ok, strict=True)
        )
        return status, residual


def _residual(value: float) -> float | None:
    return None if math.isnan(value) else float(format_number(float(value)))
