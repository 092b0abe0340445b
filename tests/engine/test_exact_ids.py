"""Ids and versions are matched exactly: a trailing newline or any whitespace is refused.

Python's ``re`` reads ``$`` as "the end, or before a final newline", so ``^…$`` with
``re.match`` or ``re.search`` (as jsonschema's own ``pattern`` does) lets ``"membership-core\\n"``
and ``"1.0.0\\n"`` through. The schema keeps the ECMA-262 meaning of ``$`` (the end of the text)
and the engine's own checks use ``fullmatch``.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from engine.compile.pack import check_text
from engine.load.library import PackLibrary, is_pack_id, parse_extends
from engine.load.located import LoadError, parse_yaml
from engine.load.sources import load_pack_text
from engine.validate.schema import check_schema, ecma_regex, pack_schema

PACK = """pack: {pack}
version: {version}
title: {{en: T, zh: T}}
locales: {locales}
extends: {extends}
inputs: {{a: {{label: A}}}}
metrics:
  m:
    label: M
    formula: a
    bands:
      - {{status: good, min: {percent}}}
"""
GOOD = {
    "pack": "demo",
    "version": "'1.0.0'",
    "locales": "[zh, en]",
    "extends": "[]",
    "percent": "'30%'",
}


def schema_problems(**fields: str) -> list[tuple[str, int, str, str]]:
    source, found = load_pack_text(PACK.format(**{**GOOD, **fields}), "demo.yaml")
    assert source is not None and not found
    return [(p.code, p.line, p.path, p.message) for p in check_schema(source.doc)]


def test_the_good_header_is_valid() -> None:
    assert schema_problems() == []


@pytest.mark.parametrize(
    ("field", "value", "line", "path", "shown"),
    [
        (
            "pack",
            '"membership-core\\n"',
            1,
            "pack",
            "'pack': 'membership-core\\n' does not have the required format",
        ),
        (
            "version",
            '"1.0.0\\n"',
            2,
            "version",
            "'version': '1.0.0\\n' does not have the required format",
        ),
        (
            "locales",
            '["zh\\n"]',
            4,
            "locales.0",
            "item 1: 'zh\\n' does not have the required format",
        ),
        (
            "extends",
            '["membership-core\\n"]',
            5,
            "extends.0",
            "extends item 1: 'membership-core\\n' does not have the required format",
        ),
        (
            "extends",
            '["membership-core@>=1.0\\n"]',
            5,
            "extends.0",
            "extends item 1: 'membership-core@>=1.0\\n' does not have the required format",
        ),
        (
            "percent",
            '"30%\\n"',
            12,
            "metrics.m.bands.0.min",
            "metric 'm', band 1, 'min': '30%\\n' does not have the required format",
        ),
    ],
    ids=["pack-id", "version", "locale", "extends", "extends-constraint", "percent"],
)
def test_a_trailing_newline_fails_the_schema_at_its_line(
    field: str, value: str, line: int, path: str, shown: str
) -> None:
    # the message spells the newline out as \n (the value is quoted YAML with a \n escape)
    assert schema_problems(**{field: value}) == [("KPI-S005", line, path, shown)]


def test_a_trailing_newline_in_a_locale_key_of_a_text_is_refused() -> None:
    text = PACK.format(**GOOD).replace("title: {en: T, zh: T}", 'title: {en: T, "zh\\n": T}')
    source, _ = load_pack_text(text, "demo.yaml")
    assert source is not None
    assert [(p.code, p.line, p.path) for p in check_schema(source.doc)] == [
        ("KPI-S005", 3, "title.zh\n")
    ]


@pytest.mark.parametrize(
    "space",
    [" ", "\t", "\n", "\r", "\u00a0", "\u3000", "\u2028"],
    ids=["space", "tab", "newline", "return", "nbsp", "ideographic", "line-separator"],
)
@pytest.mark.parametrize(
    ("field", "good"),
    [
        ("pack", "demo"),
        ("version", "1.0.0"),
        ("locales", "zh"),
        ("extends", "membership-core@>=1.0,<2"),
        ("percent", "30%"),
    ],
)
def test_no_shipped_pattern_lets_whitespace_through(space: str, field: str, good: str) -> None:
    for value in (good + space, space + good, good[:1] + space + good[1:]):
        quoted = '"' + value.encode("unicode_escape").decode("ascii").replace('"', '\\"') + '"'
        wrapped = f"[{quoted}]" if field in ("locales", "extends") else quoted
        assert [c for c, *_ in schema_problems(**{field: wrapped})] == ["KPI-S005"], repr(value)


def test_a_trailing_newline_in_a_pack_id_is_refused_by_check_text_too() -> None:
    _, problems = check_text(PACK.format(**{**GOOD, "pack": '"membership-core\\n"'}))
    assert [(p.code, p.line, p.column) for p in problems] == [("KPI-S005", 1, 1)]


def test_ecma_dollar_is_the_end_of_the_text() -> None:
    assert ecma_regex("^a$").search("a") is not None
    assert ecma_regex("^a$").search("a\n") is None
    assert ecma_regex("^(x|y)$").search("y\n") is None
    # a $ escaped or in a character class is a dollar sign
    assert ecma_regex(r"^\$$").search("$") is not None
    assert ecma_regex("^[$]$").search("$") is not None
    assert ecma_regex("^[$]$").search("$\n") is None
    # \d is 0-9 as in ECMA-262, not every script's digits
    assert ecma_regex(r"^\d$").search("٣") is None
    with pytest.raises(ValueError, match=r"\[\] and \[\^\]"):
        ecma_regex("^[]a]$")


def _patterns(node: object) -> list[str]:
    if isinstance(node, dict):
        assert "patternProperties" not in node  # it would be matched with re.search, not ecma_regex
        found = [node["pattern"]] if isinstance(node.get("pattern"), str) else []
        return found + [p for v in node.values() for p in _patterns(v)]
    if isinstance(node, list):
        return [p for v in node for p in _patterns(v)]
    return []


def test_every_schema_pattern_is_anchored_and_compiles_the_ecma_way() -> None:
    patterns = _patterns(pack_schema())
    assert len(patterns) >= 6
    for pattern in patterns:
        assert pattern.startswith("^") and pattern.endswith("$"), pattern
        assert " " not in pattern and "\\s" not in pattern and "[^" not in pattern, pattern
        assert ecma_regex(pattern).pattern.endswith(r"\Z"), pattern


@pytest.mark.parametrize(
    "item",
    [
        "membership-core\n",
        "membership-core ",
        " membership-core",
        "\tmembership-core",
        "membership-core@>=1.0\n",
        "membership-core@>=1.0, <2",
        "membership-core@\n>=1.0",
    ],
)
def test_parse_extends_refuses_whitespace(item: str) -> None:
    with pytest.raises(ValueError, match="is not a (pack id|version constraint)"):
        parse_extends(item)


def test_parse_extends_reads_exact_items() -> None:
    assert parse_extends("membership-core") == ("membership-core", None)
    ident, spec = parse_extends("membership-core@>=1.0,<2")
    assert ident == "membership-core" and spec is not None and "1.5" in spec and "2.0" not in spec


def test_pack_ids_are_matched_whole() -> None:
    assert is_pack_id("membership-core")
    assert not is_pack_id("membership-core\n")
    assert not is_pack_id("membership-core ")
    assert PackLibrary.default().candidates("membership-core\n") == []
    assert PackLibrary.default().candidates("membership-core") != []


def test_a_folder_whose_name_ends_in_a_newline_is_not_a_pack(tmp_path: Path) -> None:
    if os.name == "nt":  # pragma: no cover - no newline in Windows file names
        pytest.skip("file names cannot hold a newline")
    for name in ("shop-basics", "shop-extra\n"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "pack.yaml").write_text("pack: x\n", encoding="utf-8")
    assert PackLibrary([tmp_path]).pack_ids() == ["shop-basics"]


@pytest.mark.parametrize(
    "text",
    ['a: !!int "12\\n"', 'a: !!float "1.5\\n"', 'a: !!bool "true\\n"', 'a: !!null "null\\n"'],
)
def test_a_tagged_scalar_with_a_trailing_newline_is_not_typed(text: str) -> None:
    with pytest.raises(LoadError) as err:
        parse_yaml(text, "t.yaml")
    assert err.value.problem.code == "KPI-L005"
    assert "\\n' is not a valid !!" in err.value.problem.message


@pytest.mark.parametrize("section", ["inputs", "metrics", "checks", "rules", "remedies", "views"])
@pytest.mark.parametrize("ident", ['"ratio\\n"', '"ratio "', '" ratio"', '"ratio\\t"', '"ra tio"'])
def test_ids_with_whitespace_are_refused_at_their_line(section: str, ident: str) -> None:
    bodies = {
        "inputs": f"inputs: {{a: {{label: A}}, {ident}: {{label: R}}}}\n"
        "metrics: {m: {label: M, formula: a}}\n",
        "metrics": "inputs: {a: {label: A}}\n"
        f"metrics: {{m: {{label: M, formula: a}}, {ident}: {{label: R, formula: a}}}}\n",
        "checks": "inputs: {a: {label: A}}\nmetrics: {m: {label: M, formula: a}}\n"
        f"checks: {{{ident}: {{assert: a >= 0}}}}\n",
        "rules": "inputs: {a: {label: A}}\nmetrics: {m: {label: M, formula: a}}\n"
        f"rules: {{{ident}: {{label: R, when: a > 1}}}}\n",
        "remedies": "inputs: {a: {label: A}}\nmetrics: {m: {label: M, formula: a}}\n"
        f"remedies: {{{ident}: {{label: R}}}}\n",
        "views": "inputs: {a: {label: A}}\nmetrics: {m: {label: M, formula: a}}\n"
        f"views: {{{ident}: {{metrics: [m]}}}}\n",
    }
    _, problems = check_text("pack: demo\nversion: '1.0.0'\ntitle: T\n" + bodies[section])
    errors = [(p.code, p.line, p.message) for p in problems if p.severity == "error"]
    assert [(code, line) for code, line, _ in errors] == [
        ("KPI-R005", 4 if section == "inputs" else 5 if section == "metrics" else 6)
    ]
    assert "is not a valid id" in errors[0][2]
