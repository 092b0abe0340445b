"""Schema problems: all reported, each at the line of its key, with useful hints."""

from __future__ import annotations

import json

import pytest
from jsonschema import Draft202012Validator

from engine.load.sources import load_pack_text
from engine.validate.schema import check_schema, describe, pack_schema

HEADER = "pack: demo\nversion: '1.0.0'\ntitle: {zh: 演示, en: Demo}\n"


def problems(body: str, header: str = HEADER):
    source, found = load_pack_text(header + body, "demo.yaml")
    assert source is not None and not found
    return [(p.code, p.line, p.path) for p in check_schema(source.doc)], check_schema(source.doc)


def test_the_schema_is_a_valid_draft_2020_12_schema():
    Draft202012Validator.check_schema(pack_schema())


def test_a_minimal_pack_is_valid():
    found, _ = problems("inputs: {a: {label: A}}\nmetrics: {m: {label: M, formula: a * 2}}\n")
    assert found == []


def test_every_error_is_reported_not_just_the_first():
    body = (
        "inputs:\n"
        "  a: {label: A, rollup: {time: lasts}}\n"  # line 5: enum
        "metrics:\n"
        "  m:\n"  # line 7: missing formula
        "    label: M\n"
        "    formla: a\n"  # line 9: unknown key
        "    bands:\n"
        "      - {status: good, min: abc}\n"  # line 11: bad format
    )
    found, raw = problems(body)
    assert sorted(found) == sorted(
        [
            ("KPI-S004", 5, "inputs.a.rollup.time"),
            ("KPI-S001", 7, "metrics.m"),
            ("KPI-S002", 9, "metrics.m.formla"),
            ("KPI-S005", 11, "metrics.m.bands.0.min"),
        ]
    )
    hints = {p.code: p.hint for p in raw}
    assert hints["KPI-S002"] == "did you mean 'formula'?"
    assert hints["KPI-S004"] == "did you mean 'last'?"


def test_a_number_where_text_is_expected_suggests_quotes():
    source, _ = load_pack_text(
        "pack: demo\nversion: 1.0\ntitle: T\ninputs: {}\nmetrics: {}\n", "d.yaml"
    )
    [p] = check_schema(source.doc)
    assert (p.code, p.line, p.hint) == ("KPI-S003", 2, 'put the value in quotes: "1.0"')


def test_missing_top_level_keys_point_at_the_file_start():
    source, _ = load_pack_text("pack: demo\nversion: '1.0.0'\ntitle: T\n", "d.yaml")
    found = sorted((p.code, p.message) for p in check_schema(source.doc))
    assert found == [
        ("KPI-S001", "the pack: missing required key 'inputs'"),
        ("KPI-S001", "the pack: missing required key 'metrics'"),
    ]


def test_an_override_may_give_only_some_fields():
    found, _ = problems("inputs: {}\nmetrics: {churn_rate: {override: true, bands: []}}\n")
    assert found == []


def test_overlong_ids_are_reported_at_the_id():
    long_id = "x" * 65
    found, _ = problems(f"inputs:\n  {long_id}: {{label: A}}\nmetrics: {{}}\n")
    assert found == [("KPI-S005", 5, f"inputs.{long_id}")]


@pytest.mark.parametrize(
    ("path", "text"),
    [
        (("metrics", "m", "bands", 1, "min"), "metric 'm', band 2, 'min'"),
        (("inputs", "a", "rollup", "time"), "input 'a', 'rollup', 'time'"),
        (("roles", "r", "scenarios", 0), "role 'r', scenario 1"),
        ((), "the pack"),
    ],
)
def test_places_are_described_for_people(path, text):
    assert describe(path) == text


def test_the_schema_has_no_remote_references():
    text = json.dumps(pack_schema())
    assert '"$ref": "http' not in text and "file:" not in text


def test_a_formula_split_at_its_comma_gets_a_quoting_hint():
    found, raw = problems(
        "inputs: {x: {label: X}}\nmetrics:\n  m: {label: M, formula: rolling_sum(x, 3)}\n"
    )
    assert found == [("KPI-S002", 6, "metrics.m.3)")]
    assert "must be quoted" in raw[0].hint


@pytest.mark.parametrize(
    ("version", "ok"),
    [
        ("1.0.0", True),
        ("1.1.0-rc.1", True),
        ("2.0.0-beta", True),
        ("01.0.0", False),
        ("1.0.00", False),
        ("1.0.0-1", False),
        ("1.0", False),
    ],
)
def test_versions_have_one_spelling_and_semver_ordering(version: str, ok: bool):
    # leading zeros would let '1.0.0' and '01.0.0' be two versions of one number; '1.0.0-1' is a
    # pre-release for semver but a post-release for PEP 440: only alpha / beta / rc are allowed
    found, _ = problems(
        "inputs: {}\nmetrics: {}\n", header=f"pack: demo\nversion: '{version}'\ntitle: T\n"
    )
    assert (found == []) is ok
