"""The fast path of the ``kpi`` script: `kpi --help` and `kpi` alone print api/cli_help.py, which
`make docs` generates from what Typer prints, so it cannot drift from it."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from api import cli_help
from api.docgen import HELP_ARGS, HELP_MODULE, help_module, typer_answer
from tests.api.cli_process import ROOT, plain_env, run_kpi


def test_the_console_script_is_the_fast_entry():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert project["scripts"]["kpi"] == "api.cli_entry:main"


def test_the_generated_help_is_up_to_date():
    assert HELP_MODULE.read_text(encoding="utf-8") == help_module() + "\n", "run `make docs`"


def test_the_generated_help_holds_both_answers():
    assert set(cli_help.ANSWERS) == set(HELP_ARGS.values()) == {("--help",), ()}
    assert cli_help.ANSWERS[("--help",)][1] == 0 and cli_help.ANSWERS[()][1] == 2
    assert "│ validate   Check packs:" in cli_help.HELP and "│ keys " in cli_help.HELP


@pytest.mark.parametrize("args", [["--help"], []], ids=["--help", "no-arguments"])
def test_the_fast_answer_is_what_typer_prints(args: list[str], tmp_path: Path):
    answer = run_kpi(args, tmp_path / "report.json")
    assert answer.loaded("typer") == []  # the fast path answered
    assert (answer.stdout, answer.code) == typer_answer(tuple(args))
    assert answer.stderr == ""


@pytest.mark.parametrize(
    "variable",
    ["COLUMNS=120", "TERMINAL_WIDTH=60", "TYPER_USE_RICH=0", "FORCE_COLOR=1", "NO_COLOR=1"],
)
def test_a_variable_that_changes_the_help_sends_it_to_typer(variable: str, tmp_path: Path):
    name, _, value = variable.partition("=")
    answer = run_kpi(["--help"], tmp_path / "report.json", **{name: value})
    assert (answer.stdout, answer.code) == typer_answer(("--help",), plain_env(**{name: value}))
    if name == "NO_COLOR":  # no colour without a terminal anyway: the fast path still answers
        assert answer.loaded("typer") == [] and answer.stdout == cli_help.HELP
    else:
        assert answer.loaded("typer") != [] and answer.stdout != cli_help.HELP


def test_other_arguments_go_to_typer(tmp_path: Path):
    answer = run_kpi(["--nope"], tmp_path / "report.json")
    assert answer.code == 2 and "No such option: --nope" in answer.stderr
    assert answer.loaded("typer") != []


def test_under_another_name_the_help_comes_from_typer_with_that_name():
    """The stored text says `Usage: kpi`; run as `python -m api.cli_entry`, Typer names it."""
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-m", "api.cli_entry", "--help"],
        capture_output=True,
        text=True,
        env=plain_env(),
        cwd=ROOT,
        stdin=subprocess.DEVNULL,
        timeout=120,
    )
    assert done.returncode == 0
    assert "Usage: python -m api.cli_entry [OPTIONS] COMMAND [ARGS]..." in done.stdout
    assert done.stdout != cli_help.HELP
