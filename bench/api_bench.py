"""HTTP API benchmark: requests per second and p50 / p99 latency against a real server.

Starts ``uvicorn`` on a free loopback port (127.0.0.1 only) with the KPI Forge app plus one bare
FastAPI endpoint (``GET /bench/bare`` → ``{"ok": true}``) in the same process, warms every
endpoint up, then drives each one in turn with a bounded load generator (threads, one httpx
client each):

    bare       GET  /bench/bare                                   the framework's own floor
    pack       GET  /v1/packs/bakery-stored-value                 the compiled pack as JSON
    pack-304   GET  the same with If-None-Match                   a revalidation
    lineage    GET  /v1/packs/bakery-stored-value/metrics/closing_amount/lineage
    evaluate   POST /v1/packs/bakery-stored-value/evaluate        one row of the sample data

and prints each figure beside the bare endpoint's (the ratio is the figure that travels across
machines). Every run is bounded: ``--requests`` per endpoint and ``--seconds`` at most each.

    .venv/bin/python bench/api_bench.py             # 2,000 requests per endpoint, 8 at a time
    .venv/bin/python bench/api_bench.py --quick     # 200 requests per endpoint
    .venv/bin/python bench/api_bench.py --json      # the figures as JSON

The load generator runs on the same machine as the server and shares its cores: read the
ratios, not the absolute numbers. Rate limiting is off for the run.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "metrics" / "bakery-stored-value" / "examples" / "sample.csv"
PACK = "bakery-stored-value"


def bench_app() -> Any:
    """The app under test: KPI Forge, plus a bare endpoint served by the same process."""
    from api.server import create_app_from_env

    app = create_app_from_env()

    @app.get("/bench/bare", include_in_schema=False)
    def bare() -> dict[str, bool]:
        return {"ok": True}

    return app


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _start(data_dir: Path, eval_workers: int) -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "KPI_DATA_DIR": str(data_dir),
        "KPI_RATE_LIMIT": "0",
        "KPI_EVAL_WORKERS": str(eval_workers),
    }
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "bench.api_bench:bench_app",
            "--factory",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "warning",
            "--no-access-log",
        ],
        cwd=ROOT,
        env=env,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return proc, url
        except httpx.TransportError:
            time.sleep(0.1)
    proc.kill()
    raise SystemExit("the server did not start")


def _one_row() -> dict[str, Any]:
    with SAMPLE.open(encoding="utf-8", newline="") as fh:
        row = next(csv.DictReader(fh))
    return {"rows": [row], "locale": "en"}


def _drive(
    url: str, request: dict[str, Any], total: int, concurrency: int, seconds: float
) -> dict[str, float]:
    """``total`` requests (at most ``seconds``) from
    ``concurrency`` threads, each with its own connection."""
    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()
    issued = 0
    stop = time.perf_counter() + seconds

    def worker() -> None:
        nonlocal issued, errors
        with httpx.Client(base_url=url, timeout=60) as client:
            while True:
                with lock:
                    if issued >= total or time.perf_counter() > stop:
                        return
                    issued += 1
                t0 = time.perf_counter()
                r = client.request(**request)
                elapsed = time.perf_counter() - t0
                with lock:
                    latencies.append(elapsed)
                    errors += r.status_code not in (200, 304)

    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - start
    latencies.sort()
    q = (
        statistics.quantiles(latencies, n=100, method="inclusive")
        if len(latencies) > 1
        else latencies * 99
    )
    return {
        "requests": len(latencies),
        "errors": errors,
        "rps": len(latencies) / wall,
        "p50_ms": q[49] * 1000,
        "p99_ms": q[98] * 1000,
    }


def _run(url: str, total: int, concurrency: int, seconds: float) -> dict[str, dict[str, float]]:
    with httpx.Client(base_url=url, timeout=60) as client:
        etag = client.get(f"/v1/packs/{PACK}").headers["etag"]
        cases: dict[str, dict[str, Any]] = {
            "bare": {"method": "GET", "url": "/bench/bare"},
            "pack": {"method": "GET", "url": f"/v1/packs/{PACK}"},
            "pack-304": {
                "method": "GET",
                "url": f"/v1/packs/{PACK}",
                "headers": {"If-None-Match": etag},
            },
            "lineage": {"method": "GET", "url": f"/v1/packs/{PACK}/metrics/closing_amount/lineage"},
            "evaluate": {"method": "POST", "url": f"/v1/packs/{PACK}/evaluate", "json": _one_row()},
        }
        for case in cases.values():  # warm up: compile caches in the server and in every worker
            for _ in range(max(concurrency, 8)):
                r = client.request(**case)
                if r.status_code not in (200, 304):
                    raise SystemExit(f"{case['url']}: {r.status_code} {r.text[:300]}")
    return {name: _drive(url, case, total, concurrency, seconds) for name, case in cases.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--requests", type=int, default=2000, help="requests per endpoint (default 2000)"
    )
    parser.add_argument("--concurrency", type=int, default=8, help="requests in flight (default 8)")
    parser.add_argument(
        "--seconds", type=float, default=20.0, help="time cap per endpoint (default 20)"
    )
    parser.add_argument(
        "--eval-workers", type=int, default=2, help="evaluation workers of the server (default 2)"
    )
    parser.add_argument("--quick", action="store_true", help="200 requests per endpoint")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args()
    total = 200 if args.quick else args.requests
    with tempfile.TemporaryDirectory(prefix="kpi-api-bench-") as tmp:
        proc, url = _start(Path(tmp), args.eval_workers)
        try:
            results = _run(url, total, args.concurrency, args.seconds)
        finally:
            proc.terminate()
            proc.wait(30)
    if args.json:
        print(json.dumps(results, indent=2))
        return
    bare = results["bare"]
    print(
        f"{total} requests per endpoint, {args.concurrency} in flight, "
        f"one uvicorn process, {args.eval_workers} evaluation workers, "
        f"{os.cpu_count()} cores shared with the load generator\n"
    )
    print(
        f"{'endpoint':<10} {'req/s':>8} {'p50 ms':>8} "
        f"{'p99 ms':>8} {'bare/this req/s':>16} {'p50 / bare':>11}"
    )
    for name, r in results.items():
        print(
            f"{name:<10} {r['rps']:>8.0f} {r['p50_ms']:>8.2f} {r['p99_ms']:>8.2f} "
            f"{bare['rps'] / r['rps']:>16.2f} {r['p50_ms'] / bare['p50_ms']:>11.2f}"
            + (f"   ({r['errors']:.0f} errors)" if r["errors"] else "")
        )


if __name__ == "__main__":
    main()
