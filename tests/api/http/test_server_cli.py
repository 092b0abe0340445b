"""``kpi keys create`` and ``kpi serve``, registered on a Typer app as api/cli.py does."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import typer
from typer.testing import CliRunner

from api.server.registry import DB_NAME, Registry, hash_token
from api.server_cli import register

runner = CliRunner()


def _app() -> typer.Typer:
    app = typer.Typer()

    @app.command()
    def other() -> None:  # a second command, as in the real `kpi`
        """Another command."""

    register(app)
    return app


def test_keys_create_prints_the_token_once_and_stores_its_hash(tmp_path: Path):
    result = runner.invoke(
        _app(), ["keys", "create", "--owner", "alice", "--data-dir", str(tmp_path)]
    )
    assert result.exit_code == 0, result.output
    token = result.stdout.strip()
    assert token.startswith("kpi_") and len(token) > 40 and "\n" not in token
    assert "not shown again" in result.stderr
    with sqlite3.connect(tmp_path / DB_NAME) as db:
        rows = db.execute("SELECT key_hash, owner FROM api_keys").fetchall()
    assert rows == [(hash_token(token), "alice")]
    assert token not in (tmp_path / DB_NAME).read_bytes().decode("latin-1")
    assert (
        Registry(tmp_path).owner_of(token) == "alice"
        and Registry(tmp_path).owner_of(token + "x") is None
    )


def test_keys_create_refuses_a_bad_owner(tmp_path: Path):
    result = runner.invoke(
        _app(), ["keys", "create", "--owner", "no spaces!", "--data-dir", str(tmp_path)]
    )
    assert result.exit_code == 2 and "owner" in result.stderr


def test_serve_has_its_options_and_refuses_cors_star(tmp_path: Path):
    result = runner.invoke(_app(), ["serve", "--help"])
    assert result.exit_code == 0
    for option in (
        "--host",
        "--port",
        "--data-dir",
        "--workers",
        "--eval-timeout",
        "--max-body-bytes",
        "--max-rows",
        "--rate-limit",
        "--cors-origin",
    ):
        assert option in result.output
    result = runner.invoke(_app(), ["serve", "--data-dir", str(tmp_path), "--cors-origin", "*"])
    assert result.exit_code == 2 and "CORS" in result.stderr


def test_keys_can_be_listed_and_revoked(tmp_path):
    from typer.testing import CliRunner

    from api.cli import app

    runner = CliRunner()
    data = str(tmp_path / "data")
    token = runner.invoke(
        app, ["keys", "create", "--owner", "dana", "--data-dir", data]
    ).stdout.strip()
    assert token.startswith("kpi_")
    listed = runner.invoke(app, ["keys", "list", "--data-dir", data])
    [line] = listed.stdout.strip().splitlines()
    key_id, owner, _created = line.split("\t")
    assert owner == "dana" and token not in listed.stdout  # tokens are never shown again
    assert runner.invoke(app, ["keys", "revoke", key_id, "--data-dir", data]).exit_code == 0
    again = runner.invoke(app, ["keys", "revoke", key_id, "--data-dir", data])
    assert again.exit_code == 2 and "no key with id" in again.output
