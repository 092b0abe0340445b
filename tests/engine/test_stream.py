"""A pack folder as one text and back (engine/load/stream.py): the canonical stream, its
content hash, the stream's headers and the zip archive's caps (KPI-L013, KPI-L014)."""

from __future__ import annotations

import hashlib
import io
import struct
import zipfile
import zlib
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


def legacy_zip(
    entries: list[tuple[bytes, bytes]], extras: dict[bytes, bytes] | None = None
) -> bytes:
    """A zip whose member names are the given bytes with the UTF-8 flag (bit 11) cleared, as
    Info-ZIP `zip` and Windows Explorer write them (zipfile itself always flags a non-ASCII
    name): written under ASCII stand-ins of the same length, whose bytes are then replaced in
    the local and central headers. ``extras`` gives a member's extra field by its name."""
    out = io.BytesIO()
    stand_ins = []
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for i, (raw, data) in enumerate(entries):
            stand_in = (f"~{i:02d}" * 100)[: len(raw) - 1] + ("/" if raw.endswith(b"/") else "~")
            info = zipfile.ZipInfo(stand_in)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.extra = (extras or {}).get(raw, b"")
            zf.writestr(info, data)
            stand_ins.append((stand_in.encode("ascii"), raw))
    body = out.getvalue()
    for stand_in, raw in stand_ins:
        assert body.count(stand_in) == 2  # the local header and the central directory
        body = body.replace(stand_in, raw)
    return body


def unicode_path(header_name: bytes, name: str) -> bytes:
    """An Info-ZIP Unicode Path extra field (0x7075): version 1, the header name's CRC-32, the
    UTF-8 name."""
    utf8 = name.encode("utf-8")
    return struct.pack("<HHBI", 0x7075, 5 + len(utf8), 1, zlib.crc32(header_name)) + utf8


def chinese_bakery(tmp_path: Path) -> tuple[Path, str]:
    """The bakery pack's files with members.yaml named 会员.yaml, and its ``pack_sha256``."""
    folder = tmp_path / "我的门店"
    folder.mkdir()
    for f in BAKERY.glob("*.yaml"):
        (folder / f.name.replace("members", "会员")).write_bytes(f.read_bytes())
    compiled, problems = check_pack(folder)
    assert compiled is not None, problems
    texts, _ = read_pack_folder(folder)
    assert compiled.pack.sha256 == content_digest(texts)
    return folder, compiled.pack.sha256


NAMES = [
    "efficiency.yaml",
    "funds.yaml",
    "inputs.yaml",
    "pack.yaml",
    "reports.yaml",
    "rules.yaml",
    "会员.yaml",
]


@pytest.mark.parametrize("encoding", ["utf-8", "gbk"], ids=["info-zip-utf8", "windows-gbk"])
def test_an_archive_with_unflagged_chinese_names_keeps_them_and_the_hash(
    tmp_path: Path, encoding: str
):
    folder, sha256 = chinese_bakery(tmp_path)
    entries = [(f.name.encode(encoding), f.read_bytes()) for f in sorted(folder.iterdir())]
    assert (b"\xe4\xbc\x9a" if encoding == "utf-8" else b"\xbb\xe1") in entries[-1][0]
    body = legacy_zip(entries)
    assert not any(i.flag_bits & 0x800 for i in zipfile.ZipFile(io.BytesIO(body)).infolist())
    files, problems = read_archive(body)
    assert problems == [] and [name for name, _ in files] == NAMES
    assert content_digest(files) == sha256
    assert "# file: 会员.yaml\n---\n" in join_stream(files)


def test_an_archive_names_its_files_by_the_unicode_path_field(tmp_path: Path):
    folder, sha256 = chinese_bakery(tmp_path)
    header = b"\xff\xfe.yaml"  # a name in no encoding read here: only the field names it
    entries = [
        (header if f.name == "会员.yaml" else f.name.encode(), f.read_bytes())
        for f in sorted(folder.iterdir())
    ]
    files, problems = read_archive(legacy_zip(entries, {header: unicode_path(header, "会员.yaml")}))
    assert problems == [] and [name for name, _ in files] == NAMES
    assert content_digest(files) == sha256
    # a stale field (its CRC is another name's) is ignored: the header's name is refused
    stale = legacy_zip(entries, {header: unicode_path(b"other.yaml", "会员.yaml")})
    files, problems = read_archive(stale)
    assert files == [] and [p.code for p in problems] == ["KPI-L013"]
    assert problems[0].message == (
        "the name '\\xff\\xfe.yaml' is in no encoding read here (UTF-8, or GB18030/GBK Chinese)"
    )
    assert problems[0].file == "<archive>/\\xff\\xfe.yaml" and "7-Zip" in (problems[0].hint or "")


def test_a_finder_archive_skips_the_macos_additions(tmp_path: Path):
    folder, sha256 = chinese_bakery(tmp_path)
    top = "我的门店/".encode()
    entries = [(top, b""), (b"__MACOSX/", b""), (b"__MACOSX/" + top, b"")]
    for f in sorted(folder.iterdir()):
        entries.append((top + f.name.encode(), f.read_bytes()))
        entries.append((b"__MACOSX/" + top + b"._" + f.name.encode(), b"\x00\x05\x16\x07resource"))
    entries.append((top + b".DS_Store", b"\x00\x00\x00\x01Bud1"))
    entries.append((b"__MACOSX/._" + top.rstrip(b"/"), b"\x00\x05\x16\x07"))
    files, problems = read_archive(legacy_zip(entries))
    assert problems == [] and [name for name, _ in files] == NAMES
    assert content_digest(files) == sha256


def test_a_refused_name_reads_as_written_but_controls_are_escaped():
    files, problems = read_archive(_zip({"pack.yaml": b"pack: x\n", "门店图片.png": b"\x89PNG"}))
    assert [p.code for p in problems] == ["KPI-L013"]
    assert problems[0].message.startswith("'门店图片.png' is not a pack file")
    assert problems[0].file == "<archive>/门店图片.png"
    files, problems = read_archive(_zip({"指标\u202e.yaml": b"x: 1\n"}))
    assert problems[0].message.startswith("'指标\\u202e.yaml' is not a pack file")
