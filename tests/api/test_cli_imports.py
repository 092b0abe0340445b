"""`kpi --help`, `kpi <command> --help` and `kpi validate` start fast because they never import
the HTTP server, the web pages, DuckDB, SQLGlot or Spark (docs/design.md, "CLI start-up"). Each
case runs the console script's ``main`` in a child process and lists what it imported."""

from __future__ import annotations

from pathlib import Path

import pytest
import typer

from api.cli import app
from tests.api.cli_process import run_kpi

HEAVY = (
    "duckdb",
    "sqlglot",
    "pyspark",
    "fastapi",
    "uvicorn",
    "starlette",
    "jinja2",
    "api.server",
    "api.web",
)
# the commands of api/cli.py itself (serve and keys are api/server_cli.py's)
COMMANDS = sorted(set(typer.main.get_command(app).commands) - {"serve", "keys"})


def test_every_command_of_the_module_is_checked():
    assert "validate" in COMMANDS and "run" in COMMANDS and "demo-data" in COMMANDS
    assert "serve" not in COMMANDS and "" not in COMMANDS


@pytest.mark.parametrize("args", [["--help"], []], ids=["--help", "no-arguments"])
def test_top_level_help_imports_neither_typer_nor_the_engine(args: list[str], tmp_path: Path):
    answer = run_kpi(args, tmp_path / "report.json")
    assert answer.code == (0 if args else 2)
    assert "Usage: kpi [OPTIONS] COMMAND [ARGS]..." in answer.stdout
    assert answer.loaded(*HEAVY, "typer", "click", "rich", "engine", "api.cli", "sympy") == []


@pytest.mark.parametrize("command", COMMANDS)
def test_a_command_help_imports_no_engine_and_no_server(command: str, tmp_path: Path):
    answer = run_kpi([command, "--help"], tmp_path / "report.json")
    assert answer.code == 0, answer.stderr
    assert f"Usage: kpi {command} [OPTIONS]" in answer.stdout
    assert answer.loaded(*HEAVY, "engine", "sympy", "numpy") == []
    assert answer.loaded("typer") != []  # Typer answered: the check above is not vacuous


def test_validate_imports_the_compiler_but_no_server_duckdb_sqlglot_or_numpy(tmp_path: Path):
    answer = run_kpi(["validate", "bakery-stored-value"], tmp_path / "report.json")
    assert answer.code == 0, answer.stdout + answer.stderr
    assert answer.stdout.startswith("✓ bakery-stored-value 1.0.0: ")
    assert answer.loaded(*HEAVY, "numpy", "pandas", "pyarrow") == []
    assert answer.loaded("engine.compile.pack", "sympy", "networkx") != []


def test_serve_help_reads_the_server_defaults_but_not_fastapi(tmp_path: Path):
    # the defaults of `kpi serve` are the Settings dataclass of api/server/config.py (stdlib only)
    answer = run_kpi(["serve", "--help"], tmp_path / "report.json")
    assert answer.code == 0 and "--eval-workers" in answer.stdout
    assert answer.loaded("api.server") == ["api.server", "api.server.config"]
    assert answer.loaded(*HEAVY[:-2], "api.web", "engine") == []


def test_top_level_help_through_typer_loads_only_the_server_defaults(tmp_path: Path):
    # COLUMNS sends `kpi --help` to Typer (as a terminal does): it lists `serve`, whose short help
    # comes with api/server_cli.py and so with the Settings of api/server/config.py
    answer = run_kpi(["--help"], tmp_path / "report.json", COLUMNS="80")
    assert answer.code == 0 and answer.loaded("typer") != []
    assert answer.loaded("api.server") == ["api.server", "api.server.config"]
    assert answer.loaded(*HEAVY[:-2], "api.web", "engine") == []


def test_a_server_command_still_works_through_the_lazy_group(tmp_path: Path):
    answer = run_kpi(["keys", "list", "--data-dir", str(tmp_path / "data")], tmp_path / "r.json")
    assert answer.code == 0 and answer.stderr.strip() == "no keys"
