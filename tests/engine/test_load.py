"""The YAML loader: locations, duplicate keys, YAML 1.2 typing, tags, bounds."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from engine.core.problems import Location
from engine.load.located import MAX_FILE_BYTES, LoadError, parse_yaml, read_text


def load(text: str):
    return parse_yaml(text, "p.yaml")


def code_of(text: str) -> tuple[str, int]:
    with pytest.raises(LoadError) as info:
        load(text)
    return info.value.problem.code, info.value.problem.line


def test_every_key_and_value_has_its_line_and_column():
    data, doc = load(
        "metrics:\n  期末金额:\n    formula: 期初金额 + 充值金额\n    bands:\n"
        "      - {status: good}\n"
    )
    assert data == {
        "metrics": {"期末金额": {"formula": "期初金额 + 充值金额", "bands": [{"status": "good"}]}}
    }
    assert doc.keys[("metrics", "期末金额")] == Location("p.yaml", 2, 3)
    assert doc.keys[("metrics", "期末金额", "formula")] == Location("p.yaml", 3, 5)
    assert doc.values[("metrics", "期末金额", "formula")] == Location("p.yaml", 3, 14)
    assert doc.keys[("metrics", "期末金额", "bands", 0)] == Location("p.yaml", 5, 9)
    assert doc.keys[("metrics", "期末金额", "bands", 0, "status")] == Location("p.yaml", 5, 10)
    # a path without its own entry falls back to the nearest ancestor
    assert doc.key_loc(("metrics", "期末金额", "nothing", "here")) == Location("p.yaml", 2, 3)


@pytest.mark.parametrize(
    ("text", "offset", "expected"),
    [
        ("f: a + bb\n", 4, (1, 8)),  # plain: 'bb' starts at column 8
        ("f: 'a + bb'\n", 4, (1, 9)),  # single-quoted: one more for the quote
        ("f: 'it''s + bb'\n", 7, (1, 13)),  # a doubled quote shifts what follows
        ('f: "a + bb"\n', 4, (1, 9)),
        ("f: |\n  a +\n  bb * 2\n", 4, (3, 3)),  # literal block: second line, after the indent
        ("x:\n  f: >\n    a +\n    bb\n", 4, (2, 6)),  # folded: falls back to the value's start
    ],
    ids=[
        "plain",
        "single-quoted",
        "doubled-quote",
        "double-quoted",
        "literal-block",
        "folded-fallback",
    ],
)
def test_offsets_inside_a_formula_map_to_file_columns(text, offset, expected):
    data, doc = load(text)
    path = ("f",) if "f" in data else ("x", "f")
    loc = doc.locate_in_scalar(path, offset)
    assert (loc.line, loc.column) == expected


def test_duplicate_key_is_an_error_at_the_second_occurrence():
    assert code_of("inputs:\n  a: {label: A}\n  b: {label: B}\n  a: {label: C}\n") == (
        "KPI-L003",
        4,
    )


def test_duplicate_key_inside_flow_mapping():
    assert code_of("a: {x: 1, x: 2}\n") == ("KPI-L003", 1)


@pytest.mark.parametrize(
    ("scalar", "value"),
    [
        ("NO", "NO"),
        ("yes", "yes"),
        ("off", "off"),
        ("1:30", "1:30"),
        ("012", 12),
        ("0x1F", "0x1F"),
        ("1.0", 1.0),
        ("30%", "30%"),
        ("~", None),
        ("null", None),
        ("", None),
        ("true", True),
        ("False", False),
        (".inf", ".inf"),
        (".nan", ".nan"),
        ("1e3", 1000.0),
        ("-5", -5),
        ("'012'", "012"),
        ("!!str 12", "12"),
        # longer than 30 digits: left as text, the schema says it is not a number
        ("1" * 31, "1" * 31),
    ],
)
def test_scalars_follow_yaml_1_2_core_typing(scalar, value):
    data, _ = load(f"v: {scalar}\n")
    assert data["v"] == value
    assert type(data["v"]) is type(value)


def test_keys_always_stay_text():
    data, _ = load("1: a\ntrue: b\n012: c\nnull: d\n")
    assert list(data) == ["1", "true", "012", "null"]


@pytest.mark.parametrize(
    "text",
    [
        "a: !!python/object/apply:os.system ['echo pwned']\n",
        "a: !!python/name:os.system\n",
        "a: !custom 1\n",
        "a: !!binary aGVsbG8=\n",
        "a: !!set {x}\n",
    ],
)
def test_tags_other_than_plain_data_are_refused(text, tmp_path):
    assert code_of(text)[0] == "KPI-L005"


def test_an_alias_bomb_is_refused_quickly():
    levels = ["a0: &a0 [x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 10):
        prev = f"*a{i - 1}"
        levels.append(f"a{i}: &a{i} [{', '.join([prev] * 9)}]")
    text = "\n".join(levels) + "\n"
    assert len(text) < 1000
    started = time.perf_counter()
    code, _ = code_of(text)
    assert code == "KPI-L004"
    # a hang guard: it stops after ~200k nodes, not 387 million
    assert time.perf_counter() - started < 30.0


def test_small_aliases_are_fine_and_count_once_each():
    data, _ = load("base: &b {time: last}\nx: *b\ny: *b\n")
    assert data["x"] == data["y"] == {"time": "last"}


def test_merge_keys_are_refused_with_a_hint():
    with pytest.raises(LoadError) as info:
        load("base: &b {label: A}\nm:\n  <<: *b\n")
    assert info.value.problem.code == "KPI-L008"
    assert "extends" in (info.value.problem.hint or "")


def test_more_than_one_document_is_refused():
    assert code_of("a: 1\n---\nb: 2\n") == ("KPI-L007", 2)


def test_nesting_is_bounded_without_recursion():
    assert code_of("a: " + "[" * 5000 + "]" * 5000 + "\n")[0] == "KPI-L006"


def test_syntax_errors_point_at_the_line():
    code, line = code_of("a:\n  b: [1, 2\nc: 3\n")
    assert code == "KPI-L002" and line == 3


def test_tabs_get_a_hint():
    with pytest.raises(LoadError) as info:
        load("a:\n\tb: 1\n")
    assert info.value.problem.code == "KPI-L002"
    assert info.value.problem.hint == "indent with spaces, not tabs"


def test_files_are_size_capped_and_must_be_utf8(tmp_path: Path):
    big = tmp_path / "big.yaml"
    big.write_bytes(b"#" * (MAX_FILE_BYTES + 1))
    with pytest.raises(LoadError) as info:
        read_text(big, "big.yaml")
    assert info.value.problem.code == "KPI-L001"
    latin = tmp_path / "latin.yaml"
    latin.write_bytes("a: 1\nb: caf\xe9\n".encode("latin-1"))
    with pytest.raises(LoadError) as info:
        read_text(latin, "latin.yaml")
    assert (info.value.problem.code, info.value.problem.line) == ("KPI-L009", 2)


def test_aliases_cannot_nest_past_the_depth_cap():
    depth = 30
    lines = ["a0: &a0 " + "[" * depth + "1" + "]" * depth]
    lines += [f"b{k}: &a{k} " + "[" * depth + f"*a{k - 1}" + "]" * depth for k in range(1, 40)]
    assert code_of("\n".join(lines) + "\n")[0] == "KPI-L006"


@pytest.mark.parametrize("scalar", ["1e999", "-2e308", "1e-400"])
def test_numbers_that_a_float_cannot_hold_stay_text(scalar):
    data, _ = load(f"v: {scalar}\n")
    assert data["v"] == scalar  # the schema then reports "expected a number"


def test_lines_are_counted_as_libyaml_counts_them():
    # U+2028 inside a quoted value is a line break for YAML: later lines must not shift
    data, doc = load('title: "L\u2028x"\nb: 1\n')
    assert doc.keys[("b",)].line == 3
    assert doc.files["p.yaml"][2] == "b: 1"


def test_control_characters_are_located():
    with pytest.raises(LoadError) as info:
        load("a: 1\nb: x\x0cy\n")
    assert (info.value.problem.code, info.value.problem.line, info.value.problem.column) == (
        "KPI-L002",
        2,
        5,
    )


def test_a_lone_surrogate_is_a_problem_not_a_crash():
    from engine.load.sources import load_pack_text

    source, problems = load_pack_text("pack: a\ud800")
    assert source is None and [p.code for p in problems] == ["KPI-L009"]
