"""A pack folder as one text, and back: the *pack stream* and the pack archive (zip).

A pack is a folder of YAML files, but the HTTP API stores and serves one text per version.
Several files travel as one YAML stream in which each document is one file, headed by a
comment line that names it::

    # file: inputs.yaml
    ---
    inputs:
      ...
    # file: pack.yaml
    ---
    pack: my-bakery
    ...

This is the shape ``GET /v1/packs/{pack}`` with ``Accept: application/yaml`` answers (a
built-in pack's headers name ``metrics/<pack>/<file>``: only the last part is the file name),
so a download posts back unchanged. The header is a line ``# file: NAME`` at the start of a
line, followed by a line ``---``; a ``---`` at the start of a line always starts a new YAML
document, so no file's text can hold a header.

The *canonical stream* of a pack's files (:func:`join_stream`) is what the registry stores and
what the content hash is taken of (:func:`engine.load.sources.content_digest`): one file is
its own text; several are their headers and texts in file-name order, each text ending with
one line break. The same files therefore give the same hash as a folder, as a zip, as a posted
stream and once pulled back into a folder.
"""

from __future__ import annotations

import io
import re
import stat
import struct
import zipfile
import zlib

from engine.core.characters import visible
from engine.core.encodings import plausible_chinese
from engine.core.problems import Location, Problem
from engine.load.located import MAX_FILE_BYTES, MAX_PACK_BYTES, LoadError, decode

#: a file header: ``# file: NAME`` and a ``---`` line (CRLF accepted)
FILE_HEADER = re.compile(r"^# file: *(?P<name>[^\r\n]*?) *\r?\n---[ \t]*(?:\r?\n|\Z)", re.M)
#: a pack file's name: letters (any script), digits, '_', '.', '-'; ending .yaml or .yml
FILE_NAME = re.compile(r"[^\W_][\w.-]{0,99}\.ya?ml")
#: files a pack archive may hold besides its YAML files (accepted, not stored)
IGNORED_FILES = ("README.md",)
#: what macOS Finder adds to a zip besides the folder's files: resource forks in ``__MACOSX/``
#: and ``._NAME`` files, and ``.DS_Store`` (skipped unread)
FINDER_FOLDER = "__MACOSX"
FINDER_FILES = (".DS_Store",)
#: the zip flag of a member whose name is UTF-8 (general purpose bit 11)
UTF8_FLAG = 0x800
#: the Info-ZIP Unicode Path extra field: the UTF-8 name of a member whose header name is not
UNICODE_PATH = 0x7075
MAX_PACK_FILES = 64
#: a zip's compressed size: uncompressed, the files may add up to MAX_PACK_BYTES
MAX_ARCHIVE_BYTES = MAX_PACK_BYTES


def _refused(message: str, where: str | Location, hint: str | None = None) -> Problem:
    loc = where if isinstance(where, Location) else Location(where)
    return Problem.at("KPI-L013", message, loc, hint=hint)


def _too_large(message: str, where: str | Location, hint: str | None = None) -> Problem:
    loc = where if isinstance(where, Location) else Location(where)
    return Problem.at("KPI-L014", message, loc, hint=hint)


def _shown(path: str) -> str:
    """A name for a message: as written (Chinese too), its control and bidi characters escaped."""
    return visible(path)[:120]


def unsafe_path(path: str, where: str | Location) -> Problem | None:
    """The problem with a path that is not relative and plain: ``..``, an absolute path or a
    drive, a backslash, an empty part."""
    if (
        not path
        or path.startswith("/")
        or "\\" in path
        or re.match(r"[A-Za-z]:", path)
        or any(p in ("", ".", "..") for p in path.split("/"))
    ):
        return _refused(
            f"'{_shown(path)}' is not a relative file path (no '..', no absolute path, no "
            "backslash)",
            where,
            hint="name each file by its plain name, such as metrics.yaml",
        )
    return None


def file_name(path: str, where: str | Location) -> tuple[str | None, Problem | None]:
    """The file name that a header's or an archive member's path gives, or the problem with it.

    A relative path of plain parts (:func:`unsafe_path`); the last part is the file name."""
    shown = _shown(path)
    problem = unsafe_path(path, where)
    if problem is not None:
        return None, problem
    name = path.rsplit("/", 1)[-1]
    if not FILE_NAME.fullmatch(name):
        return None, _refused(
            f"'{shown}' is not a pack file: a pack holds only *.yaml or *.yml files named with "
            "letters, digits, '_', '.' and '-'",
            where,
            hint="leave data, pictures and other files out of the pack",
        )
    return name, None


def split_stream(text: str, name: str) -> tuple[list[tuple[str, str]] | None, list[Problem]]:
    """A pack stream's files as (file name, text) in the stream's order, or None when ``text``
    has no file header (it is one document: one file). ``name`` is where problems point."""
    heads = list(FILE_HEADER.finditer(text))
    if not heads:
        return None, []
    problems: list[Problem] = []
    before = text[: heads[0].start()]
    if before.strip():
        offset = len(before) - len(before.lstrip())
        problems.append(
            Problem.at(
                "KPI-L013",
                "the text before the first '# file:' header belongs to no file",
                Location(name, before[:offset].count("\n") + 1, 1),
                hint="start the stream with a header such as '# file: pack.yaml' and a '---' line",
            )
        )
    if len(heads) > MAX_PACK_FILES:
        problems.append(
            _too_large(
                f"the stream holds {len(heads):,} files; a pack may have at most {MAX_PACK_FILES}",
                name,
                hint="merge small files: a section may hold any number of definitions",
            )
        )
        return None, problems
    files: list[tuple[str, str]] = []
    seen: set[str] = set()
    for i, head in enumerate(heads):
        end = heads[i + 1].start() if i + 1 < len(heads) else len(text)
        line = text.count("\n", 0, head.start()) + 1
        at = Location(name, line, 1)
        fname, problem = file_name(head["name"], at)
        if problem is not None:
            problems.append(problem)
            continue
        assert fname is not None
        if fname in seen:
            problems.append(
                _refused(
                    f"the file '{fname}' appears twice in the stream",
                    at,
                    hint="each file of a pack has one name",
                )
            )
            continue
        seen.add(fname)
        files.append((fname, text[head.end() : end]))
    return (None if problems else files), problems


def join_stream(files: list[tuple[str, str]]) -> str:
    """The canonical stream of a pack's files, given as (path or name, text): see the module."""
    if len(files) == 1:
        return files[0][1]
    parts = []
    for path, text in sorted(files, key=lambda f: f[0].rsplit("/", 1)[-1]):
        body = text if text.endswith("\n") else text + "\n"
        parts.append(f"# file: {path.rsplit('/', 1)[-1]}\n---\n{body}")
    return "".join(parts)


def stream_files(text: str) -> list[tuple[str, str]]:
    """A stored pack's files (name, text) as a folder holds them: a stream's files, or one
    ``pack.yaml``. For a text that :func:`split_stream` accepts (as every stored one is)."""
    files, _ = split_stream(text, "<pack>")
    return files if files is not None else [("pack.yaml", text)]


def read_archive(
    data: bytes, where: str = "<archive>", limit: int = MAX_PACK_BYTES
) -> tuple[list[tuple[str, str]], list[Problem]]:
    """The pack files of a zip archive, as (file name, text) in name order, or the problems.

    Hostile input: the compressed size, the number of entries, each file's and the total
    uncompressed size are capped before anything is inflated, and reading stops at the caps
    whatever the headers claim; names must be plain relative paths of *.yaml/*.yml files (and
    README.md, skipped), all at the top or all in one folder; no links, no encryption, only the
    stored and deflate methods. Names not flagged UTF-8 are read as :func:`member_names` says;
    what macOS Finder adds (``__MACOSX/``, ``._*``, ``.DS_Store``) is skipped. ``limit`` lowers
    the uncompressed cap (the server's pack size limit), never raises it."""
    if len(data) > MAX_ARCHIVE_BYTES:
        return [], [
            _too_large(
                f"the archive is {len(data):,} bytes; the limit is {MAX_ARCHIVE_BYTES:,}", where
            )
        ]
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError, OSError) as err:
        return [], [
            _refused(
                f"the body is not a readable zip archive ({str(err)[:80]})",
                where,
                hint="make it with `zip pack.zip *.yaml`, or post the YAML files as one stream",
            )
        ]
    with archive:
        return _members(archive, infos, where, min(limit, MAX_PACK_BYTES))


def _unicode_path(info: zipfile.ZipInfo, raw: bytes) -> str | None:
    """The name an Info-ZIP Unicode Path extra field gives ``info``, if it has a valid one: its
    version is 1 and its CRC-32 is that of the header's name (else the name was changed since
    and the field is stale)."""
    extra, i = info.extra, 0
    while i + 4 <= len(extra):
        kind, size = struct.unpack_from("<HH", extra, i)
        body = extra[i + 4 : i + 4 + size]
        i += 4 + size
        if kind != UNICODE_PATH or len(body) < 5 or body[0] != 1:
            continue
        if struct.unpack_from("<I", body, 1)[0] != zlib.crc32(raw):
            return None
        try:
            return body[5:].decode("utf-8")
        except UnicodeDecodeError:
            return None
    return None


def _gb18030(raw: bytes) -> str | None:
    try:
        text = raw.decode("gb18030")
    except UnicodeDecodeError:
        return None
    return text if plausible_chinese(text) else None


def _utf8(raw: bytes) -> str | None:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return None


def member_names(infos: list[zipfile.ZipInfo]) -> list[str | None]:
    """Each member's name as the archiver meant it, or None for a name in no encoding read here.

    A name flagged UTF-8 (bit 11), or ASCII, is the header's. Otherwise the zip format says
    CP437, which is what :mod:`zipfile` decodes, but no archiver of today means it: Info-ZIP
    ``zip`` (Linux, macOS) writes UTF-8 bytes without the flag, sometimes with a Unicode Path
    extra field (0x7075, used when valid); Chinese Windows Explorer writes GBK. The header's
    bytes are read as UTF-8 if every such name of the archive is UTF-8, else as GB18030 if
    every one reads as Chinese (:func:`engine.core.encodings.plausible_chinese`), else each
    by itself in that order."""
    names: list[str | None] = []
    pending: list[tuple[int, bytes]] = []
    for info in infos:
        if info.flag_bits & UTF8_FLAG or info.orig_filename.isascii():
            names.append(info.filename)
            continue
        raw = info.orig_filename.encode("cp437")  # zipfile's decoding, undone byte for byte
        names.append(_unicode_path(info, raw))
        if names[-1] is None:
            pending.append((len(names) - 1, raw))
    for decode_name in (_utf8, _gb18030):
        decoded = [decode_name(raw) for _, raw in pending]
        if all(name is not None for name in decoded):
            for (i, _), name in zip(pending, decoded, strict=True):
                names[i] = name
            return names
    for i, raw in pending:
        names[i] = _utf8(raw) or _gb18030(raw)
    return names


def _finder_litter(path: str) -> bool:
    parts = path.split("/")
    return parts[0] == FINDER_FOLDER or parts[-1].startswith("._") or parts[-1] in FINDER_FILES


def _members(
    archive: zipfile.ZipFile, infos: list[zipfile.ZipInfo], where: str, limit: int
) -> tuple[list[tuple[str, str]], list[Problem]]:
    # Finder's additions are skipped by their ASCII markers, which read the same in CP437
    entries = [i for i in infos if not i.is_dir() and not _finder_litter(i.filename)]
    if len(entries) > MAX_PACK_FILES:
        return [], [
            _too_large(
                f"the archive holds {len(entries):,} files; a pack may have at most "
                f"{MAX_PACK_FILES}",
                where,
                hint="merge small files: a section may hold any number of definitions",
            )
        ]
    declared = sum(i.file_size for i in entries)
    if declared > limit:
        return [], [
            _too_large(
                f"the archive's files add up to {declared:,} bytes uncompressed; a pack may "
                f"be at most {limit:,} bytes",
                where,
                hint="split the pack into packs that extend each other",
            )
        ]
    problems: list[Problem] = []
    named: list[tuple[str, zipfile.ZipInfo]] = []
    for info, name in zip(entries, member_names(entries), strict=True):
        if name is not None:
            named.append((name, info))
            continue
        spelt = info.orig_filename.encode("cp437").decode("ascii", "backslashreplace")[:120]
        problems.append(
            _refused(
                f"the name '{spelt}' is in no encoding read here (UTF-8, or GB18030/GBK Chinese)",
                f"{where}/{spelt}",
                hint="give the file a name in ASCII letters, or zip the folder with a tool that "
                "writes UTF-8 names (zip on Linux or macOS, 7-Zip)",
            )
        )
    if problems:
        return [], problems
    wanted: list[tuple[str, zipfile.ZipInfo]] = []
    folders = {name.split("/")[0] for name, _ in named if "/" in name}
    top = next(iter(folders)) if len(folders) == 1 else None
    seen: set[str] = set()
    for path, info in named:
        shown = _shown(path)  # a hostile name's control characters, escaped
        member = f"{where}/{shown}"
        problem = unsafe_path(path, member)  # the whole path first: no '..', nothing absolute
        if problem is not None:
            problems.append(problem)
            continue
        if top is not None and path.startswith(top + "/"):
            path = path[len(top) + 1 :]
        if stat.S_ISLNK(info.external_attr >> 16):
            problems.append(_refused(f"'{shown}' is a symbolic link", member))
            continue
        if path in IGNORED_FILES:
            continue
        fname, problem = file_name(path, member)
        if problem is None and "/" in path:
            problem = _refused(
                f"'{shown}' is in a subfolder; a pack's files sit side by side",
                member,
                hint="zip the pack's *.yaml files, at the top of the archive or in one folder",
            )
        if problem is not None:
            problems.append(problem)
            continue
        assert fname is not None
        if info.flag_bits & 0x1:
            problems.append(_refused(f"'{fname}' is encrypted", member))
        elif info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            problems.append(
                _refused(
                    f"'{fname}' is compressed with method {info.compress_type}; "
                    "only stored and deflate are read",
                    member,
                )
            )
        elif info.file_size > MAX_FILE_BYTES:
            problems.append(
                _too_large(
                    f"'{fname}' is {info.file_size:,} bytes; a file may be at most "
                    f"{MAX_FILE_BYTES:,}",
                    member,
                )
            )
        elif fname in seen:
            problems.append(_refused(f"the file '{fname}' appears twice in the archive", member))
        else:
            seen.add(fname)
            wanted.append((fname, info))
    if problems:
        return [], problems
    files: list[tuple[str, str]] = []
    total = 0
    for fname, info in sorted(wanted, key=lambda w: w[0]):
        member = f"{where}/{fname}"
        try:
            with archive.open(info) as fh:
                raw = fh.read(min(MAX_FILE_BYTES, limit - total) + 1)
        except (zipfile.BadZipFile, ValueError, EOFError, OSError, NotImplementedError) as err:
            problems.append(_refused(f"'{fname}' cannot be read: {str(err)[:80]}", member))
            continue
        total += len(raw)
        if len(raw) > info.file_size or total > limit:
            problems.append(
                _too_large(f"'{fname}' inflates past its declared size or the pack's", member)
            )
            break
        try:
            files.append((fname, decode(raw, member)))
        except LoadError as err:
            problems.append(err.problem)
    if not files and not problems:
        problems.append(
            _refused(
                "the archive holds no *.yaml files",
                where,
                hint="a pack is a folder of YAML files such as pack.yaml",
            )
        )
    return ([] if problems else files), problems
