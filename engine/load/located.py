"""Stage 1: YAML text → plain data with a source location for every node.

PyYAML's loaders are not used to build objects. We read libyaml's *event stream* (the C
parser is iterative, so deep nesting cannot exhaust the stack) and build dicts, lists and
scalars ourselves, which lets us:

- keep file, line and column for every key and value;
- refuse duplicate keys (PyYAML silently keeps the last one);
- type scalars by YAML 1.2 core rules, so `NO`, `1:30` and `012` are not turned into
  false, 90 and 10 (keys are always kept as their text);
- refuse every tag except the plain data ones (no `!!python/...`);
- bound the document: depth, number of nodes, and the expanded size of aliases, so that an
  alias bomb is refused after reading a few kilobytes, in bounded memory.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from engine.core.characters import bidi_controls, describe_char
from engine.core.document import Document, Path_, ScalarSpan, dotted
from engine.core.problems import Location, Problem
from engine.load.yaml_syntax import flow_value_problem, key_problem, syntax_error_problem

try:  # the C parser is fast and iterative; the pure-Python one is the fallback
    _Loader: type = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - depends on how PyYAML was built
    _Loader = yaml.SafeLoader

MAX_FILE_BYTES = 5 * 1024 * 1024
MAX_PACK_BYTES = 5 * 1024 * 1024
MAX_NODES = 200_000  # counted with aliases expanded
MAX_DEPTH = 32


_ALLOWED_TAGS = {
    "tag:yaml.org,2002:" + t for t in ("str", "int", "float", "bool", "null", "map", "seq")
}
_LINE_BREAK = re.compile("\r\n|\r|\n|\x85|\u2028|\u2029")
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffe\uffff]")


def source_lines(text: str) -> list[str]:
    """Lines as libyaml counts them (it also breaks at U+0085, U+2028 and U+2029)."""
    return _LINE_BREAK.split(text)


#: most bidirectional control characters reported one by one in a file
MAX_BIDI_REPORTED = 20


def bidi_problems(text: str, file: str) -> list[Problem]:
    """KPI-L012 at each bidirectional control character of a pack file (comments included): they
    make an editor show the text in another order than it is read."""
    if next(bidi_controls(text), None) is None:
        return []
    problems: list[Problem] = []
    total = 0
    rest: Location | None = None  # where the characters not reported one by one start
    for number, line in enumerate(source_lines(text), 1):
        for found in bidi_controls(line):
            total += 1
            if total > MAX_BIDI_REPORTED:
                rest = rest or Location(file, number, found.start() + 1)
                continue
            problems.append(
                Problem.at(
                    "KPI-L012",
                    f"{describe_char(found.group())} is a bidirectional "
                    "control character: it makes editors show the text "
                    "around it in another order than KPI Forge reads it",
                    Location(file, number, found.start() + 1),
                    hint="delete it (it is invisible: search for the code point); "
                    "right-to-left text such as Arabic or Hebrew is shown correctly without it",
                )
            )
    if rest is not None:
        problems.append(
            Problem.at(
                "KPI-L012",
                f"{total - MAX_BIDI_REPORTED} more bidirectional control "
                "characters in this file from here on",
                rest,
            )
        )
    return problems


_TAG_TYPES: dict[str, tuple[type, ...]] = {
    "int": (int,),
    "float": (int, float),
    "bool": (bool,),
    "null": (type(None),),
}
# matched with fullmatch: `re.match` with `$` would also accept the text followed by "\n", and a
# tagged scalar such as !!int "12\n" must stay an error
_NULL = re.compile(r"~|null|Null|NULL|")
_TRUE = re.compile(r"true|True|TRUE")
_FALSE = re.compile(r"false|False|FALSE")
_INT = re.compile(r"[-+]?[0-9]{1,30}")
_FLOAT = re.compile(r"[-+]?(?:\.[0-9]{1,30}|[0-9]{1,30}(?:\.[0-9]{0,30})?)(?:[eE][-+]?[0-9]{1,3})?")


class LoadError(Exception):
    """Internal: stops the event walk with one problem."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(problem.message)
        self.problem = problem


def _resolve_plain(value: str) -> Any:
    """Type a plain (unquoted) scalar by the YAML 1.2 core schema."""
    if _NULL.fullmatch(value):
        return None
    if _TRUE.fullmatch(value):
        return True
    if _FALSE.fullmatch(value):
        return False
    if _INT.fullmatch(value):
        return int(value)
    if _FLOAT.fullmatch(value) and any(c.isdigit() for c in value):
        number = float(value)
        mantissa = value.lower().split("e")[0]
        if not math.isfinite(number) or (number == 0 and any(c in "123456789" for c in mantissa)):
            return value  # 1e999 would be inf and 1e-400 would be 0: leave them to the schema
        return number
    return value


def _resolve_tagged(value: str, tag: str, loc: Location) -> Any:
    kind = tag.rsplit(":", 1)[-1]
    if kind == "str":
        return value
    resolved: Any = _resolve_plain(value)
    expected = _TAG_TYPES.get(kind)
    ok = (
        expected is not None
        and isinstance(resolved, expected)
        and isinstance(resolved, bool) == (kind == "bool")
    )
    if not ok:
        raise LoadError(Problem.at("KPI-L005", f"{value!r} is not a valid !!{kind}", loc))
    return float(resolved) if kind == "float" else resolved


@dataclass
class _Frame:
    container: dict[str, Any] | list[Any]
    path: Path_
    anchor: str | None
    nodes: int = 1
    key: str | None = None
    key_loc: Location | None = None
    keys_seen: dict[str, Location] = field(default_factory=dict)
    depth: int = 0  # depth of the deepest child, aliases expanded
    flow: bool = False  # written inline, as { … } or [ … ]


def _events(text: str) -> Iterator[Any]:
    return iter(yaml.parse(text, Loader=_Loader))


def parse_yaml(text: str, file: str, doc: Document | None = None) -> tuple[Any, Document]:
    """Parse one YAML document into plain data, recording locations into ``doc``.

    Raises :class:`LoadError` with a single problem on the first structural error (a YAML
    syntax error stops the parser anyway).
    """
    doc = doc if doc is not None else Document(data=None)
    doc.files[file] = source_lines(text)
    anchors: dict[str, tuple[Any, int, int]] = {}  # value, nodes and depth, aliases expanded
    stack: list[_Frame] = []
    total_nodes = 0
    documents = 0
    result: Any = None
    done = False

    def loc_of(mark: Any) -> Location:
        return Location(file, mark.line + 1, mark.column + 1)

    def line_at(loc: Location) -> str:
        lines = doc.files[file]
        return lines[loc.line - 1] if 0 < loc.line <= len(lines) else ""

    def check_flow_value(value: Any, span: ScalarSpan | None, start: Any) -> None:
        """A plain value inside { … } or [ … ] that swallowed the next key (`充值，en：…`)."""
        if span is not None and span.style == "" and isinstance(value, str):
            loc = loc_of(start)
            found = flow_value_problem(value, loc, line_at(loc))
            if found is not None:
                raise LoadError(found)

    def place(
        value: Any,
        nodes: int,
        start: Any,
        anchor: str | None,
        span: ScalarSpan | None,
        depth: int = 0,
    ) -> None:
        """Attach a finished node to its parent (or make it the result)."""
        nonlocal result, done
        if anchor:
            anchors[anchor] = (value, nodes, depth)
        if len(stack) + depth > MAX_DEPTH:
            raise LoadError(
                Problem.at(
                    "KPI-L006",
                    f"nesting deeper than {MAX_DEPTH} levels (aliases expanded)",
                    loc_of(start),
                )
            )
        if not stack:
            result, done = value, True
            return
        parent = stack[-1]
        parent.nodes += nodes
        parent.depth = max(parent.depth, depth)
        if isinstance(parent.container, list):
            if parent.flow:
                check_flow_value(value, span, start)
            path = (*parent.path, len(parent.container))
            doc.keys.setdefault(path, loc_of(start))
            doc.values.setdefault(path, loc_of(start))
            if span:
                doc.spans[path] = span
            parent.container.append(value)
            return
        if parent.key is None:  # this node is a key
            if not isinstance(value, str) or span is None:
                raise LoadError(
                    Problem.at("KPI-L002", "a mapping key must be plain text", loc_of(start))
                )
            key_loc = loc_of(start)
            if span.style == "":
                found = key_problem(value, key_loc, line_at(key_loc), parent.flow)
                if found is not None:
                    raise LoadError(found)
            if value == "<<" and span.style == "":
                raise LoadError(
                    Problem.at(
                        "KPI-L008",
                        "YAML merge keys (<<) are not supported",
                        key_loc,
                        hint="use `extends` with `override: true` to reuse definitions",
                    )
                )
            first = parent.keys_seen.get(value)
            if first is not None:
                raise LoadError(
                    Problem.at(
                        "KPI-L003",
                        f"duplicate key '{value}' (first defined at line {first.line})",
                        key_loc,
                        path=dotted((*parent.path, value)),
                        hint="each key may appear once in a mapping; remove or rename one of them",
                    )
                )
            parent.keys_seen[value] = key_loc
            parent.key, parent.key_loc = value, key_loc
            return
        if parent.flow:
            check_flow_value(value, span, start)
        path = (*parent.path, parent.key)
        assert parent.key_loc is not None
        doc.keys.setdefault(path, parent.key_loc)
        doc.values.setdefault(path, loc_of(start))
        if span:
            doc.spans[path] = span
        assert isinstance(parent.container, dict)
        parent.container[parent.key] = value
        parent.key = None

    def count(n: int, mark: Any) -> None:
        nonlocal total_nodes
        total_nodes += n
        if total_nodes > MAX_NODES:
            raise LoadError(
                Problem.at(
                    "KPI-L004",
                    f"the document expands to more than {MAX_NODES:,} nodes",
                    loc_of(mark),
                    hint="anchors and aliases (&a / *a) that reference each other can multiply "
                    "a small file into millions of nodes; write the values out or use `extends`",
                )
            )

    def check_tag(tag: str | None, mark: Any) -> None:
        if tag is not None and tag not in _ALLOWED_TAGS and tag != "!":
            raise LoadError(
                Problem.at(
                    "KPI-L005",
                    f"tag '{tag}' is not allowed",
                    loc_of(mark),
                    hint="packs hold plain data only: remove the tag",
                )
            )

    try:
        for ev in _events(text):
            if done and not isinstance(
                ev, yaml.DocumentEndEvent | yaml.StreamEndEvent | yaml.DocumentStartEvent
            ):
                continue
            if isinstance(ev, yaml.DocumentStartEvent):
                documents += 1
                if documents > 1:
                    raise LoadError(
                        Problem.at(
                            "KPI-L007",
                            "a pack file must hold one YAML document",
                            loc_of(ev.start_mark),
                            hint="remove the `---` separator or split the file; to post a "
                            "folder's files as one stream, head each with a line "
                            "`# file: NAME.yaml` before its `---`",
                        )
                    )
            elif isinstance(ev, yaml.ScalarEvent):
                check_tag(ev.tag, ev.start_mark)
                count(1, ev.start_mark)
                style = ev.style or ""
                if ev.tag and ev.tag != "!":
                    value: Any = _resolve_tagged(ev.value, ev.tag, loc_of(ev.start_mark))
                elif style == "" and ev.implicit[0]:
                    value = _resolve_plain(ev.value)
                else:
                    value = ev.value
                # key scalars keep their text: resolution only applies to values
                parent = stack[-1] if stack else None
                if parent is not None and isinstance(parent.container, dict) and parent.key is None:
                    value = ev.value
                assert ev.start_mark is not None and ev.end_mark is not None
                span = ScalarSpan(ev.start_mark.line, ev.start_mark.column, ev.end_mark.line, style)
                place(value, 1, ev.start_mark, ev.anchor, span)
            elif isinstance(ev, yaml.MappingStartEvent | yaml.SequenceStartEvent):
                check_tag(ev.tag, ev.start_mark)
                count(1, ev.start_mark)
                if len(stack) >= MAX_DEPTH:
                    raise LoadError(
                        Problem.at(
                            "KPI-L006",
                            f"nesting deeper than {MAX_DEPTH} levels",
                            loc_of(ev.start_mark),
                        )
                    )
                parent = stack[-1] if stack else None
                if parent is None:
                    path: Path_ = ()
                elif isinstance(parent.container, list):
                    path = (*parent.path, len(parent.container))
                elif parent.key is None:
                    raise LoadError(
                        Problem.at(
                            "KPI-L002", "a mapping key must be plain text", loc_of(ev.start_mark)
                        )
                    )
                else:
                    path = (*parent.path, parent.key)
                container: dict[str, Any] | list[Any] = (
                    {} if isinstance(ev, yaml.MappingStartEvent) else []
                )
                stack.append(_Frame(container, path, ev.anchor, flow=bool(ev.flow_style)))
                stack[-1].key_loc = loc_of(ev.start_mark)
                stack[-1].keys_seen = {}
                stack[-1].key = None
                # remember where the container itself starts, for "missing key" problems
                doc.values.setdefault(path, loc_of(ev.start_mark))
            elif isinstance(ev, yaml.MappingEndEvent | yaml.SequenceEndEvent):
                frame = stack.pop()
                start = doc.values.get(frame.path)
                place(
                    frame.container,
                    frame.nodes,
                    _MarkLike(start),
                    frame.anchor,
                    None,
                    frame.depth + 1,
                )
            elif isinstance(ev, yaml.AliasEvent):
                if ev.anchor not in anchors:
                    raise LoadError(
                        Problem.at("KPI-L002", f"unknown alias *{ev.anchor}", loc_of(ev.start_mark))
                    )
                value, nodes, depth = anchors[ev.anchor]
                count(nodes, ev.start_mark)
                place(value, nodes, ev.start_mark, None, None, depth)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        message = " ".join(x for x in (exc.problem, exc.context) if x) or "invalid YAML"
        loc = Location(file, mark.line + 1, mark.column + 1) if mark else Location(file)
        if (
            "maximum nesting depth" in message
        ):  # libyaml ≥ 0.2.6 (pyyaml 6.0.3+) stops deep nesting itself
            raise LoadError(
                Problem.at("KPI-L006", f"nesting deeper than {MAX_DEPTH} levels", loc)
            ) from None
        lines = doc.files[file]
        if mark is not None:
            context = exc.context_mark.line if exc.context_mark is not None else None
            found = syntax_error_problem(message, mark.line, context, lines, file)
            if found is not None:
                raise LoadError(found) from None
        line = lines[mark.line] if mark and mark.line < len(lines) else ""
        raise LoadError(
            Problem.at("KPI-L002", message, loc, hint=_yaml_hint(message, line))
        ) from None
    except yaml.YAMLError as exc:
        bad = _CONTROL.search(text)
        loc = Location(file)
        if bad:
            before = source_lines(text[: bad.start()])
            loc = Location(file, len(before), len(before[-1]) + 1)
        raise LoadError(
            Problem.at(
                "KPI-L002",
                "the file contains a control character YAML does not allow",
                loc,
                hint="remove invisible characters (copy-pasted text often has them)",
            )
            if bad
            else Problem.at("KPI-L002", str(exc).splitlines()[0], loc)
        ) from None
    return result, doc


@dataclass(frozen=True)
class _MarkLike:
    """Adapter so a recorded Location can stand in for a libyaml mark."""

    loc: Location | None

    @property
    def line(self) -> int:
        return (self.loc.line - 1) if self.loc else 0

    @property
    def column(self) -> int:
        return (self.loc.column - 1) if self.loc else 0


def _yaml_hint(message: str, line: str) -> str | None:
    if "tab" in message or "\t" in line:
        return "indent with spaces, not tabs"
    if "mapping values are not allowed" in message:
        return "a value containing ': ' must be quoted, e.g. label: \"a: b\""
    if "could not find expected ':'" in message or "expected <block end>" in message:
        return "check the indentation of this line against the line above"
    return None


def read_text(path: Path, display: str, limit: int = MAX_FILE_BYTES) -> str:
    """Read a pack file as UTF-8 with a size cap; raises LoadError with a located problem."""
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise LoadError(
            Problem.at("KPI-L009", f"cannot read {display}: {exc.strerror}", Location(display))
        ) from None
    if size > limit:
        raise LoadError(
            Problem.at(
                "KPI-L001",
                f"{display} is {size:,} bytes; the limit is {limit:,}",
                Location(display),
                hint="split the pack or remove unused definitions",
            )
        )
    data = path.read_bytes()
    return decode(data, display)


def decode(data: bytes, display: str) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise LoadError(
            Problem.at(
                "KPI-L009",
                "the file is not UTF-8 text",
                Location(display, line),
                hint="save the file as UTF-8",
            )
        ) from None
