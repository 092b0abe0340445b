"""Evaluation benchmark: the engine against hand-written NumPy and naive sympy, bakery pack.

Synthetic bakery data (seeded NumPy RNG) with every input the bakery metrics need, S stores ×
months from 2016-01, one row per (store, month), columnar. Three ways to compute the same
metrics at month grain by store:

1. engine:       `evaluate(compile_pack("bakery-stored-value"), table)`, then `values(m)` of
                 every metric whose inputs are present (not `to_json`); best of 3;
2. hand-written: the same formulas in direct NumPy on [stores × months] arrays (carry-over
                 recurrences as a loop over months on [stores] vectors, growth, cumulative
                 sums, division by zero → NaN); best of 3. Two figures:
                   "hand"      from the same columnar table (grouping with np.unique included),
                   "formulas"  the formulas alone on arrays already shaped [stores × months];
3. sympy:        row by row on a sample of rows (`expr.subs(...)`, `evalf`, in dependency
                 order), extrapolated to the full size; run once.

    .venv/bin/python bench/eval_bench.py            # 1,000 × 120 and 10,000 × 120
    .venv/bin/python bench/eval_bench.py --quick    # 100 × 24, a few seconds
    .venv/bin/python bench/eval_bench.py --strict   # exit 1 if a target is missed
    .venv/bin/python bench/eval_bench.py --profile  # add a cProfile table of the engine

Targets: engine / hand ≤ 1.5; sympy (extrapolated) / engine ≥ 100. The engine and hand-written
results must agree (closing_amount, active_rate, gift_share to 1e-9 relative, same nulls), or
the benchmark exits 2: a comparison with a wrong implementation means nothing. Otherwise it
exits 0 whatever the numbers, unless --strict is given.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import math
import pstats
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import sympy

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from engine.compile.pack import compile_pack  # noqa: E402
from engine.formula import CumulativeSum, Growth, KpiFunction, Previous  # noqa: E402
from engine.load.library import PackLibrary  # noqa: E402

try:
    from engine.evaluate.evaluation import evaluate
except ImportError as err:  # the evaluator is being written: the baselines still run
    evaluate = None
    EVALUATE_MISSING = str(err)
else:
    EVALUATE_MISSING = ""

PACK = "bakery-stored-value"
SEED = 20240601
TARGET_ENGINE_OVER_HAND = 1.5
TARGET_SYMPY_OVER_ENGINE = 100.0
CHECKED = ("closing_amount", "active_rate", "gift_share")
RTOL = 1e-9

#: The inputs the bakery metrics need (membership-core inputs such as marketing_spend are
#: absent, so the metrics that need them are unavailable to the engine and skipped here too).
INPUTS = (
    "imported_balance",
    "recharge_amount",
    "points_to_balance",
    "consume_amount",
    "net_income",
    "net_spent",
    "gift_income",
    "gift_spent",
    "points_from_consume",
    "points_from_recharge",
    "points_redeemed",
    "points_converted",
    "points_expired",
    "points_deleted",
    "rebate_income",
    "rebate_spent",
    "initial_net",
    "initial_gift",
    "initial_points",
    "initial_rebate",
    "reported_closing_amount",
    "opening_members",
    "closing_members",
    "new_members",
    "churned_members",
    "recharge_count",
    "consume_count",
)


# ---------------------------------------------------------------------------------------
# synthetic data
# ---------------------------------------------------------------------------------------


def month_labels(n: int, start_year: int = 2016) -> np.ndarray:
    return np.array([f"{start_year + m // 12}-{m % 12 + 1:02d}" for m in range(n)])


def store_labels(n: int) -> np.ndarray:
    return np.array([f"S{s:05d}" for s in range(n)])


def make_data(stores: int, months: int, seed: int = SEED) -> dict[str, np.ndarray]:
    """Every input as a [stores × months] float64 array; consistent like a real POS export.

    Recharges split into principal + bonus and spending into principal + bonus spent (so the
    balance identity holds); some months have no recharge at all (0 / 0 ratios), some no new
    members (growth from zero), and about 1 % of reported balances are off by a few cents.
    """
    rng = np.random.default_rng(seed)
    shape = (stores, months)
    scale = rng.lognormal(0.0, 0.5, size=(stores, 1))  # shop size

    def money(x: np.ndarray) -> np.ndarray:
        return np.round(x, 2)

    d: dict[str, np.ndarray] = {}
    recharge_count = rng.poisson(40 * scale, size=shape).astype(float)
    recharge_count[rng.random(shape) < 0.03] = 0.0  # months without a recharge
    d["recharge_count"] = recharge_count
    d["net_income"] = money(recharge_count * rng.uniform(110, 180, shape))
    d["gift_income"] = money(d["net_income"] * rng.uniform(0.08, 0.3, shape))
    d["recharge_amount"] = d["net_income"] + d["gift_income"]
    d["consume_count"] = rng.poisson(180 * scale, size=shape).astype(float)
    d["consume_amount"] = money(d["consume_count"] * rng.uniform(25, 50, shape))
    d["net_spent"] = money(d["consume_amount"] * rng.uniform(0.75, 0.9, shape))
    d["gift_spent"] = d["consume_amount"] - d["net_spent"]
    d["imported_balance"] = money(
        np.where(rng.random(shape) < 0.05, rng.uniform(0, 5000, shape), 0.0)
    )
    d["points_to_balance"] = money(rng.uniform(0, 200, shape) * scale)
    d["points_from_consume"] = np.floor(d["consume_amount"])
    d["points_from_recharge"] = np.floor(d["recharge_amount"] * 0.5)
    d["points_redeemed"] = np.floor(d["points_from_consume"] * rng.uniform(0.1, 0.4, shape))
    d["points_converted"] = np.floor(d["points_to_balance"] * 100)
    d["points_expired"] = np.floor(rng.uniform(0, 300, shape) * scale)
    d["points_deleted"] = np.floor(rng.uniform(0, 20, shape))
    d["rebate_income"] = money(rng.uniform(0, 300, shape) * scale)
    d["rebate_spent"] = money(d["rebate_income"] * rng.uniform(0.3, 1.0, shape))
    for name, size in (
        ("initial_net", 80_000),
        ("initial_gift", 12_000),
        ("initial_points", 500_000),
        ("initial_rebate", 2_000),
    ):
        # `time: first`: only the first month counts; a real export repeats it on every row
        d[name] = np.repeat(
            money(size * scale * rng.uniform(0.5, 1.5, (stores, 1))), months, axis=1
        )
    new = rng.poisson(35 * scale, size=shape).astype(float)
    new[rng.random(shape) < 0.02] = 0.0  # months without a new member
    churned = rng.poisson(25 * scale, size=shape).astype(float)
    start = np.round(1000 * scale)
    closing = np.maximum(start + np.cumsum(new - churned, axis=1), 1.0)
    d["new_members"], d["churned_members"] = new, churned
    d["closing_members"] = closing
    d["opening_members"] = np.concatenate([start, closing[:, :-1]], axis=1)
    # the POS system's own closing balance, from the flows with a cumulative sum
    flows = (
        d["imported_balance"] + d["recharge_amount"] + d["points_to_balance"] - d["consume_amount"]
    )
    true_closing = d["initial_net"][:, :1] + d["initial_gift"][:, :1] + np.cumsum(flows, axis=1)
    off = np.where(
        rng.random(shape) < 0.01, rng.choice([-1, 1], shape) * rng.uniform(0.02, 5, shape), 0.0
    )
    d["reported_closing_amount"] = money(true_closing + off)
    assert set(d) == set(INPUTS), set(INPUTS) ^ set(d)
    return d


def to_table(
    grid: dict[str, np.ndarray], stores: np.ndarray, months: np.ndarray
) -> dict[str, np.ndarray]:
    """Columnar input: one row per (store, month), store-major, as a warehouse export."""
    s, t = len(stores), len(months)
    table: dict[str, np.ndarray] = {"period": np.tile(months, s), "store": np.repeat(stores, t)}
    for name, arr in grid.items():
        table[name] = np.ascontiguousarray(arr).reshape(-1)
    return table


# ---------------------------------------------------------------------------------------
# hand-written NumPy
# ---------------------------------------------------------------------------------------


def _div(a: np.ndarray, b: np.ndarray | float) -> np.ndarray:
    """a / b with division by zero giving NaN (null), never inf."""
    with np.errstate(divide="ignore", invalid="ignore"):
        r = np.divide(a, b)
    if isinstance(b, np.ndarray):
        r[b == 0] = np.nan
    elif b == 0:
        r[...] = np.nan
    return r


def _growth(x: np.ndarray) -> np.ndarray:
    """(x - previous x) / previous x along months; null in the first month and from 0."""
    out = np.full_like(x, np.nan)
    prev = x[:, :-1]
    out[:, 1:] = _div(x[:, 1:] - prev, prev)
    return out


def hand_grid(table: dict[str, np.ndarray]) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray]:
    """Group the columnar table into [stores × months] arrays (any row order; gaps are NaN)."""
    stores, si = np.unique(table["store"], return_inverse=True)
    months, mi = np.unique(table["period"], return_inverse=True)  # YYYY-MM sorts by time
    shape = (len(stores), len(months))
    flat = si * shape[1] + mi
    grid: dict[str, np.ndarray] = {}
    for name in INPUTS:
        g = np.full(shape[0] * shape[1], np.nan)
        g[flat] = table[name]
        grid[name] = g.reshape(shape)
    return grid, stores, months


def hand_formulas(
    x: dict[str, np.ndarray], high_value_factor: float = 1.5
) -> dict[str, np.ndarray]:
    """Every bakery metric (plus membership-core's new_member_growth) at month grain."""
    s, t = x["net_income"].shape
    periods = 1.0  # month grain: one base period per row
    m: dict[str, np.ndarray] = {}

    # -- carry-over recurrences (opening = previous closing), period by period ------------
    d_net = x["net_income"] - x["net_spent"] + x["imported_balance"]
    d_gift = x["gift_income"] - x["gift_spent"] + x["points_to_balance"]
    d_points = (
        x["points_from_consume"]
        + x["points_from_recharge"]
        - x["points_redeemed"]
        - x["points_converted"]
        - x["points_expired"]
        - x["points_deleted"]
    )
    d_rebate = x["rebate_income"] - x["rebate_spent"]
    for name in ("net", "gift", "points", "rebate"):
        m[f"opening_{name}"] = np.empty((s, t))
        m[f"closing_{name}"] = np.empty((s, t))
    state = {
        name: x[f"initial_{name}"][:, 0].copy() for name in ("net", "gift", "points", "rebate")
    }
    flows = {"net": d_net, "gift": d_gift, "points": d_points, "rebate": d_rebate}
    for k in range(t):
        for name, flow in flows.items():
            m[f"opening_{name}"][:, k] = state[name]
            state[name] = state[name] + flow[:, k]
            m[f"closing_{name}"][:, k] = state[name]

    # -- balances ------------------------------------------------------------------------
    m["carryover_amount"] = m["opening_net"] + m["opening_gift"]
    m["opening_amount"] = x["imported_balance"] + m["carryover_amount"]
    m["closing_amount"] = (
        m["opening_amount"] + x["recharge_amount"] + x["points_to_balance"] - x["consume_amount"]
    )
    m["balance_net_change"] = m["closing_amount"] - m["opening_amount"]
    m["balance_gap"] = x["reported_closing_amount"] - m["closing_amount"]
    m["avg_balance"] = (m["opening_amount"] + m["closing_amount"]) / 2
    m["avg_gift_balance"] = (m["opening_gift"] + m["closing_gift"]) / 2
    m["cumulative_principal"] = np.cumsum(x["net_income"], axis=1)
    m["cumulative_gift"] = np.cumsum(x["gift_income"], axis=1)

    # -- members -------------------------------------------------------------------------
    visits = x["recharge_count"] + x["consume_count"]
    m["avg_members"] = (x["opening_members"] + x["closing_members"]) / 2
    m["monthly_new_members"] = x["new_members"] / periods
    m["active_rate"] = _div(visits / periods, m["avg_members"])
    m["churn_rate"] = _div(x["churned_members"] / periods, m["avg_members"])
    m["member_growth_rate"] = _growth(x["closing_members"])
    m["new_member_growth"] = _growth(x["new_members"])

    # -- efficiency ----------------------------------------------------------------------
    m["monthly_recharge_amount"] = x["recharge_amount"] / periods
    m["monthly_consume_amount"] = x["consume_amount"] / periods
    m["recharge_per_visit"] = _div(x["recharge_amount"], x["recharge_count"])
    m["consume_per_visit"] = _div(x["consume_amount"], x["consume_count"])
    m["consume_to_recharge_ratio"] = _div(x["consume_amount"], x["recharge_amount"])
    m["gift_utilization"] = _div(
        x["gift_spent"] / periods, m["avg_gift_balance"] + x["gift_income"] / periods
    )
    m["sedimentation_rate"] = _div(m["avg_balance"], x["net_income"] / periods)
    m["fund_turnover"] = _div(x["consume_amount"] / periods, m["avg_balance"])
    m["gift_share"] = _div(x["gift_income"], x["net_income"])
    m["high_value_estimate"] = _div(
        x["recharge_amount"], m["recharge_per_visit"] * high_value_factor
    )
    m["high_value_share"] = _div(m["high_value_estimate"], m["avg_members"])
    m["silent_estimate"] = np.maximum(0.0, m["avg_members"] - visits / periods)  # NaN propagates
    return m


def hand_all(table: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    grid, _, _ = hand_grid(table)
    return hand_formulas(grid)


# ---------------------------------------------------------------------------------------
# engine
# ---------------------------------------------------------------------------------------


def available_metrics(compiled: Any, columns: set[str]) -> list[str]:
    """Metrics (in evaluation order) whose inputs are all columns or optional with a default."""
    pack, graph = compiled.pack, compiled.graph
    ok = []
    for name in graph.order:
        needed = {n for n in graph.upstream(name) if n in pack.inputs}
        if all(n in columns or not pack.inputs[n].required for n in needed):
            ok.append(name)
    return ok


def engine_run(
    compiled: Any, table: dict[str, np.ndarray], metrics: list[str]
) -> tuple[Any, dict[str, np.ndarray]]:
    assert evaluate is not None
    result = evaluate(compiled, table, grain=None, by=None, metrics=None, params=None)
    return result, {name: np.asarray(result.values(name), dtype=float) for name in metrics}


def engine_to_grid(
    result: Any, values: dict[str, np.ndarray], stores: np.ndarray, months: np.ndarray
) -> dict[str, np.ndarray]:
    """Engine output rows → [stores × months] arrays (whatever the output row order)."""
    periods, dims = result.row_keys()
    p = np.asarray(periods)
    st = np.asarray(dims["store"])
    pi, si = np.searchsorted(months, p), np.searchsorted(stores, st)
    pi_c, si_c = np.minimum(pi, len(months) - 1), np.minimum(si, len(stores) - 1)
    if len(p) != len(stores) * len(months) or not (
        np.all(months[pi_c] == p) and np.all(stores[si_c] == st)
    ):
        raise AssertionError(
            f"engine rows do not match the input grid: {len(p)} rows for "
            f"{len(stores)} stores × {len(months)} months"
        )
    out = {}
    for name, v in values.items():
        g = np.full((len(stores), len(months)), np.nan)
        g[si, pi] = v
        out[name] = g
    return out


def compare(
    a: np.ndarray, b: np.ndarray, rtol: float = RTOL, atol: float = 0.0
) -> tuple[bool, str]:
    """Same nulls, and |a - b| <= atol + rtol × max(|a|, |b|) elsewhere."""
    na, nb = np.isnan(a), np.isnan(b)
    if not np.array_equal(na, nb):
        k = int(np.argmax(na != nb))
        return (
            False,
            f"null mismatch at {np.unravel_index(k, a.shape)}: {a.flat[k]!r} "
            f"vs {b.flat[k]!r} ({int((na != nb).sum())} cells)",
        )
    both = ~na
    diff = np.abs(a[both] - b[both])
    lim = atol + rtol * np.maximum(np.abs(a[both]), np.abs(b[both]))
    bad = diff > lim
    if bad.any():
        k = int(np.argmax(diff - lim))
        return False, (
            f"{int(bad.sum())} cells differ; worst {a[both][k]!r} vs {b[both][k]!r} "
            f"(rel {diff[k] / max(abs(a[both][k]), abs(b[both][k]), 1e-300):.2e})"
        )
    return True, f"{int(both.sum())} values, {int(na.sum())} nulls"


# ---------------------------------------------------------------------------------------
# sympy row by row
# ---------------------------------------------------------------------------------------


def _as_float(value: Any) -> float:
    try:
        f = float(value.evalf() if isinstance(value, sympy.Basic) else value)
    except (TypeError, ValueError):  # zoo, nan, a leftover symbol: null
        return math.nan
    return f if math.isfinite(f) else math.nan


def _outer_symbols(expr: Any) -> set[Any]:
    """Symbols named outside time-function calls (those calls get a number of their own)."""
    if isinstance(expr, sympy.Symbol):
        return {expr}
    if isinstance(expr, KpiFunction):
        return set()
    return set().union(*(_outer_symbols(a) for a in expr.args)) if expr.args else set()


def sympy_rows(
    compiled: Any,
    grid: dict[str, np.ndarray],
    metrics: list[str],
    n_rows: int,
    params: dict[str, float],
) -> tuple[float, int, dict[str, dict[tuple[int, int], float]]]:
    """Evaluate `n_rows` rows (store by store, month by month) with subs/evalf; return time."""
    order = [m for m in compiled.graph.order if m in set(metrics)]
    exprs = {m: compiled.formulas[m].expr for m in order}
    calls = {m: sorted(e.atoms(KpiFunction), key=str) for m, e in exprs.items()}
    syms = {m: sorted(_outer_symbols(e), key=str) for m, e in exprs.items()}
    stores, months = grid["net_income"].shape
    out: dict[str, dict[tuple[int, int], float]] = {m: {} for m in order}
    done = 0
    t0 = time.perf_counter()
    for s in range(stores):
        prev: dict[str, float] = {}
        running: dict[Any, float] = {}
        for t in range(months):
            if done >= n_rows:
                break
            row: dict[str, float] = {k: float(grid[k][s, t]) for k in INPUTS}
            row.update(params)
            row["periods"] = 1.0
            row["days"] = 30.0  # not used by the bakery metrics
            for name in order:
                expr = exprs[name]
                sub: dict[Any, Any] = {}
                null = False
                for call in calls[name]:
                    arg = call.args[0].name
                    if isinstance(call, Previous):
                        v = row[call.args[2].name] if t == 0 else prev[arg]
                    elif isinstance(call, Growth):
                        v = (
                            math.nan
                            if t == 0 or prev[arg] == 0
                            else (row[arg] - prev[arg]) / prev[arg]
                        )
                    elif isinstance(call, CumulativeSum):
                        v = running[call] = running.get(call, 0.0) + row[arg]
                    else:
                        raise NotImplementedError(type(call).__name__)
                    null |= math.isnan(v)
                    sub[call] = v
                for sym in syms[name]:
                    v = row[sym.name]
                    null |= math.isnan(v)
                    sub[sym] = v
                # null propagates: a NaN operand makes the metric null without asking sympy;
                # simultaneous=True so that 0 / 0 becomes nan (one by one, 0 * (1/y) is 0 first)
                row[name] = math.nan if null else _as_float(expr.subs(sub, simultaneous=True))
                out[name][s, t] = row[name]
            prev = row
            done += 1
        if done >= n_rows:
            break
    return time.perf_counter() - t0, done, out


# ---------------------------------------------------------------------------------------
# driver
# ---------------------------------------------------------------------------------------


def best(fn: Callable[[], Any], repeats: int) -> tuple[float, Any]:
    times, value = [], None
    for _ in range(repeats):
        t0 = time.perf_counter()
        value = fn()
        times.append(time.perf_counter() - t0)
        if times[-1] > 60:  # one very slow run is enough to know
            break
    return min(times), value


def parse_sizes(text: str) -> list[tuple[int, int]]:
    out = []
    for part in text.split(","):
        s, _, t = part.lower().partition("x")
        out.append((int(s), int(t or 120)))
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--quick", action="store_true", help="smoke run: 100 stores × 24 months")
    ap.add_argument("--strict", action="store_true", help="exit 1 if a target is missed")
    ap.add_argument(
        "--sizes",
        type=parse_sizes,
        default=None,
        help="stores x months, comma-separated (default 1000x120,10000x120)",
    )
    ap.add_argument(
        "--sample-rows",
        type=int,
        default=None,
        help="rows evaluated with sympy (default 200; 24 with --quick)",
    )
    ap.add_argument(
        "--profile",
        action="store_true",
        help="also print a cProfile table (top 15, "
        "cumulative) of one engine run on the largest size",
    )
    ap.add_argument(
        "--repeats", type=int, default=3, help="best of N for engine and hand-written (default 3)"
    )
    args = ap.parse_args(argv)

    sizes = args.sizes or ([(100, 24)] if args.quick else [(1000, 120), (10000, 120)])
    sample_rows = args.sample_rows or (24 if args.quick else 200)
    json_size = sizes[0] if args.quick else next((z for z in sizes if z[0] == 1000), None)

    compiled = compile_pack(PACK, PackLibrary.default())
    params = {name: float(p.value) for name, p in compiled.pack.params.items()}
    metrics = available_metrics(compiled, set(INPUTS))
    hand_names = set(hand_formulas(make_data(2, 3)))
    if set(metrics) != hand_names:
        print(
            "ERROR: the hand-written metrics differ from the pack's available "
            f"ones: only in the pack {sorted(set(metrics) - hand_names)}, only "
            f"hand-written {sorted(hand_names - set(metrics))}"
        )
        return 2

    print(
        f"{PACK}: {len(metrics)} metrics available from {len(INPUTS)} inputs, month grain by "
        f"store; engine and hand-written best of {args.repeats}, sympy on {sample_rows} rows, once"
    )
    if evaluate is None:
        print(
            f"engine: engine.evaluate.evaluation is not importable ({EVALUATE_MISSING}); "
            "baselines only"
        )
    print()

    # sympy: per-row cost does not depend on the size; measured once on the first size's data
    s0, t0_months = sizes[0]
    grid0 = make_data(s0, t0_months)
    sym_time, sym_rows, sym_out = sympy_rows(compiled, grid0, metrics, sample_rows, params)
    per_row = sym_time / sym_rows
    hand0 = hand_formulas(grid0)
    mismatches = []
    for name, cells in sym_out.items():
        a = np.array([hand0[name][k] for k in cells])
        b = np.array(list(cells.values()))
        ok, why = compare(a, b, rtol=1e-9, atol=1e-9)
        if not ok:
            mismatches.append(f"{name}: {why}")
    print(
        f"sympy row by row: {sym_rows} rows × {len(metrics)} metrics in {sym_time:.2f} s = "
        f"{per_row * 1000:.2f} ms/row; agrees with hand-written: "
        f"{'yes' if not mismatches else 'NO — ' + '; '.join(mismatches[:3])}"
    )
    del grid0, hand0

    rows_out = []
    profile_text = ""
    failed = False
    broken = False
    for stores_n, months_n in sizes:
        grid = make_data(stores_n, months_n)
        stores, months = store_labels(stores_n), month_labels(months_n)
        table = to_table(grid, stores, months)
        n = stores_n * months_n

        t_form, hand = best(lambda g=grid: hand_formulas(g), args.repeats)
        t_hand, _ = best(lambda tb=table: hand_all(tb), args.repeats)
        t_sym = per_row * n

        t_eng = math.nan
        note = ""
        if evaluate is not None:
            t_eng, (result, values) = best(
                lambda tb=table: engine_run(compiled, tb, metrics), args.repeats
            )
            eng = engine_to_grid(result, values, stores, months)
            for name in CHECKED:
                ok, why = compare(eng[name], hand[name])
                print(
                    f"  {stores_n:,} × {months_n}: engine vs hand-written "
                    f"{name}: {'OK' if ok else 'MISMATCH'} ({why})"
                )
                broken |= not ok
            others = [
                name
                for name in metrics
                if name not in CHECKED
                and not compare(eng[name], hand[name], rtol=RTOL, atol=1e-6)[0]
            ]
            print(
                f"  {stores_n:,} × {months_n}: other metrics within 1e-9 rel / 1e-6 abs: "
                f"{len(metrics) - len(CHECKED) - len(others)}/{len(metrics) - len(CHECKED)}"
                + (f"; differ: {', '.join(others)}" if others else "")
            )
            if json_size == (stores_n, months_n):
                t_json, doc = best(result.to_json, 1)
                size = f", {len(doc) / 1e6:.1f} MB" if isinstance(doc, str | bytes) else ""
                note = (
                    f"to_json() for {stores_n:,} × {months_n} ({n:,} "
                    f"rows): {t_json:.2f} s{size} (not in the ratio)"
                )
            del result, values, eng
            if args.profile and (stores_n, months_n) == sizes[-1]:
                prof = cProfile.Profile()
                prof.enable()
                engine_run(compiled, table, metrics)
                prof.disable()
                buf = io.StringIO()
                pstats.Stats(prof, stream=buf).sort_stats("cumulative").print_stats(15)
                profile_text = (
                    f"cProfile of one engine run on {stores_n:,} × {months_n}:\n{buf.getvalue()}"
                )
        rows_out.append((stores_n, months_n, t_eng, t_hand, t_form, t_sym))
        if note:
            print("  " + note)
        del grid, table, hand

    print()
    head = (
        f"{'size':>12} {'rows':>10} {'engine s':>9} {'hand s':>8} {'formulas s':>10} "
        f"{'eng/hand':>9} {'eng/form':>9} {'sympy s*':>10} {'sympy/eng':>10}"
    )
    print(head)
    for stores_n, months_n, t_eng, t_hand, t_form, t_sym in rows_out:
        r_hand = t_eng / t_hand
        r_form = t_eng / t_form
        r_sym = t_sym / t_eng
        print(
            f"{f'{stores_n:,}×{months_n}':>12} {stores_n * months_n:>10,} "
            f"{t_eng:>9.3f} {t_hand:>8.3f} {t_form:>10.3f} {r_hand:>9.2f} "
            f"{r_form:>9.2f} {t_sym:>10.1f} {r_sym:>10.0f}"
        )
    print("  * sympy extrapolated from the per-row time of the sample")
    print(
        "  hand = hand-written NumPy from the same columnar table (grouping included);"
        " formulas = the formulas alone on [stores × months] arrays"
    )
    print()
    for stores_n, months_n, t_eng, t_hand, _t_form, t_sym in rows_out:
        if math.isnan(t_eng):
            print(f"{stores_n:,}×{months_n}: engine not run — targets not checked")
            continue
        ok1 = t_eng / t_hand <= TARGET_ENGINE_OVER_HAND
        ok2 = t_sym / t_eng >= TARGET_SYMPY_OVER_ENGINE
        failed |= not (ok1 and ok2)
        print(
            f"{stores_n:,}×{months_n}: engine/hand {t_eng / t_hand:.2f} (target "
            f"≤ {TARGET_ENGINE_OVER_HAND}) {'PASS' if ok1 else 'FAIL'}; "
            f"sympy/engine {t_sym / t_eng:.0f} (target ≥ "
            f"{TARGET_SYMPY_OVER_ENGINE:g}) {'PASS' if ok2 else 'FAIL'}"
        )
    if profile_text:
        print()
        print(profile_text)
    if broken:
        print(
            "ERROR: the engine and the hand-written NumPy "
            "disagree; the ratios above compare different results"
        )
        return 2
    if args.strict and (failed or evaluate is None):
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
