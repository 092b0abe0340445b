"""Data at one grain: cells (one per group and period) and dense frames for evaluation.

:class:`Cells` is a sparse table — a group code, a period index and values per cell — used
while rolling up. :class:`Frame` is the dense form the evaluator works on: every column is a
``[groups × periods]`` float array (NaN is null), with ``present`` marking the cells that have
data, so that the previous *period* is one column to the left whether or not it has data.

Rolling up has two steps (pack-language §3): across dimension members within each period,
then across periods. Null propagates through a roll-up, as through arithmetic.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np

from engine.core.errors import InputError
from engine.core.periods import Period

#: groups × periods of one dense frame: 20 M cells is 160 MB per column
MAX_CELLS = 20_000_000


@dataclass
class Cells:
    grain: str
    dims: tuple[str, ...]
    keys: list[tuple[str, ...]]  # label of each group code
    g: np.ndarray  # group code per cell
    t: np.ndarray  # period index per cell
    values: dict[str, np.ndarray]
    count: np.ndarray  # base periods aggregated into each cell (the `periods` built-in)
    row: np.ndarray | None = None  # input row (0-based) of each cell, before any roll-up


@dataclass(frozen=True)
class Span:
    """The base periods an "all" period covers: the first and last present in the data."""

    grain: str
    first: int
    last: int

    @property
    def label(self) -> str:
        first, last = Period(self.grain, self.first).label, Period(self.grain, self.last).label
        return first if first == last else f"{first}/{last}"


@dataclass
class Frame:
    grain: str
    t0: int  # period index of column 0
    dims: tuple[str, ...]
    keys: list[tuple[str, ...]]
    present: np.ndarray  # [G, T] bool
    first: np.ndarray  # [G] column of each group's first present period
    count: np.ndarray  # [G, T] the `periods` built-in
    columns: dict[str, np.ndarray] = field(default_factory=dict)
    #: the day after the data's last day (as_of + 1): periods that end later are partial
    cut: date | None = None
    span: Span | None = None  # grain "all": the base periods of the data
    base: str | None = (
        None  # the grain of the data the frame is made of (weeks make up months their own way)
    )

    @property
    def shape(self) -> tuple[int, int]:
        g, t = self.present.shape
        return int(g), int(t)

    def period(self, t: int) -> Period:
        return Period(self.grain, self.t0 + t)

    def label(self, t: int) -> str:
        """The period's label: 2026-01, 2026-Q1, …; for "all", the first and last base period."""
        if self.grain == "all" and self.span is not None:
            return self.span.label
        return self.period(t).label

    def calendar(self, t: int) -> tuple[date, date]:
        """The first day of a column's period and the day after its last (of its calendar)."""
        if self.grain == "all" and self.span is not None:
            return Period(self.span.grain, self.span.first).start, Period(
                self.span.grain, self.span.last
            ).end + timedelta(days=1)
        p = self.period(t)
        if self.base == "week" and self.grain in ("month", "quarter", "year"):
            # the weeks whose Thursday is in the period: from
            # its first Monday to the one after its last week
            return _monday(p.start + timedelta(days=3)), _monday(p.end + timedelta(days=4))
        return p.start, p.end + timedelta(days=1)

    def bounds(self, t: int) -> tuple[date, date]:
        """:meth:`calendar`, the end cut at the data's last day (a period that is not over)."""
        start, end = self.calendar(t)
        if self.cut is not None and self.cut < end:
            end = max(self.cut, start)
        return start, end

    def partial(self, t: int) -> bool:
        """Whether a column's period goes on after the data's last day (it is not over)."""
        return self.cut is not None and self.cut < self.calendar(t)[1]

    def days(self) -> np.ndarray:
        """The `days` built-in: days each column's period covers, up to the data's last day."""
        out = []
        for t in range(self.shape[1]):
            start, end = self.bounds(t)
            out.append((end - start).days)
        return np.asarray([out], dtype=np.float64)

    def cells(self) -> tuple[np.ndarray, np.ndarray]:
        """(group, column) of every present cell, ordered by group then period."""
        g, t = np.nonzero(self.present)
        return g, t


def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def base_cells(
    grain: str,
    dims: tuple[str, ...],
    codes: list[np.ndarray],
    labels: list[list[str]],
    period: np.ndarray,
    values: dict[str, np.ndarray],
) -> Cells:
    """Cells of the input rows (one per row); a repeated (period, dimensions) key is an error."""
    n = len(period)
    keys: list[tuple[str, ...]]
    if dims and math.prod(len(label) for label in labels) >= 2**62:
        # too many combinations for one int64 key: number the distinct combinations instead
        uniq_rows, g = np.unique(np.stack(codes, axis=1), axis=0, return_inverse=True)
        g = g.reshape(-1)
        keys = [tuple(labels[d][int(c)] for d, c in enumerate(row)) for row in uniq_rows]
    elif dims:
        # codes index sorted labels, so a mixed-radix key sorts like the tuple of labels
        key = codes[0].astype(np.int64)
        for code, label in zip(codes[1:], labels[1:], strict=True):
            key = key * len(label) + code
        if len(dims) == 1:
            g, keys = key, [(label,) for label in labels[0]]
        else:
            uniq, g = np.unique(key, return_inverse=True)
            g = g.reshape(-1)
            keys = [_decode(int(k), labels) for k in uniq]
    else:
        g = np.zeros(n, np.int64)
        keys = [()]
    if n:
        _refuse_duplicates(grain, keys, g, period)
    return Cells(grain, dims, keys, g, period.astype(np.int64), values, np.ones(n), np.arange(n))


def _decode(key: int, labels: list[list[str]]) -> tuple[str, ...]:
    parts = []
    for label in reversed(labels):
        key, digit = divmod(key, len(label))
        parts.append(label[digit])
    return tuple(reversed(parts))


def _refuse_duplicates(
    grain: str, keys: list[tuple[str, ...]], g: np.ndarray, period: np.ndarray
) -> None:
    span = int(period.max() - period.min() + 1)
    cell = g * span + (period - period.min())
    size = len(keys) * span
    # counting is linear; sorting a million keys is not
    if size <= 50_000_000 and int(np.bincount(cell, minlength=size).max()) <= 1:
        return
    order = np.argsort(cell, kind="stable")
    dup = np.flatnonzero(cell[order][1:] == cell[order][:-1])
    if not dup.size:
        return
    second = int(order[1:][dup].min())
    first = int(np.flatnonzero(cell == cell[second])[0])
    what = ", ".join([Period(grain, int(period[second])).label, *keys[int(g[second])]])
    raise InputError(
        f"duplicate row for ({what}): the same key is on row {first + 1}",
        code="KPI-E020",
        row=second + 1,
        column="period",
        hint="each period and dimension member may appear once; sum them first",
    )


def aggregate(cell: np.ndarray, order: np.ndarray, v: np.ndarray, how: str, n: int) -> np.ndarray:
    """Combine ``v`` per ``cell`` (0..n-1) by ``how``; ``order`` ranks values for first/last.

    Null propagates: a cell any of whose values is null is null (a total over stores where one
    store's value is unknown is unknown, not the other stores' sum). ``first`` / ``last`` take
    the value of the first / last period present, null or not.
    """
    out = np.full(n, np.nan)
    if how in ("first", "last"):
        idx = np.lexsort((order, cell))
        cs = cell[idx]
        boundary = cs[1:] != cs[:-1]
        edge = np.flatnonzero(np.r_[True, boundary] if how == "first" else np.r_[boundary, True])
        out[cs[edge]] = v[idx][edge]
        return out
    ok = ~np.isnan(v)
    counts = np.bincount(cell, minlength=n)
    complete = (np.bincount(cell[ok], minlength=n) == counts) & (counts > 0)
    c, x = cell[ok], v[ok]
    if how in ("sum", "avg"):
        total = np.bincount(c, weights=x, minlength=n)
        out[complete] = total[complete] / (counts[complete] if how == "avg" else 1)
    elif how in ("min", "max"):
        acc = np.full(n, np.inf if how == "min" else -np.inf)
        (np.minimum if how == "min" else np.maximum).at(acc, c, x)
        out[complete] = acc[complete]
    else:  # pragma: no cover - the schema allows nothing else
        raise ValueError(how)
    return out


def across_members(cells: Cells, by: tuple[str, ...], rules: dict[str, str]) -> Cells:
    """Step 1: combine dimension members within each period, keeping the ``by`` dimensions."""
    pos = [cells.dims.index(d) for d in by]
    projected = [tuple(k[i] for i in pos) for k in cells.keys]
    keys = sorted(set(projected))
    code = {k: i for i, k in enumerate(keys)}
    g_by = np.asarray([code[k] for k in projected], np.int64)[cells.g] if len(cells.g) else cells.g
    return _combine(cells, by, keys, g_by, cells.t, cells.grain, rules, count_how="max")


def across_periods(cells: Cells, grain: str, rules: dict[str, str]) -> Cells:
    """Step 2: combine periods into the coarser ``grain``."""
    uniq, inv = np.unique(cells.t, return_inverse=True)
    mapped = np.asarray([Period(cells.grain, int(t)).to(grain).index for t in uniq], np.int64)
    return _combine(
        cells,
        cells.dims,
        cells.keys,
        cells.g,
        mapped[inv.reshape(-1)],
        grain,
        rules,
        count_how="sum",
    )


def _combine(
    cells: Cells,
    dims: tuple[str, ...],
    keys: list[tuple[str, ...]],
    g: np.ndarray,
    t: np.ndarray,
    grain: str,
    rules: dict[str, str],
    count_how: str,
) -> Cells:
    if len(g) == 0:
        return Cells(
            grain, dims, keys, g, t, {k: v[:0] for k, v in cells.values.items()}, cells.count[:0]
        )
    span = int(t.max() - t.min() + 1)
    key = g * span + (t - t.min())
    uniq, cell = np.unique(key, return_inverse=True)
    cell = cell.reshape(-1)
    n = len(uniq)
    values = {
        name: aggregate(cell, cells.t, v, rules.get(name, "sum"), n)
        for name, v in cells.values.items()
    }
    count = aggregate(cell, cells.t, cells.count, count_how, n)
    return Cells(grain, dims, keys, uniq // span, uniq % span + t.min(), values, count)


def to_frame(
    cells: Cells, cut: date | None = None, span: Span | None = None, base: str | None = None
) -> Frame:
    """The dense frame of some cells: groups sorted by their labels, periods on a contiguous axis.
    ``cut``: the day after the data's last day; ``span``: the base periods of an "all" frame."""
    order = sorted(range(len(cells.keys)), key=lambda i: cells.keys[i])
    rank = np.empty(len(order), np.int64)
    rank[order] = np.arange(len(order))
    keys = [cells.keys[i] for i in order]
    n_groups = len(keys)
    if len(cells.t):
        t0, t1 = int(cells.t.min()), int(cells.t.max())
        width = t1 - t0 + 1
    else:
        t0, width = 0, 0
    if n_groups * width > MAX_CELLS:
        shown = f"{Period(cells.grain, t0).label} to {Period(cells.grain, t0 + width - 1).label}"
        raise InputError(
            f"the data spans {width:,} {cells.grain}s ({shown}) for {n_groups:,} group(s): "
            f"{n_groups * width:,} cells, more than the {MAX_CELLS:,} one evaluation may hold",
            code="KPI-E021",
            column="period",
            hint="check for a mistyped period far from the others, or evaluate "
            "fewer groups or a shorter span at a time",
        )
    g = rank[cells.g] if len(cells.g) else cells.g
    t = cells.t - t0
    present = np.zeros((n_groups, width), bool)
    present[g, t] = True
    count = np.zeros((n_groups, width))
    count[g, t] = cells.count
    first = np.where(present.any(axis=1), present.argmax(axis=1), width)
    frame = Frame(
        cells.grain, t0, cells.dims, keys, present, first, count, cut=cut, span=span, base=base
    )
    flat = g * width + t
    in_order = (
        len(flat) == n_groups * width and bool(np.all(flat[1:] > flat[:-1])) if len(flat) else False
    )
    for name, v in cells.values.items():
        if in_order:  # a complete grid already sorted by group and period: a view, no copy
            frame.columns[name] = np.asarray(v, dtype=np.float64).reshape(n_groups, width)
            continue
        dense = np.full(n_groups * width, np.nan)
        dense[flat] = v
        frame.columns[name] = dense.reshape(n_groups, width)
    return frame


def frame_cells(frame: Frame, names: list[str]) -> Cells:
    """Present cells of a frame back as cells (to roll computed metrics up like inputs)."""
    g, t = frame.cells()
    return Cells(
        frame.grain,
        frame.dims,
        frame.keys,
        g,
        t + frame.t0,
        {n: frame.columns[n][g, t] for n in names},
        frame.count[g, t],
    )


def place(frame: Frame, cells: Cells) -> None:
    """Write the values of ``cells`` (same grain and dimensions as the frame) into its columns;
    cells the frame has no row or period for are left out."""
    if not len(cells.g):
        for name in cells.values:
            frame.columns[name] = np.full(frame.shape, np.nan)
        return
    index = {key: k for k, key in enumerate(frame.keys)}
    keys = [
        tuple(dict(zip(cells.dims, key, strict=True))[d] for d in frame.dims) for key in cells.keys
    ]
    group = np.asarray([index.get(key, -1) for key in keys], np.int64)[cells.g]
    column = cells.t - frame.t0
    ok = (group >= 0) & (column >= 0) & (column < frame.shape[1])
    for name, v in cells.values.items():
        dense = np.full(frame.shape, np.nan)
        dense[group[ok], column[ok]] = np.asarray(v, dtype=np.float64)[ok]
        frame.columns[name] = dense
