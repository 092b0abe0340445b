"""``kpi publish``, ``kpi pull`` and ``kpi init``: a pack folder to and from a KPI Forge server.

- ``kpi publish DIR`` validates the folder as ``kpi validate DIR`` does, then posts its files as
  one YAML stream (:func:`engine.api.join_stream`: each file headed by ``# file: NAME``, the
  shape the server also answers downloads with) and prints ``id@version`` and the content hash.
- ``kpi pull ID[@VERSION] DIR`` writes the pack's files into a new or empty folder (a temporary
  folder next to it, renamed into place, so a folder is never half written).
- ``kpi init DIR --extends PACK`` starts a pack folder that extends a built-in (or local) pack.

The content hash is :func:`engine.api.content_digest` of the folder's files: the SHA-256 the
server stores as the version's ``sha256``, whether the files were posted as a stream or a zip.
The token (``--token`` or ``$KPI_TOKEN``) is sent in the ``Authorization`` header only and is
never printed. ``api/cli.py`` calls :func:`register`; httpx and the engine are imported in the
commands' bodies.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer

if TYPE_CHECKING:
    import httpx

DEFAULT_SERVER = "http://127.0.0.1:8000"
TIMEOUT = 120.0  # seconds: a large pack compiles on the server within its own limits
_REF = re.compile(r"(?P<id>[a-z][a-z0-9-]{1,63})(?:@(?P<version>[0-9][0-9A-Za-z.+-]{0,39}))?")

Server = Annotated[
    str | None,
    typer.Option(
        "--server",
        help=f"Address of the KPI Forge server. Default: $KPI_SERVER, else {DEFAULT_SERVER}.",
        show_default=False,
    ),
]
Token = Annotated[
    str | None,
    typer.Option(
        "--token",
        help="API token (bearer). Default: $KPI_TOKEN. Never printed.",
        show_default=False,
    ),
]


def _fail(code: str, message: str, exit_code: int = 2) -> NoReturn:
    typer.echo(f"error {code}: {message}", err=True)
    raise typer.Exit(exit_code)


def _server(value: str | None) -> str:
    return (value or os.environ.get("KPI_SERVER") or DEFAULT_SERVER).rstrip("/")


def _request(method: str, url: str, **kwargs: Any) -> httpx.Response:
    import httpx

    try:
        return httpx.request(method, url, timeout=TIMEOUT, **kwargs)
    except httpx.InvalidURL as err:
        _fail("KPI-E062", f"'{url[:200]}' is not a server address ({err})")
    except httpx.HTTPError as err:
        _fail("KPI-E062", f"cannot reach {url.split('/v1/')[0]}: {err.__class__.__name__}: {err}")


def _refused(r: httpx.Response, folder: Path | None = None) -> NoReturn:
    """Print the server's problem (and a pack's problems at the folder's files) and exit."""
    from api.cli_output import _CONTROL, format_problem
    from engine.api import Problem, mask_bidi

    def clean(value: object, size: int = 2000) -> str:
        """A server's text as it may reach a terminal: no control or bidi characters."""
        return mask_bidi(_CONTROL.sub("?", str(value)[:size]))

    try:
        body = r.json()
    except ValueError:
        body = None
    if not isinstance(body, dict) or "detail" not in body:
        _fail("KPI-E061", f"the server answered {r.status_code}: {clean(r.text, 300)}")
    slug = clean(str(body.get("type", "")).rsplit("/", 1)[-1], 80)
    for p in body.get("problems") or []:
        if not isinstance(p, dict) or "code" not in p:
            continue
        file = clean(p.get("file") or "", 300)
        if folder is not None and file.startswith("<request>/"):
            file = str(folder / file.removeprefix("<request>/"))
        problem = Problem(
            clean(p["code"], 20),
            clean(p.get("message", "")),
            "warning" if p.get("severity") == "warning" else "error",
            file or None,
            p["line"] if isinstance(p.get("line"), int) else 0,
            p["column"] if isinstance(p.get("column"), int) else 0,
            clean(p.get("path") or "", 300),
            clean(p["hint"]) if p.get("hint") else None,
        )
        typer.echo(format_problem(problem), err=True)
    _fail("KPI-E061", f"the server refused it ({r.status_code} {slug}): {clean(body['detail'])}", 1)


def publish(
    folder: Annotated[
        Path, typer.Argument(help="The pack folder (or a single pack file).", show_default=False)
    ],
    server: Server = None,
    token: Token = None,
    packs_dir: Annotated[
        list[Path] | None,
        typer.Option(
            "--packs-dir",
            help="Extra folder holding pack directories, for checking `extends` locally.",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Validate a pack folder (as `kpi validate`), then publish it to a KPI Forge server."""
    from api.cli_output import _library, _summary, format_problem
    from engine.api import check_pack, content_digest, join_stream, read_pack_folder

    secret = token or os.environ.get("KPI_TOKEN")
    if not secret:
        _fail("KPI-E063", "publishing needs a token: pass --token or set $KPI_TOKEN")
    compiled, problems = check_pack(folder, _library(packs_dir))
    for p in problems:
        typer.echo(format_problem(p), err=True)
    if compiled is None:
        typer.echo(_summary(str(folder), compiled, problems), err=True)
        _fail("KPI-E061", f"{folder} has errors; nothing was sent", 1)
    texts, _ = read_pack_folder(folder)
    body = join_stream(texts).encode("utf-8")
    digest = content_digest(texts)
    r = _request(
        "POST",
        f"{_server(server)}/v1/packs",
        content=body,
        headers={"Content-Type": "application/yaml", "Authorization": f"Bearer {secret}"},
    )
    if r.status_code not in (200, 201):
        _refused(r, folder if folder.is_dir() else None)
    stored = r.json()
    ident = f"{stored['pack']}@{stored['version']}"
    if stored["sha256"] != digest:  # pragma: no cover - a server of another release
        _fail("KPI-E061", f"{ident} was stored with hash {stored['sha256']}, not {digest}")
    what = "published" if r.status_code == 201 else "already published (unchanged)"
    typer.echo(f"{what} {ident} sha256:{stored['sha256']}")
    for w in stored.get("warnings") or []:
        typer.echo(f"warning {w.get('code')}: {w.get('message')}", err=True)


def _ref(ref: str) -> tuple[str, str | None]:
    m = _REF.fullmatch(ref)
    if m is None:
        _fail("KPI-E064", f"'{ref[:80]}' is not a pack: write ID or ID@VERSION (my-bakery@1.0.0)")
    return m["id"], m["version"]


def _is_empty(folder: Path) -> bool:
    try:
        return not folder.exists() or (folder.is_dir() and not any(folder.iterdir()))
    except OSError as err:
        _fail("KPI-E064", f"cannot read {folder}: {_reason(err)}")


def write_folder(folder: Path, files: list[tuple[str, str]], force: bool) -> None:
    """Write a pack's files as ``folder``: built in a temporary sibling, then renamed into place.

    With ``force``, a non-empty folder's files other than *.yaml/*.yml (README, examples) are
    kept; its YAML files are replaced by the pack's. A folder that cannot be written (a part of
    its path is a file, no permission, a full disk) is KPI-E064 with the system's reason."""
    try:
        _write_folder(folder, files, force)
    except OSError as err:
        _fail("KPI-E064", f"cannot write {folder}: {_reason(err)}")


def _reason(err: OSError) -> str:
    """An OS error as a sentence: what failed and the system's reason, never a traceback."""
    if isinstance(err, (FileExistsError, NotADirectoryError)) and err.filename:
        return f"{err.filename} is a file, not a folder"
    reason = err.strerror or err.__class__.__name__
    return f"{reason} ({err.filename})" if err.filename else reason


def _write_folder(folder: Path, files: list[tuple[str, str]], force: bool) -> None:
    if folder.exists() and not folder.is_dir():
        _fail("KPI-E064", f"{folder} is a file, not a folder")
    if not _is_empty(folder) and not force:
        _fail("KPI-E064", f"{folder} is not empty: choose a new folder, or pass --force")
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=folder.parent))
    try:
        if folder.is_dir():
            for entry in folder.iterdir():
                if entry.suffix in (".yaml", ".yml") and not entry.is_dir():
                    continue
                if entry.is_dir() and not entry.is_symlink():
                    shutil.copytree(entry, staging / entry.name, symlinks=True)
                else:
                    shutil.copy2(entry, staging / entry.name, follow_symlinks=False)
        for name, text in files:
            (staging / name).write_text(text, encoding="utf-8", newline="")
        os.chmod(staging, 0o755)
        if folder.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{folder.name}.old.", dir=folder.parent))
            os.replace(folder, old / folder.name)
            os.replace(staging, folder)
            shutil.rmtree(old)
        else:
            os.replace(staging, folder)
    finally:
        if staging.exists():
            shutil.rmtree(staging)


def pull(
    ref: Annotated[
        str, typer.Argument(help="The pack: ID or ID@VERSION (default: its newest version).")
    ],
    folder: Annotated[Path, typer.Argument(help="The folder to write (new or empty).")],
    server: Server = None,
    token: Token = None,
    force: Annotated[
        bool,
        typer.Option(
            "--force", help="Replace the pack files of a non-empty folder (other files are kept)."
        ),
    ] = False,
) -> None:
    """Download a published (or built-in) pack's files into a folder."""
    from engine.api import content_digest, stream_files

    ident, version = _ref(ref)
    if not _is_empty(folder) and not force:
        _fail("KPI-E064", f"{folder} is not empty: choose a new folder, or pass --force")
    secret = token or os.environ.get("KPI_TOKEN")
    headers = {"Authorization": f"Bearer {secret}"} if secret else {}
    base = _server(server)
    params = {"version": version} if version else {}
    r = _request(
        "GET",
        f"{base}/v1/packs/{ident}",
        params=params,
        headers={**headers, "Accept": "application/yaml"},
    )
    if r.status_code != 200:
        _refused(r)
    files = stream_files(r.content.decode("utf-8"))
    digest = content_digest(files)
    listed = _request("GET", f"{base}/v1/packs/{ident}/versions", headers=headers)
    if listed.status_code != 200:
        _refused(listed)
    got = [v for v in listed.json()["versions"] if version is None or v["version"] == version]
    stored = got[0] if got else None
    if stored and stored["sha256"] is not None and stored["sha256"] != digest:
        _fail("KPI-E061", f"the files of {ident} do not give its hash {stored['sha256']}")
    write_folder(folder, files, force)
    shown = f"{ident}@{stored['version']}" if stored else ident
    typer.echo(f"wrote {len(files)} file(s) of {shown} to {folder} sha256:{digest}")


#: the examples of the files `kpi init` writes: each commented block, uncommented in place of
#: the file's last line, is valid YAML of the pack (tests/api/test_cli_publish.py checks it)
_METRICS_EXAMPLE = """\
# Metrics of this pack: add your own, or override an inherited one by its id. A metric is a
# formula over inputs and metrics; its label (in the pack's languages) is optional.
# Inherited from {parent} (`kpi docs {parent}` lists them all,
# `kpi lineage {parent} METRIC` explains one): {sample}, …
#
# For example (with the input of inputs.yaml's example), in place of the last line:
#
# metrics:
#   repeat_rate:
#     label: {{zh: 复购率, en: Repeat purchase rate}}
#     formula: repeat_members / active_members
#     unit: ratio
metrics: {{}}
"""
_INPUTS_EXAMPLE = """\
# Inputs: the measures your data supplies, beyond those of {parent}.
#
# For example, in place of the last line:
#
# inputs:
#   repeat_members:
#     label: {{zh: 复购会员数, en: Repeat members}}
#     unit: count
#     rollup: {{time: sum, dims: sum}}
inputs: {{}}
"""
_README = """\
# {ident}

{title_en} — {title_zh}.

A KPI pack that extends `{parent}`: its inputs, metrics, bands and rules apply here too, and
this folder adds or overrides definitions.

    kpi validate {folder}                           # check the pack
    kpi publish {folder} --server URL               # publish it (token: $KPI_TOKEN)

Bump `version` in pack.yaml before publishing a change: a published version never changes.
"""


def _yaml_text(text: str) -> str:
    """A label as a YAML flow scalar: quoted, with JSON escapes (a subset of YAML)."""
    import json

    return json.dumps(text, ensure_ascii=False)


def init(
    folder: Annotated[Path, typer.Argument(help="The new pack folder (new or empty).")],
    extends: Annotated[
        str,
        typer.Option(
            "--extends", help="The pack to extend, by id (a built-in pack, or one in --packs-dir)."
        ),
    ],
    ident: Annotated[
        str | None,
        typer.Option(
            "--id", help="The new pack's id. Default: the folder's name.", show_default=False
        ),
    ] = None,
    version: Annotated[str, typer.Option("--version", help="The first version.")] = "0.1.0",
    title_zh: Annotated[
        str | None, typer.Option("--title-zh", help="Title in Chinese.", show_default=False)
    ] = None,
    title_en: Annotated[
        str | None, typer.Option("--title-en", help="Title in English.", show_default=False)
    ] = None,
    packs_dir: Annotated[
        list[Path] | None,
        typer.Option(
            "--packs-dir",
            help="Extra folder holding pack directories (searched before metrics/).",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Start a pack folder that extends a built-in pack; it validates at once."""
    from api.cli_output import _library
    from engine.api import check_pack

    new_id = ident or folder.resolve().name
    if not re.fullmatch(r"[a-z][a-z0-9-]{1,63}", new_id):
        _fail(
            "KPI-E064",
            f"'{new_id[:80]}' is not a pack id (2-64 of a-z, 0-9 and '-', starting with a "
            "letter): pass --id",
        )
    if not re.fullmatch(r"[0-9]{1,9}\.[0-9]{1,9}\.[0-9]{1,9}", version):
        _fail("KPI-E064", f"'{version[:40]}' is not a version: write MAJOR.MINOR.PATCH (0.1.0)")
    library = _library(packs_dir)
    if not library.candidates(extends):
        known = ", ".join(library.pack_ids())
        _fail("KPI-E064", f"there is no pack '{extends[:80]}' to extend (packs: {known})")
    parent, _ = check_pack(extends, library)
    if parent is None:
        _fail("KPI-E064", f"the pack '{extends}' has errors: run `kpi validate {extends}`")
    if new_id == parent.pack.id:
        _fail("KPI-E064", f"the new pack needs its own id, not '{new_id}': pass --id")
    if not _is_empty(folder):
        _fail("KPI-E064", f"{folder} is not empty: choose a new folder")
    zh = title_zh or f"{parent.pack.title.get('zh', parent.pack.id)}（扩展）"
    en = title_en or f"{parent.pack.title.get('en', parent.pack.id)} (extended)"
    major = parent.pack.version.split(".")[0]
    header = (
        f"# {new_id}: extends {parent.pack.id}; add inputs in inputs.yaml, metrics in "
        "metrics.yaml.\n"
        f"pack: {new_id}\n"
        f"version: {version}\n"
        f"title: {{zh: {_yaml_text(zh)}, en: {_yaml_text(en)}}}\n"
        f"extends: ['{parent.pack.id}@>={parent.pack.version},<{int(major) + 1}']\n"
        "visibility: private\n"
    )
    sample = ", ".join(sorted(parent.pack.metrics)[:5])
    files = [
        ("inputs.yaml", _INPUTS_EXAMPLE.format(parent=parent.pack.id)),
        ("metrics.yaml", _METRICS_EXAMPLE.format(parent=parent.pack.id, sample=sample)),
        ("pack.yaml", header),
        (
            "README.md",
            _README.format(
                ident=new_id, title_en=en, title_zh=zh, parent=parent.pack.id, folder=folder
            ),
        ),
    ]
    write_folder(folder, files, force=False)
    compiled, problems = check_pack(folder, library)
    if compiled is None:  # pragma: no cover - the templates are tested to validate
        _fail("KPI-E064", f"the new pack does not validate: {problems[0].message}")
    typer.echo(
        f"created {folder}: {new_id} {version} extends {parent.pack.id} "
        f"({len(compiled.pack.metrics)} metrics inherited); next: kpi validate {folder}"
    )


def register(app: typer.Typer) -> None:
    """Add ``publish``, ``pull`` and ``init`` to the ``kpi`` command."""
    app.command("publish")(publish)
    app.command("pull")(pull)
    app.command("init")(init)
