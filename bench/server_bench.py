"""Server hardening benchmark: listing latency as packs pile up, and memory after reading \
large packs.

Two measurements against a real ``uvicorn`` on a free loopback port (127.0.0.1 only):

listing   ``GET /v1/packs`` and the catalog page ``/`` with 10 published packs, then with
          1,000 (``--quick``: 200) — the ratio is the figure (target < 2: a listing reads
          stored summaries and never compiles). The packs are written into the registry the way
          ``POST /v1/packs`` stores them (YAML, SHA-256, summary), without compiling each one,
          so that making 1,000 packs takes seconds.
memory    the server's RSS before and after reading (``GET /v1/packs/{id}``, which compiles the
          pack in the server process) 256 packs of ~200 KB of YAML each (``--quick``: 32), with
          ``--cache-bytes`` 128 MiB; the growth must stay near the cache budget, not grow with
          the number of packs read (target: growth < 2 × budget).

    .venv/bin/python bench/server_bench.py            # ~3 minutes on 2 cores
    .venv/bin/python bench/server_bench.py --quick    # ~40 seconds
    .venv/bin/python bench/server_bench.py --strict   # exit 1 if a target is missed
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from api.server.jobs import compile_source, summary_of  # noqa: E402
from api.server.registry import Registry, new_record  # noqa: E402

sys.path.insert(0, str(ROOT / "bench"))
from compile_bench import chain_pack  # noqa: E402

GYM = (ROOT / "tests" / "api" / "http" / "packs" / "gym-membership.yaml").read_text(
    encoding="utf-8"
)
CACHE_BYTES = 128 * 1024 * 1024


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _start(data: Path, *options: str) -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "api.server_cli",
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--data-dir",
            str(data),
            "--eval-workers",
            "1",
            "--rate-limit",
            "0",
            *options,
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
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


def _store(registry: Registry, texts: list[tuple[str, bytes]]) -> None:
    """Store packs as publishing does (the summary of the first one's shape stands for all)."""
    compiled, problems = compile_source({"text": texts[0][1], "name": "x.yaml", "parents": None})
    if compiled is None:
        raise SystemExit(f"the benchmark pack does not compile: {problems[:1]}")
    summary = summary_of(compiled)
    for pack, text in texts:
        registry.publish(
            new_record(pack, "1.0.0", text, "bench", "public", {}, [], {**summary}), text
        )


def _gym(i: int) -> tuple[str, bytes]:
    pack = f"gym-{i:04d}"
    return pack, GYM.replace("pack: gym-membership", f"pack: {pack}", 1).encode("utf-8")


def _latency(url: str, path: str, repeats: int) -> float:
    with httpx.Client(base_url=url, timeout=60) as http:
        for _ in range(5):
            http.get(path).raise_for_status()
        times = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            http.get(path).raise_for_status()
            times.append(time.perf_counter() - t0)
    return statistics.median(times)


def listing(many: int) -> tuple[bool, str]:
    out = []
    ratios = []
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data"
        registry = Registry(data)
        _store(registry, [_gym(i) for i in range(10)])
        results = {}
        for n in (10, many):
            if n > 10:
                _store(registry, [_gym(i) for i in range(10, n)])
            proc, url = _start(data)
            try:
                results[n] = {path: _latency(url, path, 30) for path in ("/v1/packs", "/")}
            finally:
                proc.terminate()
                proc.wait(15)
        for path in ("/v1/packs", "/"):
            ratio = results[many][path] / results[10][path]
            ratios.append(ratio)
            out.append(
                f"  {path:<10} {results[10][path] * 1000:8.1f} ms "
                f"with 10 packs  {results[many][path] * 1000:8.1f} "
                f"ms with {many:,}  ratio {ratio:5.2f}  (target < 2)"
            )
    ok = max(ratios) < 2
    return ok, "\n".join(out)


def _rss(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


def memory(count: int) -> tuple[bool, str]:
    text = chain_pack(1500)  # ~165 KB of YAML
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data"
        registry = Registry(data)
        packs = []
        for i in range(count):
            pack = f"big-{i:04d}"
            packs.append(
                (pack, text.replace(text.split("\n", 1)[0], f"pack: {pack}", 1).encode("utf-8"))
            )
        if not packs[0][1].startswith(b"pack: big-"):
            raise SystemExit("chain_pack no longer starts with 'pack:'")
        _store(registry, packs)
        proc, url = _start(data, "--cache-bytes", str(CACHE_BYTES))
        try:
            with httpx.Client(base_url=url, timeout=120) as http:
                http.get("/v1/packs").raise_for_status()
                before = _rss(proc.pid)
                t0 = time.perf_counter()
                peak = before
                for pack, _ in packs:
                    http.get(f"/v1/packs/{pack}").raise_for_status()
                    peak = max(peak, _rss(proc.pid))
                took = time.perf_counter() - t0
                after = _rss(proc.pid)
        finally:
            proc.terminate()
            proc.wait(15)
    growth = peak - before
    ok = growth < 2 * CACHE_BYTES
    mb = 1024 * 1024
    return ok, (
        f"  read {count} packs of {len(packs[0][1]) / 1024:.0f} KB in "
        f"{took:.0f} s: server RSS {before / mb:.0f} MB before, {peak / mb:.0f} "
        f"MB peak, {after / mb:.0f} MB after; growth {growth / mb:.0f} MB for a "
        f"cache budget of {CACHE_BYTES / mb:.0f} MB (target < 2 x budget)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="fewer packs: a smoke run")
    parser.add_argument("--strict", action="store_true", help="exit 1 if a target is missed")
    args = parser.parse_args()
    failed = False
    for name, (ok, text) in (
        ("listing", listing(200 if args.quick else 1000)),
        ("memory", memory(32 if args.quick else 256)),
    ):
        print(f"{name}: {'PASS' if ok else 'FAIL'}\n{text}")
        failed |= not ok
    if failed and args.strict:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
