"""Compile-time benchmark: how long `check_text` takes on large generated packs.

Packs are generated as YAML text with N metrics in two shapes:

* chain:   m_i = m_{i-1} * 1.01 + x_k          (one long dependency chain)
* fan-in:  layers of metrics, each summing ~10 metrics of the layer below (layer 1 sums
           inputs), plus ratios of two metrics of the layer below

with a few dozen inputs, {zh, en} labels on everything and one band on every 10th metric.
`check_text(yaml_text)` is the full compile (load, schema, formulas, rules, graph, proofs).

    .venv/bin/python bench/compile_bench.py            # 500, 2,000, 8,000 metrics
    .venv/bin/python bench/compile_bench.py --quick    # 100 and 400 metrics, smoke run
    .venv/bin/python bench/compile_bench.py --profile  # always print the cProfile table
    .venv/bin/python bench/compile_bench.py --strict   # exit 1 if a target is missed

Targets: 2,000 metrics compile in under 2 s; growth 2,000 → 8,000 near-linear (~4×).
Exits 0 whatever the numbers unless --strict is given.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import math
import pstats
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from engine.compile import pack as compile_module  # noqa: E402
from engine.compile.pack import check_text  # noqa: E402
from engine.load.library import PackLibrary  # noqa: E402

N_INPUTS = 40
FAN_IN = 10
LAYER_WIDTH = 500  # metrics per fan-in layer (the last layer may be shorter)
TARGET_2000_S = 2.0
TARGET_GROWTH = 4.0  # 2,000 → 8,000; "near-linear" — we flag anything above 1.5 × this


def _header(name: str) -> list[str]:
    lines = [
        f"pack: {name}",
        "version: '1.0.0'",
        "title: {zh: 基准包, en: Benchmark pack}",
        "locales: [zh, en]",
        "grain: month",
        "dimensions:",
        "  store: {label: {zh: 门店, en: Store}}",
        "inputs:",
    ]
    for k in range(N_INPUTS):
        lines.append(
            f"  x_{k}: {{label: {{zh: 输入{k}, en: Input {k}}}, "
            "unit: CNY, rollup: {time: sum, dims: sum}}"
        )
    lines.append("metrics:")
    return lines


def _metric(lines: list[str], i: int, formula: str, unit: str = "CNY") -> None:
    lines.append(f"  m_{i}:")
    lines.append(f"    label: {{zh: 指标{i}, en: Metric {i}}}")
    lines.append(f"    formula: {formula}")
    lines.append(f"    unit: {unit}")
    if i % 10 == 0:
        lines.append("    bands:")
        lines.append("      - {status: good, min: 0, label: {zh: 正常, en: Normal}}")


def chain_pack(n: int) -> str:
    """m_0 = x_0; m_i = m_{i-1} * 1.01 + x_{i mod N_INPUTS}."""
    lines = _header(f"bench-chain-{n}")
    _metric(lines, 0, "x_0")
    for i in range(1, n):
        _metric(lines, i, f"m_{i - 1} * 1.01 + x_{i % N_INPUTS}")
    return "\n".join(lines) + "\n"


def fanin_pack(n: int) -> str:
    """Layers of LAYER_WIDTH metrics; every 5th metric of a layer is a ratio, the rest sums.

    Layer 1 sums FAN_IN inputs (ratios of two inputs); layer L > 1 sums FAN_IN metrics of
    layer L - 1 (ratios of two of them), picked with a stride so that every metric of the
    layer below is used.
    """
    lines = _header(f"bench-fanin-{n}")
    below: list[str] = [f"x_{k}" for k in range(N_INPUTS)]
    i = 0
    while i < n:
        width = min(LAYER_WIDTH, n - i)
        layer: list[str] = []
        for j in range(width):
            b = len(below)
            if j % 5 == 4:
                formula = f"{below[j % b]} / {below[(j * 7 + 3) % b]}"
                unit = "ratio"
            else:
                picks = [below[(j * FAN_IN + t) % b] for t in range(FAN_IN)]
                # keep the terms distinct when the layer below is small (the inputs)
                picks = list(dict.fromkeys(picks))
                formula = " + ".join(picks)
                unit = "CNY"
            _metric(lines, i, formula, unit)
            layer.append(f"m_{i}")
            i += 1
        below = layer
    return "\n".join(lines) + "\n"


SHAPES: dict[str, Callable[[int], str]] = {"chain": chain_pack, "fan-in": fanin_pack}


def compile_once(text: str) -> float:
    t0 = time.perf_counter()
    compiled, problems = check_text(text)
    dt = time.perf_counter() - t0
    if compiled is None:
        errors = [p for p in problems if p.severity == "error"]
        shown = "; ".join(f"{p.code} {p.message}" for p in errors[:5])
        raise RuntimeError(f"generated pack did not compile ({len(errors)} errors): {shown}")
    return dt


def best_of(text: str, repeats: int) -> float:
    return min(compile_once(text) for _ in range(repeats))


def _projection(results: dict[tuple[str, int], float], shape: str, n: int) -> float | None:
    """Time for n metrics, extrapolated from the two largest measured sizes (power law)."""
    done = sorted(m for (s, m) in results if s == shape and m < n)
    if not done:
        return None
    if len(done) == 1:
        n1 = done[0]
        return results[shape, n1] * (n / n1)  # linear: optimistic
    n1, n2 = done[-2], done[-1]
    t1, t2 = results[shape, n1], results[shape, n2]
    k = max(1.0, math.log(t2 / t1) / math.log(n2 / n1))
    return t2 * (n / n2) ** k


def child_pack(parent: str, n: int) -> str:
    """A small pack extending ``parent`` (a chain of ``n`` metrics): 10 metrics of its own."""
    lines = [
        "pack: bench-child",
        "version: '1.0.0'",
        "title: {zh: 子包, en: Child pack}",
        f"extends: [{parent}]",
        "inputs: {}",
        "metrics:",
    ]
    for i in range(10):
        lines.append(
            f"  c_{i}: {{label: {{zh: 子{i}, en: Child {i}}}, formula: m_{n - 1} * {i + 2}}}"
        )
    return "\n".join(lines) + "\n"


def extends_case(n: int, repeats: int) -> tuple[float, float]:
    """(parent alone, child of that parent) compile times: the parent a chain of ``n`` metrics in
    a pack folder, the child 10 metrics on top. Each compile is cold: a cache of parents' results
    kept between compiles, if the engine has one (it had, keyed on file times), is emptied first."""
    parent = chain_pack(n).replace(f"pack: bench-chain-{n}", "pack: bench-parent", 1)
    child = child_pack("bench-parent", n)
    with tempfile.TemporaryDirectory(prefix="kpi-bench-") as folder:
        (Path(folder) / "bench-parent").mkdir()
        (Path(folder) / "bench-parent" / "pack.yaml").write_text(parent, encoding="utf-8")
        library = PackLibrary([Path(folder)])
        alone = min(compile_once(parent) for _ in range(repeats))
        times = []
        for _ in range(repeats):
            getattr(compile_module, "_PARENT_ERRORS", {}).clear()
            t0 = time.perf_counter()
            compiled, problems = check_text(child, library)
            times.append(time.perf_counter() - t0)
            if compiled is None:
                raise RuntimeError(f"the child pack did not compile: {problems[:3]}")
    return alone, min(times)


def profile(text: str, top: int = 15) -> str:
    prof = cProfile.Profile()
    prof.enable()
    check_text(text)
    prof.disable()
    out = io.StringIO()
    pstats.Stats(prof, stream=out).sort_stats("cumulative").print_stats(top)
    return out.getvalue()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument(
        "--quick", action="store_true", help="smoke run: 100 and 400 metrics, one repeat"
    )
    ap.add_argument("--strict", action="store_true", help="exit 1 if a target is missed")
    ap.add_argument("--profile", action="store_true", help="print the cProfile table even if fast")
    ap.add_argument(
        "--max-case-seconds",
        type=float,
        default=60.0,
        help="skip a size whose compile time, extrapolated from the two smaller sizes, "
        "exceeds this (default 60; keeps a super-linear compiler from running for hours)",
    )
    ap.add_argument(
        "--sizes",
        type=lambda s: [int(x) for x in s.split(",")],
        default=None,
        help="comma-separated metric counts (default 500,2000,8000)",
    )
    ap.add_argument(
        "--shapes",
        type=lambda s: s.split(","),
        default=list(SHAPES),
        help=f"comma-separated shapes (default {','.join(SHAPES)})",
    )
    args = ap.parse_args(argv)

    sizes = args.sizes or ([100, 400] if args.quick else [500, 2000, 8000])
    print(
        f"check_text on generated packs ({N_INPUTS} inputs, "
        "labels zh/en, a band on every 10th metric)"
    )
    print(
        f"python {sys.version.split()[0]}; best of 3 (1 for >= "
        f"8,000 metrics{', 1 in --quick' if args.quick else ''})"
    )
    print()
    print(f"{'shape':<7} {'metrics':>8} {'yaml KB':>8} {'compile s':>10} {'ms/metric':>10}")
    results: dict[tuple[str, int], float] = {}
    projected: dict[tuple[str, int], float] = {}
    texts: dict[tuple[str, int], str] = {}
    for shape, make in SHAPES.items():
        if shape not in args.shapes:
            continue
        for n in sizes:
            guess = _projection(results, shape, n)
            if guess is not None and guess > args.max_case_seconds:
                projected[shape, n] = guess
                print(
                    f"{shape:<7} {n:>8,} {'':>8} {'skipped':>10} {'':>10}  projected {guess:,.0f} "
                    f"s from the smaller sizes (> --max-case-seconds {args.max_case_seconds:g})",
                    flush=True,
                )
                continue
            text = make(n)
            texts[shape, n] = text
            dt = compile_once(text)
            # best of 3 (1 for 8,000 metrics, in --quick, or when one compile takes over 10 s)
            if not (args.quick or n >= 8000 or dt > 10):
                dt = min(dt, best_of(text, 2))
            results[shape, n] = dt
            print(
                f"{shape:<7} {n:>8,} {len(text.encode()) / 1024:>8.0f} "
                f"{dt:>10.3f} {dt / n * 1000:>10.3f}",
                flush=True,
            )
    print()

    failed = False
    lo, hi = 2000, 8000
    verdicts: list[str] = []
    for shape in SHAPES:
        if (shape, lo) in results:
            t = results[shape, lo]
            ok = t < TARGET_2000_S
            failed |= not ok
            verdicts.append(
                f"{shape:<7} 2,000 metrics: {t:.3f} s (target < {TARGET_2000_S:g} s) "
                f"{'PASS' if ok else 'FAIL'}"
            )
        if (shape, lo) in results and ((shape, hi) in results or (shape, hi) in projected):
            measured = (shape, hi) in results
            g = (results if measured else projected)[shape, hi] / results[shape, lo]
            ok = g <= TARGET_GROWTH * 1.5
            failed |= not ok
            verdicts.append(
                f"{shape:<7} growth 2,000 → 8,000: {g:.2f}×{'' if measured else ' (projected)'} "
                f"(near-linear = ~4×; flagged above {TARGET_GROWTH * 1.5:g}×) "
                f"{'PASS' if ok else 'FAIL'}"
            )
        # growth over other pairs of sizes four apart (--quick, --sizes): informative only
        for m in sizes:
            if (m, m * 4) != (lo, hi) and (shape, m) in results and (shape, m * 4) in results:
                g = results[shape, m * 4] / results[shape, m]
                verdicts.append(
                    f"{shape:<7} growth {m:,} → {m * 4:,}: {g:.2f}× (informative; ~4× is linear)"
                )
    for v in verdicts:
        print(v)

    # a child of one parent: compiling it compiles the parent's definitions too (they are merged
    # into the child) and checks that the parent is valid on its own; ideally ~1× the parent alone
    print()
    print(f"{'extends':<7} {'metrics':>8} {'parent s':>10} {'child s':>10} {'child/parent':>13}")
    for n in [m for m in sizes if m <= lo][-2:]:
        alone, child = extends_case(n, 1 if args.quick else 3)
        print(f"{'chain':<7} {n:>8,} {alone:>10.3f} {child:>10.3f} {child / alone:>12.2f}×")

    slow = any(results.get((s, lo), 0) >= TARGET_2000_S for s in SHAPES) or any(
        v > TARGET_2000_S * m / lo for (_, m), v in results.items() if m < lo
    )
    if args.profile or slow:
        chain_sizes = [m for (s, m) in results if s == "chain" and m <= lo]
        n = max(chain_sizes) if chain_sizes else min(sizes)
        text = texts.get(("chain", n)) or chain_pack(n)
        print()
        print(f"cProfile of check_text on the {n:,}-metric chain, top 15 by cumulative time:")
        print(profile(text))
    if args.strict and failed:
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
