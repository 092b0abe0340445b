"""Run the ``kpi`` console script's ``main`` in a child process, as a shell would, and report
what it printed, its exit code and every module it imported."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from api.cli_entry import STYLE_VARIABLES

ROOT = Path(__file__).resolve().parent.parent.parent

_MAIN = """\
import json, os, sys
sys.argv[0] = "kpi"
from api.cli_entry import main
try:
    main()
except SystemExit as exit:
    code = exit.code
else:
    code = 0
sys.stdout.flush()
with open(os.environ["KPI_TEST_REPORT"], "w", encoding="utf-8") as fh:
    json.dump({"code": code, "modules": sorted(sys.modules)}, fh)
"""


@dataclass(frozen=True)
class Answer:
    stdout: str
    stderr: str
    code: int
    modules: frozenset[str]

    def loaded(self, *names: str) -> list[str]:
        """The modules imported that are one of ``names`` or inside one of them."""
        return sorted(m for m in self.modules for n in names if m == n or m.startswith(n + "."))


def plain_env(**extra: str) -> dict[str, str]:
    """This environment without the variables that change how help is printed, in UTF-8."""
    env = {k: v for k, v in os.environ.items() if k not in STYLE_VARIABLES}
    return {**env, "PYTHONIOENCODING": "utf-8", **extra}


def run_kpi(args: list[str], report: Path, **extra_env: str) -> Answer:
    """``kpi ARGS`` with stdin, stdout and stderr on pipes (no terminal)."""
    done = subprocess.run(
        [sys.executable, "-c", _MAIN, *args],
        cwd=ROOT,
        env=plain_env(KPI_TEST_REPORT=str(report), **extra_env),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        check=False,
        timeout=120,
    )
    assert report.is_file(), done.stderr.decode("utf-8", "replace")
    data = json.loads(report.read_text(encoding="utf-8"))
    return Answer(
        done.stdout.decode("utf-8"),
        done.stderr.decode("utf-8"),
        int(data["code"] or 0),
        frozenset(data["modules"]),
    )
