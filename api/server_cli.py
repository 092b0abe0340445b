"""``kpi serve`` and ``kpi keys create | list | revoke``: the HTTP server's commands.

``api/cli.py`` calls :func:`register` to add them to the ``kpi`` command.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Annotated

import typer

from api.server.config import DEFAULT_DATA_DIR, Settings

_ROOT = Path(__file__).resolve().parent.parent
DataDir = Annotated[
    Path | None,
    typer.Option(
        "--data-dir",
        help="Folder of the registry (published packs and API keys); "
        "created if missing. Default: $KPI_DATA_DIR, else ./kpi-data.",
        show_default=False,
    ),
]

keys_app = typer.Typer(
    name="keys",
    help="Manage API keys (bearer tokens) of the HTTP server.",
    no_args_is_help=True,
    add_completion=False,
)


def _data_dir(value: Path | None) -> Path:
    return value or Path(os.environ.get("KPI_DATA_DIR") or DEFAULT_DATA_DIR)


def serve(
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[
        int | None,
        typer.Option("--port", help="Port to listen on. [default: 8000]", show_default=False),
    ] = None,
    data_dir: DataDir = None,
    workers: Annotated[
        int,
        typer.Option(
            "--workers",
            help="Server processes (each with its own evaluation workers, caches and rate limits).",
        ),
    ] = 1,
    eval_workers: Annotated[
        int, typer.Option("--eval-workers", help="Evaluation worker processes per server process.")
    ] = Settings.eval_workers,
    eval_timeout: Annotated[
        float,
        typer.Option(
            "--eval-timeout",
            help="Seconds an evaluation, validation or "
            "publication may take before its worker is killed (504).",
        ),
    ] = Settings.eval_timeout,
    max_body: Annotated[
        int, typer.Option("--max-body-bytes", help="Largest request body (413 beyond).")
    ] = Settings.max_body_bytes,
    max_rows: Annotated[
        int, typer.Option("--max-rows", help="Most rows in one evaluation (422 beyond).")
    ] = Settings.max_rows,
    rate_limit: Annotated[
        float,
        typer.Option(
            "--rate-limit",
            help="Requests per second per client (token, else IP); 0 turns rate limiting off.",
        ),
    ] = Settings.rate_limit,
    rate_burst: Annotated[
        int, typer.Option("--rate-burst", help="Requests a client may send at once.")
    ] = Settings.rate_burst,
    max_pack: Annotated[
        int,
        typer.Option(
            "--max-pack-bytes", help="Largest pack that validate and publish accept (413 beyond)."
        ),
    ] = Settings.max_pack_bytes,
    quota_packs: Annotated[
        int,
        typer.Option(
            "--quota-packs", help="Packs one owner may publish (403 beyond; 0 = no limit)."
        ),
    ] = Settings.quota_packs,
    quota_versions: Annotated[
        int,
        typer.Option(
            "--quota-versions", help="Versions one owner may store (403 beyond; 0 = no limit)."
        ),
    ] = Settings.quota_versions,
    quota_bytes: Annotated[
        int,
        typer.Option(
            "--quota-bytes", help="Bytes of YAML one owner may store (403 beyond; 0 = no limit)."
        ),
    ] = Settings.quota_bytes,
    max_result_values: Annotated[
        int,
        typer.Option(
            "--max-result-values",
            help="Most values (rows x metrics) in one evaluation result (413 beyond).",
        ),
    ] = Settings.max_result_values,
    max_result_bytes: Annotated[
        int, typer.Option("--max-result-bytes", help="Largest evaluation response (413 beyond).")
    ] = Settings.max_result_bytes,
    worker_memory: Annotated[
        int,
        typer.Option(
            "--worker-memory-bytes",
            help="Writable memory per evaluation "
            "worker; past it the work fails with 422 and the worker is "
            "replaced (0 = no limit).",
        ),
    ] = Settings.worker_memory_bytes,
    cache_bytes: Annotated[
        int,
        typer.Option(
            "--cache-bytes",
            help="Memory per server process for caches of "
            "compiled packs, texts and responses (estimated).",
        ),
    ] = Settings.cache_bytes,
    cors_origin: Annotated[
        list[str] | None,
        typer.Option(
            "--cors-origin", help="An origin allowed by CORS (repeatable; none by default)."
        ),
    ] = None,
    demo: Annotated[
        bool,
        typer.Option(
            "--demo",
            help="Start the server on a free port (unless --port is "
            "given), print its URL and an example curl, run that request, print the "
            "answer and stop.",
        ),
    ] = False,
) -> None:
    """Serve the HTTP API (docs at /docs, OpenAPI at /openapi.json) over the built-in and \
published packs."""
    import uvicorn

    settings = Settings(
        data_dir=_data_dir(data_dir).resolve(),
        max_body_bytes=max_body,
        max_rows=max_rows,
        eval_timeout=eval_timeout,
        eval_workers=eval_workers,
        rate_limit=rate_limit,
        rate_burst=rate_burst,
        cors_origins=tuple(cors_origin or ()),
        max_pack_bytes=max_pack,
        quota_packs=quota_packs,
        quota_versions=quota_versions,
        quota_bytes=quota_bytes,
        max_result_values=max_result_values,
        max_result_bytes=max_result_bytes,
        worker_memory_bytes=worker_memory,
        cache_bytes=cache_bytes,
    )
    try:
        settings.check()
    except ValueError as err:
        typer.echo(f"error: {err}", err=True)
        raise typer.Exit(2) from None
    if demo:
        _demo(settings, host, port or _free_port(host))
        return
    port = port or 8000
    os.environ.update(settings.to_env())  # read back by each server process
    typer.echo(
        f"KPI Forge API on http://{host}:{port}  (web pages: http://{host}:{port}/, "
        f"docs: http://{host}:{port}/docs, data: {settings.data_dir})",
        err=True,
    )
    uvicorn.run(
        "api.server.app:create_app_from_env",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="info",
        proxy_headers=False,
        server_header=False,
    )


def _free_port(host: str) -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def _demo(settings: Settings, host: str, port: int) -> None:
    """Start a server, show how to call it, call it
    once, stop it (``make run``: it must terminate)."""
    import urllib.request  # only here: `kpi --help` lists this module's commands

    url = f"http://{host}:{port}"
    cmd = [
        sys.executable,
        "-m",
        "api.server_cli",
        "serve",
        "--host",
        host,
        "--port",
        str(port),
        "--data-dir",
        str(settings.data_dir),
        "--eval-workers",
        str(settings.eval_workers),
    ]
    proc = subprocess.Popen(
        cmd,
        env={**os.environ, "PYTHONPATH": str(_ROOT)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{url}/healthz", timeout=1):
                    break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    typer.echo("error: the server did not start", err=True)
                    raise typer.Exit(1) from None
                time.sleep(0.2)
        sample = _ROOT / "metrics" / "bakery-stored-value" / "examples" / "sample.csv"
        query = "grain=quarter&by=&locale=en&metrics=closing_amount,active_rate"
        typer.echo(
            f"KPI Forge API: {url}   (interactive docs: {url}/docs; web pages: {url}/, "
            "see docs/web.md)\n\nTry:\n"
            f"  curl -s '{url}/v1/packs?locale=en'\n"
            f"  curl -s {url}/v1/packs/bakery-stored-value/metrics/closing_amount/lineage\n"
            f"  curl -s '{url}/v1/packs/bakery-stored-value/evaluate?{query}' \\\n"
            f"       -H 'Content-Type: text/csv' --data-binary @{os.path.relpath(sample)}\n"
        )
        request = urllib.request.Request(
            f"{url}/v1/packs/bakery-stored-value/evaluate?{query}",
            data=sample.read_bytes(),
            headers={"Content-Type": "text/csv"},
        )
        with urllib.request.urlopen(request, timeout=60) as response:
            body = json.loads(response.read())
        typer.echo("The last one answers (first quarter):")
        typer.echo(json.dumps(body["rows"][0], ensure_ascii=False, indent=2))
        typer.echo("\n(demo over: the server is stopped; `kpi serve` keeps it running)")
    finally:
        proc.terminate()
        proc.wait(30)


@keys_app.command("create")
def keys_create(
    owner: Annotated[
        str,
        typer.Option(
            "--owner",
            help="Who the key acts for: packs it publishes belong to them.",
            show_default=False,
        ),
    ],
    data_dir: DataDir = None,
) -> None:
    """Create an API key and print its token once (only a hash of it is stored)."""
    from api.server.registry import Registry

    try:
        token = Registry(_data_dir(data_dir)).create_key(owner)
    except ValueError as err:
        typer.echo(f"error: {err}", err=True)
        raise typer.Exit(2) from None
    typer.echo(token)
    typer.echo(
        f"a key for '{owner}': keep the token above secret, it is not shown again; send it as "
        "'Authorization: Bearer <token>'",
        err=True,
    )


@keys_app.command("list")
def keys_list(
    owner: Annotated[str | None, typer.Option("--owner", help="Only this owner's keys.")] = None,
    data_dir: DataDir = None,
) -> None:
    """List API keys: id, owner and creation time (tokens are never stored, so never shown)."""
    from api.server.registry import Registry

    keys = Registry(_data_dir(data_dir)).list_keys(owner)
    if not keys:
        typer.echo("no keys", err=True)
    for key in keys:
        typer.echo(f"{key['key_id']}\t{key['owner']}\t{key['created_at']}")


@keys_app.command("revoke")
def keys_revoke(
    key_id: Annotated[str, typer.Argument(help="The key's id, as `kpi keys list` shows it.")],
    data_dir: DataDir = None,
) -> None:
    """Revoke an API key: its token stops working at once."""
    from api.server.registry import Registry

    if not Registry(_data_dir(data_dir)).revoke_key(key_id):
        typer.echo(f"error: no key with id '{key_id}' (see `kpi keys list`)", err=True)
        raise typer.Exit(2)
    typer.echo(f"revoked {key_id}")


def register(app: typer.Typer) -> None:
    """Add ``kpi serve`` and ``kpi keys create`` to the ``kpi`` command."""
    app.command("serve")(serve)
    app.add_typer(keys_app, name="keys")


def main() -> None:
    """``python -m api.server_cli serve|keys …`` (the same commands without the rest of ``kpi``)."""
    app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False)
    register(app)
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
