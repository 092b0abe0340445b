"""A located document: YAML data plus the source location of every node, so that every later
stage can point at a key, a value or a character inside a formula (file, line, column).

The loader (:mod:`engine.load.located`) builds it; the pack model, the schema and the rules
read it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from engine.core.problems import Location

#: a path in a document: keys and list indices, e.g. ("metrics", "active_rate", "bands", 0)
Path_ = tuple[str | int, ...]


@dataclass(frozen=True)
class ScalarSpan:
    """Where a scalar value sits in its file, to map an offset inside it to a column."""

    line: int  # 0-based
    column: int  # 0-based
    end_line: int
    style: str  # '' plain, "'" or '"' quoted, '|' literal, '>' folded


@dataclass
class Document:
    """One loaded YAML file (or several merged): data plus where every node came from."""

    data: Any
    keys: dict[Path_, Location] = field(default_factory=dict)  # path → the key (or list item)
    values: dict[Path_, Location] = field(default_factory=dict)  # path → the start of the value
    spans: dict[Path_, ScalarSpan] = field(default_factory=dict)  # path → scalar span
    files: dict[str, list[str]] = field(default_factory=dict)  # file → source lines

    def key_loc(self, path: Path_) -> Location | None:
        """Location of the key that introduces ``path``, or of the nearest ancestor that has one."""
        for i in range(len(path), -1, -1):
            loc = self.keys.get(path[:i])
            if loc is not None:
                return loc
        return None

    def value_loc(self, path: Path_) -> Location | None:
        return self.values.get(path) or self.key_loc(path)

    def locate_in_key(self, path: Path_, offset: int) -> Location | None:
        """Location of character ``offset`` of the key that ends ``path`` (an id), when the key is
        written out on its line as is (plain, or quoted without escapes); else the key's start."""
        loc = self.keys.get(path)
        if loc is None or not path or not isinstance(path[-1], str) or not loc.line:
            return self.key_loc(path)
        key = path[-1]
        lines = self.files.get(loc.file, [])
        line = lines[loc.line - 1] if loc.line <= len(lines) else ""
        start = loc.column - 1
        if line[start : start + len(key)] == key:
            return Location(loc.file, loc.line, loc.column + offset)
        if line[start : start + 1] in ("'", '"') and line[start + 1 : start + 1 + len(key)] == key:
            return Location(loc.file, loc.line, loc.column + 1 + offset)
        return loc

    def locate_in_scalar(self, path: Path_, offset: int) -> Location | None:
        """Location of character ``offset`` inside the scalar at ``path`` (a formula, say)."""
        start = self.value_loc(path)
        span = self.spans.get(path)
        if start is None or span is None:
            return start
        lines = self.files.get(start.file, [])
        if span.line == span.end_line or span.style in ("", "'", '"'):
            if span.line != span.end_line:
                return start  # a multi-line flow scalar is folded: point at its start
            raw = lines[span.line][span.column :] if span.line < len(lines) else ""
            if span.style == "'":  # '' stands for one quote: walk the raw text to the offset
                i, seen = 1, 0
                while seen < offset and i < len(raw):
                    i += 2 if raw[i : i + 2] == "''" else 1
                    seen += 1
                return Location(start.file, span.line + 1, span.column + 1 + i)
            shift = 0
            if span.style == '"':
                shift = 1
                if "\\" in raw:
                    return start  # escapes shift columns unpredictably
            return Location(start.file, span.line + 1, span.column + 1 + shift + offset)
        if span.style == "|":
            # literal block: each value line is a source line after the header, minus indentation
            body = lines[span.line + 1 : span.end_line + 1]
            indent = next((len(x) - len(x.lstrip(" ")) for x in body if x.strip()), 0)
            remaining = offset
            for i, src in enumerate(body):
                width = max(len(src) - indent, 0)
                if remaining <= width:
                    return Location(start.file, span.line + 2 + i, indent + 1 + remaining)
                remaining -= width + 1
        return start


def dotted(path: Path_) -> str:
    """A document path as text, e.g. ``metrics.active_rate.bands.0``."""
    return ".".join(str(p) for p in path)
