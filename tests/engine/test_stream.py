"""A pack folder as one text and back (engine/load/stream.py): the canonical stream, its
content hash, the stream's headers and the zip archive's caps (KPI-L013, KPI-L014)."""

from __future__ import annotations

import hashlib
import io
import zipfile
from pathlib import Path

import pytest

from engine.api import (
    BUILTIN_ROOT,
    check_pack,
    check_text,
    content_digest,
    join_stream,
    load_pack_text,
    read_archive,
    read_pack_folder,
    stream_files,
)
from engine.load.stream import MAX_PACK_FILES, split_stream

BAKERY = BUILTIN_ROOT / "bakery-stored-value"


def test_the_canonical_stream_of_a_folder_is_its_files_in_name_order():
    texts, problems = read_pack_folder(BAKERY)
    assert problems == [] and [Path(n).name for n, _ in texts] == [
        "efficiency.yaml",
        "funds.yaml",
        "inputs.yaml",
        "members.yaml",
        "pack.yaml",
        "reports.yaml",
        "rules.yaml",
    ]
    stream = join_stream(texts)
    expected = "".join(
        f"# file: {f.name}\n---\n{f.read_text(encoding='utf-8')}"
        for f in sorted(BAKERY.glob("*.yaml"))
    )
    assert all(t.endswith("\n") for _, t in texts) and stream == expected
    # the hash of the folder, of its stream, and of the files the stream gives back
    digest = hashlib.sha256(expected.encode("utf-8")).hexdigest()
    assert content_digest(texts) == digest
    assert content_digest(stream_files(stream)) == digest
    compiled, _ = check_pack(BAKERY)
    assert compiled is not None and compiled.pack.sha256 == digest
    from_text, problems = check_text(stream)
    assert from_text is not None and from_text.pack.sha256 == digest
    assert sorted(from_text.pack.metrics) == sorted(compiled.pack.metrics)


def test_the_hash_ignores_the_order_and_the_headers_paths_but_not_the_split():
    a = [("b.yaml", "metrics: {}\n"), ("a.yaml", "pack: x\n")]
    assert content_digest(a) == content_digest(list(reversed(a)))
    assert content_digest(a) == content_digest(
        [("dir/a.yaml", "pack: x\n"), ("b.yaml", "metrics: {}\n")]
    )
    assert content_digest([("a.yaml", "pack: x")]) == hashlib.sha256(b"pack: x").hexdigest()
    # a missing final line break is added in the stream, so it does not change the hash
    assert content_digest([("a.yaml", "pack: x"), ("b.yaml", "metrics: {}")]) == content_digest(a)
    merged = [("pack.yaml", "pack: x\nmetrics: {}\n")]
    assert content_digest(merged) != content_digest(a)  # a hash of the text, not of the pack


def test_a_builtin_download_splits_into_its_files():
    parts = [
        f"# file: metrics/bakery-stored-value/{f.name}\n---\n{f.read_text(encoding='utf-8')}"
        for f in sorted(BAKERY.glob("*.yaml"))
    ]
    files, problems = split_stream("".join(parts), "<request>")
    assert problems == [] and files is not None
    assert [n for n, _ in files][:2] == ["efficiency.yaml", "funds.yaml"]
    assert dict(files)["pack.yaml"] == (BAKERY / "pack.yaml").read_text(encoding="utf-8")


def test_a_stream_problem_points_at_its_file_and_line():
    stream = (
        "# file: pack.yaml\n---\npack: x\nversion: 1.0.0\n# file: metrics.yaml\n---\nmetrics: [1\n"
    )
    source, problems = load_pack_text(stream, "<request>")
    assert source is None or problems
    (p,) = problems
    # the line of the file (its end: the sequence is not closed), not of the stream (7)
    assert (p.code, p.file, p.line) == ("KPI-L002", "<request>/metrics.yaml", 2), p
    assert split_stream("pack: x\n", "<request>") == (None, [])  # one document: no headers
    assert split_stream("# file: a.yaml\r\n---\r\npack: x\r\n", "r")[0] == [
        ("a.yaml", "pack: x\r\n")
    ]


def test_a_stream_of_too_many_files_is_refused():
    stream = "".join(f"# file: m{i}.yaml\n---\nmetrics: {{}}\n" for i in range(MAX_PACK_FILES + 1))
    files, problems = split_stream(stream, "<request>")
    assert files is None and [p.code for p in problems] == ["KPI-L014"]


def _zip(entries: dict[str, bytes], method: int = zipfile.ZIP_DEFLATED) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", method) as zf:
        for name, data in entries.items():
            zf.writestr(name, data)
    return out.getvalue()


def test_an_archive_gives_the_folders_files_and_hash():
    entries = {f"pack/{f.name}": f.read_bytes() for f in BAKERY.glob("*.yaml")}
    entries["pack/README.md"] = b"# notes\n"
    entries["pack/"] = b""  # a folder entry, as `zip -r` writes it
    files, problems = read_archive(_zip(entries))
    texts, _ = read_pack_folder(BAKERY)
    assert problems == [] and len(files) == 7
    assert content_digest(files) == content_digest(texts)


@pytest.mark.parametrize(
    ("entries", "code", "message"),
    [
        ({"a/../pack.yaml": b"pack: x\n"}, "KPI-L013", "not a relative file path"),
        ({"C:/pack.yaml": b"pack: x\n"}, "KPI-L013", "not a relative file path"),
        ({"a\\pack.yaml": b"pack: x\n"}, "KPI-L013", "not a relative file path"),
        ({"pack.yaml": b"pack: x\n", "logo.png": b"\x89PNG"}, "KPI-L013", "not a pack file"),
        ({"a/pack.yaml": b"pack: x\n", "b/more.yaml": b"x: 1\n"}, "KPI-L013", "subfolder"),
        ({"README.md": b"# only a readme\n"}, "KPI-L013", "holds no *.yaml files"),
        ({"pack.yaml": b"pack: \xff\n"}, "KPI-L009", "not UTF-8"),
        ({"pack.yaml": b" " * (5 * 1024 * 1024 + 1)}, "KPI-L014", "uncompressed"),
        ({"a\x1b[31m.yaml": b"pack: x\n"}, "KPI-L013", "'a\\x1b[31m.yaml' is not a pack file"),
    ],
    ids=[
        "dotdot",
        "drive",
        "backslash",
        "png",
        "two-folders",
        "no-yaml",
        "not-utf8",
        "too-big",
        "escape-in-name",
    ],
)
def test_an_archive_that_is_no_pack_folder_is_refused(
    entries: dict[str, bytes], code: str, message: str
):
    files, problems = read_archive(_zip(entries))
    assert files == [] and {p.code for p in problems} == {code}, problems
    assert message in problems[0].message


def test_an_archive_compressed_otherwise_is_refused():
    files, problems = read_archive(_zip({"pack.yaml": b"pack: x\n"}, zipfile.ZIP_BZIP2))
    assert files == [] and [p.code for p in problems] == ["KPI-L013"]
    assert "only stored and deflate" in problems[0].message
