"""Start-up benchmark: the CPU time of `kpi --help` and `kpi validate` against bare Python.

Each contender runs as a child process with stdin, stdout and stderr on /dev/null (so no
terminal: `kpi --help` is answered from api/cli_help.py), in rounds that run every contender
once (so that load from other processes hits all alike). The table gives the best of the rounds
of the child's user + system CPU time (resource.getrusage(RUSAGE_CHILDREN)) and of the wall time.

    .venv/bin/python bench/startup_bench.py                 # 7 rounds, about a minute
    .venv/bin/python bench/startup_bench.py --quick         # 3 rounds, about 20 s
    .venv/bin/python bench/startup_bench.py --bin DIR       # DIR/python and DIR/kpi of another
                                                            # checkout's virtualenv
    .venv/bin/python bench/startup_bench.py --strict        # exit 1 if a target is missed

Targets (issue 13): `kpi --help` ≤ 1.5 × `python -c pass`; `kpi validate bakery-stored-value`
≤ 1.5 × (`python -c 'import sympy'` + the compile work), where the compile work is the CPU time
of `check_pack('bakery-stored-value')` measured inside a fresh process whose imports are done.
Exits 0 whatever the numbers unless --strict is given; exits 2 if a command does not answer as
it should (the help must be the text Typer prints, the pack must validate).
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from api.cli_entry import STYLE_VARIABLES  # noqa: E402

TARGET = 1.5
PACK = "bakery-stored-value"
# the Typer app itself, bypassing the console script's fast path
TYPER = "import sys; sys.argv[0] = 'kpi'; from api.cli import app; app()"
COMPILE = (
    "import time\n"
    "from engine.compile.pack import check_pack\n"
    "from engine.load.library import PackLibrary\n"
    "library = PackLibrary.default([])\n"
    "cpu, wall = time.process_time(), time.perf_counter()\n"
    f"compiled, problems = check_pack({PACK!r}, library)\n"
    "assert compiled is not None, problems\n"
    "print(time.process_time() - cpu, time.perf_counter() - wall)\n"
)


def _child(cmd: list[str], env: dict[str, str]) -> tuple[float, float, bytes]:
    """Run ``cmd`` once: (user + system CPU seconds, wall seconds, stdout)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(
        cmd,
        cwd=ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        check=False,
    )
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return cpu, wall, done.stdout


def _check(bin_dir: Path, env: dict[str, str]) -> None:
    """Exit 2 unless ``kpi --help`` prints what Typer prints and the pack validates."""
    python, kpi = str(bin_dir / "python"), str(bin_dir / "kpi")

    def run(cmd: list[str], extra: dict[str, str] | None = None) -> tuple[int, bytes]:
        done = subprocess.run(
            cmd,
            cwd=ROOT,
            env={**env, **(extra or {})},
            stdin=subprocess.DEVNULL,
            capture_output=True,
            check=False,
        )
        return done.returncode, done.stdout

    fast, typer = run([kpi, "--help"]), run([python, "-c", TYPER, "--help"])
    terminal = run([kpi, "--help"], {"COLUMNS": "80"})
    if fast != typer or terminal != typer or fast[0] != 0:
        sys.exit("error: `kpi --help` does not print what the Typer app prints")
    code, out = run([kpi, "validate", PACK])
    if code != 0 or not out.decode().startswith(f"✓ {PACK}"):
        sys.exit(f"error: `kpi validate {PACK}` failed (exit {code}): {out.decode()[:400]}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="3 rounds instead of 7")
    parser.add_argument("--rounds", type=int, help="how many rounds (default 7, --quick 3)")
    parser.add_argument(
        "--bin",
        type=Path,
        default=Path(sys.executable).parent,
        help="folder holding the python and kpi to time (default: this interpreter's)",
    )
    parser.add_argument("--strict", action="store_true", help="exit 1 if a target is missed")
    args = parser.parse_args()
    rounds = args.rounds or (3 if args.quick else 7)
    python, kpi = str(args.bin / "python"), str(args.bin / "kpi")
    if not Path(kpi).is_file():
        sys.exit(f"error: no {kpi}: install the project (pip install -e .) into that virtualenv")
    # no variable that makes Typer or Rich print otherwise (see api/cli_entry.py)
    env = {k: v for k, v in os.environ.items() if k not in STYLE_VARIABLES}
    env["PYTHONIOENCODING"] = "utf-8"
    _check(args.bin, env)

    contenders: dict[str, tuple[list[str], dict[str, str]]] = {
        "python -c pass": ([python, "-c", "pass"], env),
        "python -c 'import sympy'": ([python, "-c", "import sympy"], env),
        "compile work (in-process)": ([python, "-c", COMPILE], env),
        "kpi --help": ([kpi, "--help"], env),
        "kpi --help (through Typer)*": ([kpi, "--help"], {**env, "COLUMNS": "80"}),
        "kpi validate --help": ([kpi, "validate", "--help"], env),
        f"kpi validate {PACK}": ([kpi, "validate", PACK], env),
    }
    best = {name: (float("inf"), float("inf")) for name in contenders}
    for _ in range(rounds):
        for name, (cmd, child_env) in contenders.items():
            cpu, wall, out = _child(cmd, child_env)
            if name.startswith("compile work"):  # the child times its own compile
                cpu, wall = (float(x) for x in out.split())
            best[name] = (min(best[name][0], cpu), min(best[name][1], wall))

    print(f"best of {rounds} rounds, {python}")
    print(f"{'command':<40} {'cpu s':>7} {'wall s':>7}")
    for name, (cpu, wall) in best.items():
        print(f"{name:<40} {cpu:7.3f} {wall:7.3f}")
    print("* COLUMNS=80 sends `kpi --help` through Typer, as a terminal does (same text)")

    cpu = {name: value[0] for name, value in best.items()}
    reference = cpu["python -c 'import sympy'"] + cpu["compile work (in-process)"]
    missed = False
    for label, ratio in (
        ("kpi --help / python -c pass", cpu["kpi --help"] / cpu["python -c pass"]),
        ("kpi validate / (import sympy + compile)", cpu[f"kpi validate {PACK}"] / reference),
    ):
        ok = ratio <= TARGET
        missed |= not ok
        print(f"{label:<40} {ratio:6.2f}x  (target <= {TARGET}x)  {'PASS' if ok else 'MISS'}")
    if missed and args.strict:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
