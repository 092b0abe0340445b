"""Stage 2: the merged pack document → schema problems, each at the line of its key.

The schema (``engine/validate/pack.schema.json``, published by ``kpi schema``) is the project's own:
no client-supplied schema is ever used, and it is validated with an empty
``referencing.Registry`` so that no ``$ref`` can reach a file or the network. Every error is
reported, not just the first.

``pattern`` keeps its JSON Schema (ECMA-262) meaning: jsonschema tests it with Python's
``re.search``, where ``$`` also matches before a final newline, so ``"1.0.0\n"`` would pass
``^…$``. :func:`ecma_regex` compiles each pattern with ``$`` as the end of the text.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Iterator
from functools import cache, lru_cache
from importlib import resources
from typing import Any

from jsonschema import Draft202012Validator, validators
from jsonschema.exceptions import ValidationError
from referencing import Registry

from engine.core.characters import (
    FULL_WIDTH_OPENING,
    HALF_WIDTH,
    describe_full_width,
    to_half_width,
    visible,
)
from engine.core.document import Document, Path_, dotted
from engine.core.problems import Location, Problem

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
_ITEM = {
    "bands": "band",
    "causes": "cause",
    "scenarios": "scenario",
    "remedies": "remedy",
    "metrics": "metric",
    "focus": "focus item",
    "rules": "rule",
    "extends": "extends item",
}
_TYPE_NAMES = {
    "string": "text",
    "number": "a number",
    "integer": "a whole number",
    "boolean": "true or false",
    "object": "a mapping (key: value)",
    "array": "a list",
    "null": "empty",
}


@cache
def pack_schema() -> dict[str, Any]:
    """The JSON Schema of packs (draft 2020-12)."""
    text = (
        resources.files("engine.validate").joinpath("pack.schema.json").read_text(encoding="utf-8")
    )
    schema: dict[str, Any] = json.loads(text)
    return schema


@lru_cache(maxsize=256)
def ecma_regex(pattern: str) -> re.Pattern[str]:
    """A schema ``pattern`` compiled as ECMA-262 reads it (no flags): an unescaped ``$`` outside a
    character class becomes ``\\Z`` (the end of the text, not "before a final newline"), and
    ``\\d``, ``\\w``, ``\\b`` are ASCII-only (``re.ASCII``; this also makes ``\\s`` ASCII-only,
    narrower than ECMA's, which no shipped pattern uses). ``[]`` and ``[^]``, which the two
    dialects read differently, are refused. Only the project's own schema is compiled here."""
    out: list[str] = []
    in_class = False
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\":
            out.append(pattern[i : i + 2])
            i += 2
            continue
        if in_class:
            in_class = ch != "]"
        elif ch == "[":
            in_class = True
            rest = pattern[i + 1 :]
            if rest.startswith("]") or rest.startswith("^]"):
                raise ValueError(
                    f"pattern {pattern!r}: [] and [^] mean different things in ECMA-262 and Python"
                )
        elif ch == "$":
            ch = r"\Z"
        out.append(ch)
        i += 1
    return re.compile("".join(out), re.ASCII)


def _ecma_pattern(
    validator: Any, pattern: str, instance: Any, schema: dict[str, Any]
) -> Iterator[ValidationError]:
    """The ``pattern`` keyword with :func:`ecma_regex` (jsonschema's own uses ``re.search``)."""
    if validator.is_type(instance, "string") and not ecma_regex(pattern).search(instance):
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


#: draft 2020-12 with the ECMA-262 ``pattern`` (the
#: schema has no ``patternProperties``: a test says so)
PackValidator = validators.extend(Draft202012Validator, {"pattern": _ecma_pattern})


@cache
def _validator() -> Any:
    # the schema is a file we ship: that it is a valid draft 2020-12 schema is checked by a test
    # (tests/engine/test_schema.py), not again on every start (~70 ms of each `kpi validate`)
    return PackValidator(pack_schema(), registry=Registry())


def describe(path: Path_) -> str:
    """Name the place of a path for a person: ``metric 'x', band 2, 'min'``."""
    parts: list[str] = []
    rest = path
    if len(path) >= 2 and path[0] in _SINGULAR:
        parts.append(f"{_SINGULAR[str(path[0])]} '{visible(str(path[1]))}'")
        rest = path[2:]
    prev: str | int | None = None
    for p in rest:
        if isinstance(p, int):
            if parts and parts[-1] == f"'{visible(str(prev))}'":
                parts.pop()  # "'bands', item 2" reads better as "band 2"
            parts.append(f"{_ITEM.get(str(prev), 'item')} {p + 1}")
        else:
            parts.append(f"'{visible(p)}'")
        prev = p
    return ", ".join(parts) or "the pack"


def _schema_at(path: tuple[Any, ...]) -> dict[str, Any]:
    """The (resolved) subschema that applies at a relative schema path."""
    node: Any = pack_schema()
    for key in path:
        node = node[key]
        while isinstance(node, dict) and "$ref" in node:
            node = _resolve(node["$ref"])
    return node if isinstance(node, dict) else {}


def _resolve(ref: str) -> Any:
    node: Any = pack_schema()
    for part in ref.lstrip("#/").split("/"):
        node = node[part]
    return node


def check_schema(doc: Document) -> list[Problem]:
    """Validate the merged document; one problem per violation, located at its key."""
    problems: list[Problem] = []
    for err in _validator().iter_errors(doc.data):
        problems.extend(_to_problems(err, doc))
    # the same key can fail several ways (type and pattern, say): keep one problem per place+code
    seen: set[tuple[str, str, int, str, str]] = set()
    unique = []
    for p in problems:
        k = (p.code, p.file or "", p.line, p.path, p.message if p.code == "KPI-S001" else "")
        if k not in seen:
            seen.add(k)
            unique.append(p)
    return unique


def _to_problems(err: ValidationError, doc: Document) -> list[Problem]:
    path: Path_ = tuple(err.absolute_path)
    where = describe(path)
    hint: str | None
    loc = doc.key_loc(path) or Location(next(iter(doc.files), "<pack>"), 1, 1)
    kind = err.validator
    inst = err.instance
    if kind == "required":
        missing = [k for k in err.validator_value if isinstance(inst, dict) and k not in inst]
        return [
            Problem.at(
                "KPI-S001",
                f"{where}: missing required key '{k}'",
                loc,
                path=dotted(path),
                hint=_required_hint(path, k),
            )
            for k in missing
        ]
    if kind == "additionalProperties" and isinstance(inst, dict):
        allowed = sorted(_schema_at(tuple(err.absolute_schema_path)[:-1]).get("properties", {}))
        out = []
        for key in inst:
            if key in allowed:
                continue
            close = difflib.get_close_matches(str(key), allowed, n=1, cutoff=0.6)
            hint = (
                f"did you mean '{close[0]}'?"
                if close
                else f"allowed keys here: {', '.join(allowed)}"
            )
            if any(ch in str(key) for ch in "()=+*/") or " " in str(key).strip():
                # `{formula: previous(x, default=0)}`: YAML split the value at its comma
                hint = (
                    "this looks like the rest of a formula: inside { … } a value containing "
                    "a comma must be quoted, e.g. formula: 'previous(x, default=0)'"
                )
            out.append(
                Problem.at(
                    "KPI-S002",
                    f"{where}: unknown key '{key}'",
                    doc.key_loc((*path, key)) or loc,
                    path=dotted((*path, key)),
                    hint=hint,
                )
            )
        return out
    if kind == "type":
        expected = (
            err.validator_value if isinstance(err.validator_value, list) else [err.validator_value]
        )
        want = " or ".join(_TYPE_NAMES.get(str(t), str(t)) for t in expected)
        got = _describe_value(inst)
        if isinstance(inst, str) and {"object", "array"} & set(expected):
            full_width = _full_width_syntax(inst, path, doc, where, want)
            if full_width is not None:
                return [full_width]
        hint = None
        if "string" in expected and isinstance(inst, int | float) and not isinstance(inst, bool):
            hint = f'put the value in quotes: "{inst}"'
        elif "string" in expected and isinstance(inst, bool):
            hint = "YAML reads yes/no/true/false as true or false: put the value in quotes"
        return [
            Problem.at(
                "KPI-S003",
                f"{where}: expected {want}, got {got}",
                loc,
                path=dotted(path),
                hint=hint,
            )
        ]
    if kind in ("enum", "const"):
        options = [
            str(o) for o in (err.validator_value if kind == "enum" else [err.validator_value])
        ]
        close = difflib.get_close_matches(str(inst), options, n=1, cutoff=0.5)
        hint = f"did you mean '{close[0]}'?" if close else None
        return [
            Problem.at(
                "KPI-S004",
                f"{where}: '{inst}' is not one of: {', '.join(options)}",
                loc,
                path=dotted(path),
                hint=hint,
            )
        ]
    if kind in ("pattern", "minLength", "maxLength", "format"):
        # a failing propertyNames check reports the key itself as the instance
        if (
            isinstance(inst, str)
            and isinstance(_get(doc.data, path), dict)
            and inst in _get(doc.data, path)
        ):
            key_path = (*path, inst)
            return [
                Problem.at(
                    "KPI-S005",
                    f"{describe(key_path)}: {_format_message(kind, err, inst)}",
                    doc.key_loc(key_path) or loc,
                    path=dotted(key_path),
                )
            ]
        desc = _schema_at(tuple(err.absolute_schema_path)[:-1]).get("description")
        return [
            Problem.at(
                "KPI-S005",
                f"{where}: {_format_message(kind, err, inst)}",
                loc,
                path=dotted(path),
                hint=desc,
            )
        ]
    return [Problem.at("KPI-S006", f"{where}: {err.message}", loc, path=dotted(path))]


#: `label：充值` read as one text: a key, a full-width colon, the rest
_COLON_KEY = re.compile(r"[^\s\uff1a:,]+(\uff1a)")


def _full_width_syntax(
    text: str, path: Path_, doc: Document, where: str, want: str
) -> Problem | None:
    """KPI-S007: a text where a list or mapping is expected that YAML read as text because its
    syntax was typed full-width (``［a, b］``, ``【a, b】``, ``label：充值`` under a key)."""
    stripped = text.lstrip()
    index: int | None = None
    if stripped[:1] and stripped[0] in FULL_WIDTH_OPENING:
        index = len(text) - len(stripped)
    else:
        found = _COLON_KEY.match(stripped)
        if found:
            index = len(text) - len(stripped) + found.start(1)
    if index is None:
        return None
    ch = text[index]
    loc = doc.locate_in_scalar(path, index) or doc.key_loc(path)
    if loc is None:
        return None
    half = HALF_WIDTH[ch]
    example = to_half_width(f"{text[:index]}{half}{' ' if half == ':' else ''}{text[index + 1 :]}")
    shown = visible(text if len(text) <= 40 else text[:37] + "…")
    return Problem.at(
        "KPI-S007",
        f"{where}: expected {want}, got the text '{shown}': {describe_full_width(ch)} at line "
        f"{loc.line}, column {loc.column} makes YAML read it as text",
        loc,
        path=dotted(path),
        hint=f"type YAML syntax in half-width (English) punctuation: `{visible(example[:60])}`",
    )


def _get(data: Any, path: Path_) -> Any:
    for p in path:
        try:
            data = data[p]
        except (KeyError, IndexError, TypeError):
            return None
    return data


def _format_message(kind: str, err: ValidationError, inst: str) -> str:
    shown = visible(inst if len(inst) <= 60 else inst[:57] + "…")
    if kind == "pattern":
        if re.fullmatch(r"-?[0-9]+(\.[0-9]+)?%?", inst):
            return (
                f"'{shown}' has more digits than KPI Forge reads "
                "(at most 20 before and 20 after the point)"
            )
        return f"'{shown}' does not have the required format"
    if kind == "minLength":
        return "must not be empty"
    if kind == "maxLength":
        return f"is longer than {err.validator_value} characters"
    return str(err.message)


def _describe_value(value: Any) -> str:
    if value is None:
        return "nothing (an empty value)"
    if isinstance(value, bool):
        return f"{str(value).lower()} (true/false)"
    if isinstance(value, int | float):
        return f"the number {value}"
    if isinstance(value, str):
        return f"the text '{value[:40]}'"
    if isinstance(value, list):
        return "a list"
    return "a mapping"


def _required_hint(path: Path_, key: str) -> str | None:
    if len(path) == 2 and path[0] in _SINGULAR:
        return (
            f"add '{key}:' under {_SINGULAR[str(path[0])]} '{path[1]}', "
            "or 'override: true' if it changes an inherited one"
        )
    if not path:
        return f"add a top-level '{key}:' key (for example in pack.yaml)"
    return None
