"""Publishing a pack folder: as a YAML stream of its files, or as a zip archive; hostile
archives are refused with their codes (KPI-L013, KPI-L014), never a 500."""

from __future__ import annotations

import hashlib
import io
import shutil
import stat
import zipfile
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from engine.api import BUILTIN_ROOT, content_digest, join_stream, read_pack_folder
from tests.api.http.conftest import YAML, assert_problem, bearer
from tests.engine.test_stream import legacy_zip

BAKERY = "bakery-stored-value"
ZIP = {"Content-Type": "application/zip"}


def my_bakery(tmp_path: Path, version: str = "1.0.0") -> Path:
    """A copy of the bakery pack's YAML files under a new id (a built-in id cannot be published)."""
    folder = tmp_path / "my-bakery"
    folder.mkdir()
    for f in (BUILTIN_ROOT / BAKERY).glob("*.yaml"):
        shutil.copy(f, folder / f.name)
    pack = folder / "pack.yaml"
    text = pack.read_text(encoding="utf-8")
    assert "pack: bakery-stored-value\n" in text and "version: 1.0.0\n" in text
    text = text.replace("pack: bakery-stored-value\n", "pack: my-bakery\n")
    pack.write_text(text.replace("version: 1.0.0\n", f"version: {version}\n"), encoding="utf-8")
    return folder


def zipped(entries: dict[str, bytes], *, links: tuple[str, ...] = ()) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in entries.items():
            info = zipfile.ZipInfo(name)
            info.compress_type = zipfile.ZIP_DEFLATED
            if name in links:
                info.external_attr = (stat.S_IFLNK | 0o777) << 16
            zf.writestr(info, data)
    return out.getvalue()


def folder_zip(folder: Path, prefix: str = "") -> bytes:
    return zipped({prefix + f.name: f.read_bytes() for f in sorted(folder.glob("*.yaml"))})


def test_a_downloaded_builtin_pack_posts_back_and_downloads_as_its_files(
    client: TestClient, keys: dict[str, str], tmp_path: Path
):
    r = client.get(f"/v1/packs/{BAKERY}", headers={"Accept": "application/yaml"})
    assert r.status_code == 200 and r.text.count("# file: ") == 7
    edited = r.text.replace("pack: bakery-stored-value\n", "pack: my-bakery\n")
    r = client.post("/v1/packs", content=edited.encode(), headers={**YAML, **bearer(keys["alice"])})
    assert r.status_code == 201, r.text
    folder = my_bakery(tmp_path)
    texts, problems = read_pack_folder(folder)
    assert problems == [] and len(texts) == 7
    # stored as the folder's canonical stream: the hash is the folder's, not the posted text's
    assert r.json()["sha256"] == content_digest(texts)
    assert r.json()["sha256"] != hashlib.sha256(edited.encode()).hexdigest()
    got = client.get("/v1/packs/my-bakery", headers={"Accept": "application/yaml"}).text
    assert got == join_stream(texts)
    assert got.startswith("# file: efficiency.yaml\n---\n# Efficiency: per-visit amounts")
    doc = client.get("/v1/packs/my-bakery").json()
    assert doc["sha256"] == content_digest(texts) and len(doc["metrics"]) > 40
    files = {d["defined_in"]["file"] for d in doc["metrics"].values() if d["defined_in"]}
    assert "my-bakery@1.0.0/funds.yaml" in files and "my-bakery@1.0.0/members.yaml" in files


def test_the_same_folder_as_a_zip_and_as_a_stream_is_the_same_version(
    client: TestClient, keys: dict[str, str], tmp_path: Path
):
    folder = my_bakery(tmp_path)
    texts, _ = read_pack_folder(folder)
    auth = bearer(keys["alice"])
    r = client.post("/v1/packs", content=folder_zip(folder, "my-bakery/"), headers={**ZIP, **auth})
    assert r.status_code == 201, r.text
    assert r.json()["sha256"] == content_digest(texts)
    # the same files again, as a stream in another order: the same content, so a no-op (200)
    stream = "".join(f"# file: {Path(n).name}\n---\n{t}" for n, t in reversed(texts))
    r = client.post("/v1/packs", content=stream.encode(), headers={**YAML, **auth})
    assert r.status_code == 200, r.text
    assert r.json()["sha256"] == content_digest(texts)
    # a zip of one changed file under the same version is other content: 409
    (folder / "rules.yaml").write_text("rules: {}\n", encoding="utf-8")
    r = client.post("/v1/packs", content=folder_zip(folder), headers={**ZIP, **auth})
    assert_problem(r, 409, "version-conflict")


def test_a_zip_with_unflagged_chinese_names_is_stored_under_them(
    client: TestClient, keys: dict[str, str], tmp_path: Path
):
    """Info-ZIP `zip` (Linux, macOS) writes UTF-8 names without the UTF-8 flag: the server
    stores the folder's names and hash, not zipfile's CP437 reading of them."""
    folder = my_bakery(tmp_path)
    (folder / "members.yaml").rename(folder / "会员.yaml")
    texts, _ = read_pack_folder(folder)
    body = legacy_zip(
        [(f"my-bakery/{f.name}".encode(), f.read_bytes()) for f in sorted(folder.glob("*.yaml"))]
    )
    r = client.post("/v1/packs", content=body, headers={**ZIP, **bearer(keys["alice"])})
    assert r.status_code == 201, r.text
    assert r.json()["sha256"] == content_digest(texts)
    got = client.get("/v1/packs/my-bakery", headers={"Accept": "application/yaml"}).text
    assert got == join_stream(texts) and "# file: 会员.yaml\n---\n" in got


def test_validate_takes_a_zip_too(client: TestClient, tmp_path: Path):
    r = client.post("/v1/validate", content=folder_zip(my_bakery(tmp_path)), headers=ZIP)
    body = r.json()
    assert r.status_code == 200 and body["valid"] is True, body
    assert body["pack"]["pack"] == "my-bakery" and body["pack"]["metrics"] > 40


def _bomb() -> bytes:
    """1 GiB of zeros, deflated to about a megabyte."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        info = zipfile.ZipInfo("pack.yaml")
        info.compress_type = zipfile.ZIP_DEFLATED
        with zf.open(info, "w", force_zip64=True) as fh:
            chunk = b"\0" * (1 << 20)
            for _ in range(1024):
                fh.write(chunk)
    return out.getvalue()


def _lying_bomb() -> bytes:
    """A member whose header claims 20 bytes but that inflates to 3 MB."""
    data = bytearray(zipped({"pack.yaml": b"#" * (3 << 20)}))
    real = (3 << 20).to_bytes(4, "little")
    fake = (20).to_bytes(4, "little")
    # the uncompressed size sits in the local header and in the central directory
    assert data.count(real) == 2
    return bytes(data.replace(real, fake))


HEADER = b"pack: my-pack\nversion: 1.0.0\ntitle: {en: Mine, zh: \xe6\x88\x91\xe7\x9a\x84}\n"
REFUSED: list[Any] = [
    pytest.param(
        {"../pack.yaml": HEADER}, (), "KPI-L013", "'../pack.yaml' is not a relative", id="dotdot"
    ),
    pytest.param(
        {"/etc/pack.yaml": HEADER}, (), "KPI-L013", "not a relative file path", id="absolute"
    ),
    pytest.param(
        {"pack.yaml": HEADER, "data.csv": b"a,b\n"}, (), "KPI-L013", "not a pack file", id="csv"
    ),
    pytest.param(
        {"pack.yaml": HEADER, "link.yaml": b"/etc/passwd"},
        ("link.yaml",),
        "KPI-L013",
        "'link.yaml' is a symbolic link",
        id="symlink",
    ),
    pytest.param(
        {"p/pack.yaml": HEADER, "p/sub/more.yaml": b"metrics: {}\n"},
        (),
        "KPI-L013",
        "is in a subfolder",
        id="subfolder",
    ),
    pytest.param(
        {"pack.yaml": HEADER, **{f"m{i:02}.yaml": b"metrics: {}\n" for i in range(64)}},
        (),
        "KPI-L014",
        "the archive holds 65 files; a pack may have at most 64",
        id="too-many-files",
    ),
]


@pytest.mark.parametrize(("entries", "links", "code", "message"), REFUSED)
def test_a_hostile_archive_is_refused_with_its_code(
    client: TestClient,
    keys: dict[str, str],
    entries: dict[str, bytes],
    links: tuple[str, ...],
    code: str,
    message: str,
):
    body = zipped(entries, links=links)
    r = client.post("/v1/packs", content=body, headers={**ZIP, **bearer(keys["alice"])})
    problems = assert_problem(r, 422, "pack-invalid")["problems"]
    assert [p["code"] for p in problems] == [code], problems
    assert message in problems[0]["message"]
    v = client.post("/v1/validate", content=body, headers=ZIP).json()
    assert v["valid"] is False and [p["code"] for p in v["problems"]] == [code]


def test_a_zip_bomb_is_refused_before_it_is_inflated(client: TestClient, keys: dict[str, str]):
    bomb = _bomb()
    assert len(bomb) < 2 * 1024 * 1024  # under the body limit: the archive itself is refused
    r = client.post("/v1/packs", content=bomb, headers={**ZIP, **bearer(keys["alice"])})
    problems = assert_problem(r, 422, "pack-invalid")["problems"]
    assert [p["code"] for p in problems] == ["KPI-L014"]
    assert problems[0]["message"] == (
        "the archive's files add up to 1,073,741,824 bytes uncompressed; a pack may be at most "
        "2,097,152 bytes"
    )


def test_a_member_that_lies_about_its_size_is_refused(client: TestClient, keys: dict[str, str]):
    r = client.post("/v1/packs", content=_lying_bomb(), headers={**ZIP, **bearer(keys["alice"])})
    problems = assert_problem(r, 422, "pack-invalid")["problems"]
    assert [p["code"] for p in problems] in (["KPI-L013"], ["KPI-L014"]), problems


@pytest.mark.parametrize(
    "body",
    [b"not a zip at all", b"PK\x03\x04" + b"\0" * 40, b""],
    ids=["text", "truncated", "empty"],
)
def test_a_body_that_is_no_zip_is_a_coded_problem(
    client: TestClient, keys: dict[str, str], body: bytes
):
    r = client.post("/v1/packs", content=body, headers={**ZIP, **bearer(keys["alice"])})
    problems = assert_problem(r, 422, "pack-invalid")["problems"]
    assert [p["code"] for p in problems] == ["KPI-L013"]
    assert "not a readable zip archive" in problems[0]["message"]


@pytest.mark.parametrize(
    ("stream", "line", "message"),
    [
        ("pack: x\n# file: pack.yaml\n---\npack: x\n", 1, "before the first '# file:' header"),
        ("# file: ../pack.yaml\n---\npack: x\n", 1, "is not a relative file path"),
        ("# file: a.yaml\n---\npack: x\n# file: a.yaml\n---\nmetrics: {}\n", 4, "appears twice"),
        ("# file: notes.txt\n---\npack: x\n", 1, "is not a pack file"),
    ],
    ids=["text-before", "dotdot", "twice", "not-yaml"],
)
def test_a_stream_with_a_bad_header_points_at_its_line(
    client: TestClient, stream: str, line: int, message: str
):
    v = client.post("/v1/validate", content=stream.encode(), headers=YAML).json()
    assert v["valid"] is False
    (p,) = v["problems"]
    assert (p["code"], p["line"]) == ("KPI-L013", line) and message in p["message"], p


def test_several_documents_without_headers_say_how_to_name_them(client: TestClient):
    v = client.post("/v1/validate", content=b"pack: x\n---\nmetrics: {}\n", headers=YAML).json()
    (p,) = v["problems"]
    assert p["code"] == "KPI-L007" and "# file: NAME" in p["hint"], p


def test_the_openapi_document_describes_the_three_bodies(client: TestClient):
    paths = client.get("/openapi.json").json()["paths"]
    for path in ("/v1/packs", "/v1/validate"):
        content = paths[path]["post"]["requestBody"]["content"]
        assert content["application/zip"]["schema"] == {
            "type": "string",
            "format": "binary",
            "description": "A zip archive of a pack folder: at most 64 *.yaml/*.yml files (and "
            "README.md, skipped) at its top or in one folder, no links or subfolders, the files "
            "inflating to at most the pack size limit",
        }
        examples = content["application/yaml"]["examples"]
        assert sorted(examples) == ["document", "folder"]
        for example in examples.values():  # each example is a valid pack
            r = client.post("/v1/validate", content=example["value"].encode(), headers=YAML)
            assert r.json()["valid"] is True, r.text
