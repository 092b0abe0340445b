"""``kpi publish``, ``kpi pull`` and ``kpi init`` against a real server: uvicorn on a free
loopback port in a thread of this process, the CLI talking HTTP to it over a socket."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from typer.testing import CliRunner

from api.cli import app as cli
from api.server import Settings, create_app
from api.server.registry import Registry
from engine.api import BUILTIN_ROOT, content_digest, read_pack_folder

BAKERY = "bakery-stored-value"
runner = CliRunner()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    data = tmp_path_factory.mktemp("registry")
    settings = Settings(data_dir=data, rate_limit=0, eval_workers=1, eval_timeout=60)
    application = create_app(settings)
    registry = Registry(data)
    tokens = {"alice": registry.create_key("alice"), "bob": registry.create_key("bob")}
    port = _free_port()
    config = uvicorn.Config(application, host="127.0.0.1", port=port, log_level="warning")
    srv = uvicorn.Server(config)
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60  # a hang guard only
    while not srv.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    yield {"url": f"http://127.0.0.1:{port}", **tokens}
    srv.should_exit = True
    thread.join(timeout=30)
    application.state.pool.close()


def kpi(*args: str, env: dict[str, str] | None = None) -> Any:
    return runner.invoke(cli, list(args), env={"NO_COLOR": "1", "KPI_TOKEN": "", **(env or {})})


def bakery_copy(folder: Path, ident: str, version: str = "1.0.0") -> Path:
    folder.mkdir(parents=True)
    for f in (BUILTIN_ROOT / BAKERY).glob("*.yaml"):
        shutil.copy(f, folder / f.name)
    pack = folder / "pack.yaml"
    text = pack.read_text(encoding="utf-8").replace(f"pack: {BAKERY}\n", f"pack: {ident}\n")
    pack.write_text(text.replace("version: 1.0.0\n", f"version: {version}\n"), encoding="utf-8")
    return folder


def files_of(folder: Path) -> dict[str, bytes]:
    return {f.name: f.read_bytes() for f in sorted(folder.iterdir()) if f.is_file()}


def digest_of(folder: Path) -> str:
    texts, problems = read_pack_folder(folder)
    assert problems == []
    return content_digest(texts)


def test_pull_edit_validate_publish_pull_gives_the_edited_folders_hash(
    server: dict[str, str], tmp_path: Path
):
    url, token = server["url"], server["alice"]
    first = bakery_copy(tmp_path / "first", "round-trip")
    r = kpi("publish", str(first), "--server", url, "--token", token)
    assert r.exit_code == 0, r.output
    assert r.stdout == f"published round-trip@1.0.0 sha256:{digest_of(first)}\n"

    pulled = tmp_path / "pulled"
    r = kpi("pull", "round-trip@1.0.0", str(pulled), "--server", url)
    assert r.exit_code == 0, r.output
    assert files_of(pulled) == files_of(first)  # byte for byte, all 7 files
    assert f"sha256:{digest_of(first)}" in r.stdout and len(files_of(pulled)) == 7

    members = pulled / "members.yaml"
    text = members.read_text(encoding="utf-8")
    assert "label: {zh: 月均会员数量, en: Average monthly members}" in text
    members.write_text(
        text.replace(
            "{zh: 月均会员数量, en: Average monthly members}", "{zh: 月均会员, en: Members}"
        ),
        encoding="utf-8",
    )
    pack = pulled / "pack.yaml"
    pack.write_text(
        pack.read_text(encoding="utf-8").replace("version: 1.0.0\n", "version: 1.1.0\n"),
        encoding="utf-8",
    )
    assert kpi("validate", str(pulled)).exit_code == 0
    edited = digest_of(pulled)
    assert edited != digest_of(first)

    r = kpi("publish", str(pulled), "--server", url, env={"KPI_TOKEN": token})
    assert r.exit_code == 0, r.output
    assert r.stdout == f"published round-trip@1.1.0 sha256:{edited}\n"
    again = tmp_path / "again"
    r = kpi("pull", "round-trip@1.1.0", str(again), "--server", url)
    assert r.exit_code == 0, r.output
    assert files_of(again) == files_of(pulled) and digest_of(again) == edited
    assert f"wrote 7 file(s) of round-trip@1.1.0 to {again} sha256:{edited}" in r.stdout

    # the newest version by default; publishing the same folder again changes nothing
    r = kpi("pull", "round-trip", str(tmp_path / "newest"), "--server", url)
    assert r.exit_code == 0 and files_of(tmp_path / "newest") == files_of(pulled)
    r = kpi("publish", str(again), "--server", url, "--token", token)
    assert r.stdout == f"already published (unchanged) round-trip@1.1.0 sha256:{edited}\n"
    assert token not in r.output


def test_publish_refusals_are_coded_and_never_print_the_token(
    server: dict[str, str], tmp_path: Path
):
    url, token = server["url"], server["alice"]
    folder = bakery_copy(tmp_path / "p", "refusals")
    r = kpi("publish", str(folder), "--server", url)
    assert r.exit_code == 2 and "error KPI-E063: publishing needs a token" in r.stderr

    r = kpi("publish", str(folder), "--server", url, "--token", "kpi_not-a-key")
    assert r.exit_code == 1 and "error KPI-E061: the server refused it (401 unauthorized)" in (
        r.stderr
    )
    assert "kpi_not-a-key" not in r.output

    assert kpi("publish", str(folder), "--server", url, "--token", token).exit_code == 0
    members = folder / "members.yaml"
    members.write_text(
        members.read_text(encoding="utf-8").replace("月均会员数量", "月均会员"), encoding="utf-8"
    )
    r = kpi("publish", str(folder), "--server", url, "--token", token)
    assert r.exit_code == 1 and "(409 version-conflict)" in r.stderr, r.output
    assert "versions are immutable" in r.stderr and token not in r.output

    # another owner may not add a version; nothing about the token is echoed
    (folder / "pack.yaml").write_text(
        (folder / "pack.yaml").read_text(encoding="utf-8").replace("1.0.0", "1.0.1"),
        encoding="utf-8",
    )
    r = kpi("publish", str(folder), "--server", url, "--token", server["bob"])
    assert r.exit_code == 1 and "(403 forbidden)" in r.stderr and server["bob"] not in r.output

    r = kpi("publish", str(folder), "--server", "http://127.0.0.1:1", "--token", token)
    assert r.exit_code == 2 and "error KPI-E062: cannot reach http://127.0.0.1:1" in r.stderr


def test_a_pack_with_errors_is_not_sent(server: dict[str, str], tmp_path: Path):
    folder = bakery_copy(tmp_path / "bad", "never-sent")
    (folder / "extra.yaml").write_text("metrics:\n  avg_members: {label: {en: x}}\n", "utf-8")
    r = kpi("publish", str(folder), "--server", server["url"], "--token", server["alice"])
    assert r.exit_code == 1, r.output
    assert "KPI-R002" in r.stderr and f"{folder / 'extra.yaml'}:2:3" in r.stderr
    assert "nothing was sent" in r.stderr
    r = kpi("pull", "never-sent", str(tmp_path / "x"), "--server", server["url"])
    assert r.exit_code == 1 and "(404 pack-not-found)" in r.stderr
    assert not (tmp_path / "x").exists()  # nothing written, not even an empty folder


def test_the_server_points_at_the_folders_files(server: dict[str, str], tmp_path: Path):
    """A problem only the server finds comes back at the folder's file and line."""
    args = ("--server", server["url"], "--token", server["alice"])
    folder = bakery_copy(tmp_path / "builtin", BAKERY)
    r = kpi("publish", str(folder), *args)
    assert r.exit_code == 1 and "(403 forbidden)" in r.stderr and "built-in pack" in r.stderr

    parents = tmp_path / "parents"
    bakery_copy(parents / "local-only", "local-only")  # valid here, never published
    child = tmp_path / "child"
    assert (
        kpi("init", str(child), "--extends", "local-only", "--packs-dir", str(parents)).exit_code
        == 0
    )
    r = kpi("publish", str(child), *args, "--packs-dir", str(parents))
    assert r.exit_code == 1, r.output
    assert r.stderr.splitlines() == [
        f"{child / 'pack.yaml'}:5:11: error KPI-R012: extended pack 'local-only' was not found",
        "  5 | extends: ['local-only@>=1.0.0,<2']",
        "    |           ^",
        "  hint: known packs: bakery-stored-value, membership-core",
        "error KPI-E061: the server refused it (422 pack-invalid): the pack has 1 error(s); "
        "nothing was stored",
    ]


def test_pull_refuses_a_non_empty_folder_unless_forced(server: dict[str, str], tmp_path: Path):
    url = server["url"]
    target = tmp_path / "t"
    target.mkdir()
    (target / "README.md").write_text("mine\n", encoding="utf-8")
    (target / "old.yaml").write_text("metrics: {}\n", encoding="utf-8")
    r = kpi("pull", BAKERY, str(target), "--server", url)
    assert r.exit_code == 2 and "error KPI-E064:" in r.stderr and "--force" in r.stderr
    assert files_of(target) == {"README.md": b"mine\n", "old.yaml": b"metrics: {}\n"}

    r = kpi("pull", BAKERY, str(target), "--server", url, "--force")
    assert r.exit_code == 0, r.output
    builtin = files_of(BUILTIN_ROOT / BAKERY)
    assert files_of(target) == {"README.md": b"mine\n", **builtin}  # old.yaml is gone
    assert digest_of(target) == digest_of(BUILTIN_ROOT / BAKERY)
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no staging left

    r = kpi("pull", "Not A Pack", str(tmp_path / "y"), "--server", url)
    assert r.exit_code == 2 and "error KPI-E064: 'Not A Pack' is not a pack" in r.stderr
    r = kpi("pull", f"{BAKERY}@9.9.9", str(tmp_path / "y"), "--server", url)
    assert r.exit_code == 1 and "(404 version-not-found)" in r.stderr


def test_init_makes_a_pack_that_validates_and_publishes(server: dict[str, str], tmp_path: Path):
    folder = tmp_path / "my-shop"
    r = kpi("init", str(folder), "--extends", BAKERY)
    assert r.exit_code == 0, r.output
    assert sorted(files_of(folder)) == ["README.md", "inputs.yaml", "metrics.yaml", "pack.yaml"]
    pack = (folder / "pack.yaml").read_text(encoding="utf-8")
    assert "pack: my-shop\nversion: 0.1.0\n" in pack
    assert (
        'title: {zh: "烘焙会员储值分析（扩展）", en: "Bakery member stored-value analysis '
        '(extended)"}' in pack
    )
    assert "extends: ['bakery-stored-value@>=1.0.0,<2']" in pack
    assert "metrics: {}\n" in (folder / "metrics.yaml").read_text(encoding="utf-8")
    r = kpi("validate", str(folder), "--json")
    assert r.exit_code == 0, r.output
    assert '"id": "my-shop"' in r.stdout and '"metrics": 71' in r.stdout

    r = kpi("publish", str(folder), "--server", server["url"], "--token", server["alice"])
    assert r.exit_code == 0 and r.stdout.startswith("published my-shop@0.1.0 sha256:"), r.output
    back = tmp_path / "back"
    # private: only its owner may pull it; README.md is not part of the pack
    r = kpi("pull", "my-shop", str(back), "--server", server["url"])
    assert r.exit_code == 1 and "(404 pack-not-found)" in r.stderr
    r = kpi("pull", "my-shop", str(back), "--server", server["url"], "--token", server["alice"])
    assert r.exit_code == 0, r.output
    assert files_of(back) == {k: v for k, v in files_of(folder).items() if k != "README.md"}

    # a pack extending the published one: checked locally against the pulled copy, and on the
    # server against the stored stream of files (held in memory as the parent)
    parents = tmp_path / "parents"
    shutil.copytree(back, parents / "my-shop")
    child = tmp_path / "my-branch"
    r = kpi("init", str(child), "--extends", "my-shop", "--packs-dir", str(parents))
    assert r.exit_code == 0, r.output
    assert "extends: ['my-shop@>=0.1.0,<1']" in (child / "pack.yaml").read_text("utf-8")
    args = ("--server", server["url"], "--token", server["alice"])
    r = kpi("publish", str(child), *args, "--packs-dir", str(parents))
    assert r.exit_code == 0 and r.stdout.startswith("published my-branch@0.1.0 sha256:"), r.output
    r = kpi("publish", str(child), *args)  # without the parent, the local check stops it
    assert r.exit_code == 1 and "KPI-R012" in r.stderr and "nothing was sent" in r.stderr

    assert kpi("init", str(folder), "--extends", BAKERY).exit_code == 2  # not empty
    r = kpi("init", str(tmp_path / "Bad Name"), "--extends", BAKERY)
    assert r.exit_code == 2 and "is not a pack id" in r.stderr and "--id" in r.stderr
    r = kpi("init", str(tmp_path / "zz"), "--extends", "no-such-pack")
    assert r.exit_code == 2 and "there is no pack 'no-such-pack'" in r.stderr


def test_a_pack_published_as_one_document_is_pulled_as_pack_yaml(
    server: dict[str, str], tmp_path: Path
):
    import httpx

    gym = (Path(__file__).parent / "http" / "packs" / "gym-membership.yaml").read_bytes()
    r = httpx.post(
        f"{server['url']}/v1/packs",
        content=gym,
        headers={"Content-Type": "application/yaml", "Authorization": f"Bearer {server['bob']}"},
    )
    assert r.status_code == 201, r.text
    r = kpi("pull", "gym-membership@1.0.0", str(tmp_path / "gym"), "--server", server["url"])
    assert r.exit_code == 0, r.output
    assert files_of(tmp_path / "gym") == {"pack.yaml": gym}
    assert digest_of(tmp_path / "gym") == hashlib.sha256(gym).hexdigest()


def test_pull_and_init_under_a_file_are_coded_errors(server: dict[str, str], tmp_path: Path):
    (tmp_path / "data.csv").write_text("period,store\n", encoding="utf-8")
    target = tmp_path / "data.csv" / "sub"
    r = kpi("pull", BAKERY, str(target), "--server", server["url"])
    assert r.exit_code == 2 and r.exception is not None and isinstance(r.exception, SystemExit)
    assert r.stderr == (
        f"error KPI-E064: cannot write {target}: {tmp_path / 'data.csv'} is a file, not a folder\n"
    )
    r = kpi("init", str(target), "--extends", BAKERY, "--id", "abc")
    assert r.exit_code == 2 and isinstance(r.exception, SystemExit)
    assert r.stderr.startswith(f"error KPI-E064: cannot write {target}: ")
    assert (tmp_path / "data.csv").read_text(encoding="utf-8") == "period,store\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data.csv"]  # no staging left


def _with_example(text: str) -> str:
    """A file `kpi init` wrote, with its commented example in place of its last line."""
    lines = text.rstrip("\n").split("\n")
    start = next(i for i, line in enumerate(lines) if re.fullmatch(r"# [a-z]+:", line))
    return "".join(line[2:] + "\n" for line in lines[start:-1])


def test_the_examples_init_writes_validate_and_name_real_commands(tmp_path: Path):
    folder = tmp_path / "shop"
    assert kpi("init", str(folder), "--extends", BAKERY, "--id", "my-shop").exit_code == 0
    texts = {n: (folder / n).read_text(encoding="utf-8") for n in ("inputs.yaml", "metrics.yaml")}
    for name, text in texts.items():
        (folder / name).write_text(_with_example(text), encoding="utf-8")
    assert (folder / "inputs.yaml").read_text(encoding="utf-8") == (
        "inputs:\n"
        "  repeat_members:\n"
        "    label: {zh: 复购会员数, en: Repeat members}\n"
        "    unit: count\n"
        "    rollup: {time: sum, dims: sum}\n"
    )
    r = kpi("validate", str(folder), "--json")
    assert r.exit_code == 0, r.output
    report = json.loads(r.stdout)[0]
    assert report["valid"] is True and report["problems"] == []
    assert (report["metrics"], report["inputs"]) == (72, 69)  # 71 and 68 inherited, one each
    r = kpi("lineage", str(folder), "repeat_rate")
    assert r.exit_code == 0 and "repeat_members / active_members" in r.stdout, r.output
    commands = re.findall(r"`kpi ([a-z-]+)", "".join(texts.values()))
    assert sorted(set(commands)) == ["docs", "lineage"]
    assert all(kpi(c, "--help").exit_code == 0 for c in commands)
    # labels are optional: the example no longer says every metric has one in every language
    assert "every language" not in texts["metrics.yaml"] and "optional" in texts["metrics.yaml"]
