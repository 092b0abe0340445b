"""Stage 1b: a pack's files → one merged, located document.

A pack is a directory of ``*.yaml`` files (or a single file, or text posted to the API).
Sections such as ``metrics:`` may be split across files; each id may be defined once.
Header keys (``pack``, ``version``, ``title`` …) belong to one file; ``pack`` may be
repeated with the same value so that every file can say which pack it belongs to.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine.core.document import Document
from engine.core.model import SECTIONS
from engine.core.problems import Location, Problem
from engine.load.located import (
    MAX_PACK_BYTES,
    LoadError,
    bidi_problems,
    decode,
    parse_yaml,
    read_text,
)
from engine.load.stream import join_stream, split_stream

_SINGULAR = {
    "dimensions": "dimension",
    "sources": "source",
    "params": "param",
    "inputs": "input",
    "metrics": "metric",
    "checks": "check",
    "rules": "rule",
    "remedies": "remedy",
    "views": "view",
    "roles": "role",
}


@dataclass
class PackSource:
    """The merged document of one pack and where it came from."""

    root: str  # display path of the pack directory or file
    files: list[str]
    doc: Document
    #: SHA-256 of the pack's canonical stream (:func:`content_digest`): of the document itself
    #: when it is one file or one posted document, else of its files headed by their names
    sha256: str = ""

    @property
    def data(self) -> dict[str, Any]:
        data = self.doc.data
        return data if isinstance(data, dict) else {}


def display_path(path: Path) -> str:
    """A path as a compiler prints it: relative to the working directory when below it."""
    try:
        rel = os.path.relpath(path)
    except ValueError:  # pragma: no cover - other drive on Windows
        return str(path)
    return str(path) if rel.startswith("..") else rel


def pack_files(path: Path) -> list[Path]:
    """The YAML files of a pack directory, in name order (subdirectories are not read)."""
    return sorted(p for p in path.iterdir() if p.is_file() and p.suffix in (".yaml", ".yml"))


def load_pack_source(path: Path) -> tuple[PackSource | None, list[Problem]]:
    """Load a pack directory or file. Returns the merged source, or None with the problems."""
    texts, problems = read_pack_folder(path)
    if problems:
        return None, problems
    return merge_texts(display_path(path), texts)


def read_pack_folder(path: Path) -> tuple[list[tuple[str, str]], list[Problem]]:
    """The texts of a pack directory's YAML files (or of one file), as (display path, text) in
    name order, or the problems that stop them from being read."""
    display = display_path(path)
    if path.is_dir():
        files = pack_files(path)
        if not files:
            return [], [
                Problem.at(
                    "KPI-L009",
                    f"{display} holds no *.yaml files",
                    Location(display),
                    hint="a pack is a directory of YAML files such as pack.yaml",
                )
            ]
    elif path.is_file():
        files = [path]
    elif path.exists():
        return [], [
            Problem.at("KPI-L009", f"{display} is not a file or a directory", Location(display))
        ]
    else:
        return [], [Problem.at("KPI-L009", f"{display} does not exist", Location(display))]
    problems: list[Problem] = []
    texts: list[tuple[str, str]] = []
    total = 0
    for f in files:
        shown = display_path(f)
        try:
            text = read_text(f, shown)
        except LoadError as err:
            problems.append(err.problem)
            continue
        total += len(text.encode("utf-8"))
        texts.append((shown, text))
    if total > MAX_PACK_BYTES:
        problems.append(
            Problem.at(
                "KPI-L001",
                f"the pack's files add up to {total:,} bytes; the limit is {MAX_PACK_BYTES:,}",
                Location(display),
            )
        )
    return texts, problems


def load_pack_text(
    text: str | bytes, name: str = "<request>"
) -> tuple[PackSource | None, list[Problem]]:
    """Load a pack given as text (as posted to the API): one YAML document, or a pack stream
    whose documents are the files of a folder (:mod:`engine.load.stream`)."""
    if isinstance(text, bytes):
        if len(text) > MAX_PACK_BYTES:
            return None, [
                Problem.at(
                    "KPI-L001",
                    f"the pack is {len(text):,} bytes; the limit is {MAX_PACK_BYTES:,}",
                    Location(name),
                )
            ]
        try:
            text = decode(text, name)
        except LoadError as err:
            return None, [err.problem]
    try:
        size = len(text.encode("utf-8"))
    except UnicodeEncodeError:
        return None, [
            Problem.at(
                "KPI-L009",
                "the pack is not valid Unicode text (it holds a lone surrogate)",
                Location(name),
            )
        ]
    if size > MAX_PACK_BYTES:
        return None, [
            Problem.at(
                "KPI-L001", f"the pack is larger than {MAX_PACK_BYTES:,} bytes", Location(name)
            )
        ]
    files, problems = split_stream(text, name)
    if problems:
        return None, problems
    if files is None:
        return merge_texts(name, [(name, text)])
    stem = name[:-5] if name.endswith(".yaml") else name
    return merge_texts(name, [(f"{stem}/{fname}", ftext) for fname, ftext in files])


def merge_texts(root: str, texts: list[tuple[str, str]]) -> tuple[PackSource | None, list[Problem]]:
    """Parse each file and merge them into one document, reporting conflicts."""
    problems: list[Problem] = []
    merged: dict[str, Any] = {}
    doc = Document(data=merged)
    header_from: dict[str, Location] = {}
    for shown, text in texts:
        problems += bidi_problems(text, shown)  # reported with whatever else the file holds
        try:
            data, fdoc = parse_yaml(text, shown)
        except LoadError as err:
            problems.append(err.problem)
            continue
        doc.files.update(fdoc.files)
        if not isinstance(data, dict):
            what = "empty" if data is None else f"a {type(data).__name__}"
            problems.append(
                Problem.at(
                    "KPI-L010",
                    f"the file is {what}, not a mapping of pack keys",
                    Location(shown, 1, 1),
                    hint="start the file with keys such as `pack:` or `metrics:`",
                )
            )
            continue
        _copy_locations(fdoc, doc)  # first occurrence wins, so duplicates keep their first place
        for key, value in data.items():
            key_loc = fdoc.keys.get((key,))
            if key in SECTIONS and value is None:
                continue  # an empty section (`checks:` with nothing under it)
            if key in SECTIONS and not isinstance(value, dict):
                problems.append(
                    Problem.at(
                        "KPI-S003",
                        f"'{key}' must be a mapping of id: definition, not "
                        f"{'a list' if isinstance(value, list) else 'a single value'}",
                        key_loc,
                        path=key,
                        hint=f"write each entry as `  some_id: {{...}}` under {key}:",
                    )
                )
                continue
            if key == "pack" and "pack" in merged and merged["pack"] != value:
                problems.append(
                    Problem.at(
                        "KPI-L011",
                        f"the files name different packs: '{merged['pack']}' "
                        f"(at {header_from.get('pack')}) and '{value}'",
                        key_loc,
                        path=key,
                        hint="every file of a pack folder belongs to the same pack",
                    )
                )
                continue
            if key in SECTIONS:
                section = merged.setdefault(key, {})
                for ident, entry in value.items():
                    path = (key, ident)
                    if ident in section:
                        first = doc.keys.get(path)
                        problems.append(
                            Problem.at(
                                "KPI-R002",
                                f"{_SINGULAR[key]} '{ident}' is defined twice (first at {first})",
                                fdoc.keys.get(path),
                                path=f"{key}.{ident}",
                                hint="an id may be defined in only one file of a pack",
                            )
                        )
                        continue
                    section[ident] = entry
                continue
            if key in merged:
                if key == "pack" and merged[key] == value:
                    continue
                problems.append(
                    Problem.at(
                        "KPI-L011",
                        f"'{key}' is set in two files of the "
                        f"pack (first at {header_from.get(key)})",
                        key_loc,
                        path=key,
                        hint="keep header keys such as version and title in one file (pack.yaml)",
                    )
                )
                continue
            merged[key] = value
            if key_loc is not None:
                header_from[key] = key_loc
    if problems and not merged:
        return None, problems
    return PackSource(root, [s for s, _ in texts], doc, content_digest(texts)), problems


def content_digest(texts: list[tuple[str, str]]) -> str:
    """The content hash of a pack's texts: the SHA-256 of their canonical stream
    (:func:`engine.load.stream.join_stream`: one file's own text, else every file headed by its
    name, in name order), which is what the registry stores for the same files."""
    return hashlib.sha256(join_stream(texts).encode("utf-8")).hexdigest()


def _copy_locations(src: Document, dst: Document) -> None:
    """Add a file's locations to the merged document, keeping locations already there."""
    for path, loc in src.keys.items():
        dst.keys.setdefault(path, loc)
    for path, loc in src.values.items():
        dst.values.setdefault(path, loc)
    for path, span in src.spans.items():
        dst.spans.setdefault(path, span)
