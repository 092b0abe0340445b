"""Full-width punctuation typed on a Chinese keyboard: refused where YAML syntax is expected,
each at its own line and column with the character's code point and Chinese name (KPI-L015,
KPI-L016, KPI-S007), and accepted as ordinary text inside values; indentation that matches
none of the keys around it (KPI-L017). The golden cases are in tests/packs/invalid/l015_* …"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.compile.pack import check_text
from engine.core.characters import FULL_WIDTH_SYNTAX, describe_full_width, to_half_width
from engine.load.located import LoadError, parse_yaml

HEADER = "pack: demo\nversion: '1.0.0'\ntitle: T\ninputs:\n  a: {}\n  b: {}\n"  # 6 lines


def errors(text: str) -> list[tuple[str, int, int]]:
    _, problems = check_text(text)
    return [(p.code, p.line, p.column) for p in problems if p.severity == "error"]


def first(text: str):
    _, problems = check_text(text)
    return problems[0]


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        # a key's separator: `label：x` then a key (libyaml complains about line 10)
        ("metrics:\n  m:\n    label：净值\n    formula: a\n", ("KPI-L015", 9, 10)),
        # the id's own separator, the block below it
        ("metrics:\n  净值：\n    formula: a\n", ("KPI-L015", 8, 5)),
        # a top-level key
        ("metrics：\n  m: {formula: a}\n", ("KPI-L015", 7, 8)),
        # inside { … }: a key with a full-width colon, and a full-width separator
        ("metrics:\n  m: {formula: a, label: {zh：净值, en: Net}}\n", ("KPI-L015", 8, 29)),
        ("metrics:\n  m: {formula: a, label: {zh: 净值，en: Net}}\n", ("KPI-L015", 8, 33)),
        ("metrics:\n  m: {formula: a, label: {zh: 净值、 en: Net}}\n", ("KPI-L015", 8, 33)),
        # a flow value that swallowed the next key: `zh: "净值，en：Net"`
        ("metrics:\n  m: {formula: a, label: {zh: 净值，en：Net}}\n", ("KPI-L015", 8, 33)),
        # brackets where a mapping starts
        (
            "metrics:\n  m:\n    formula: a\n    label: ｛zh: 净值, en: Net｝\n",
            ("KPI-L015", 10, 12),
        ),
        (
            "metrics:\n  m:\n    formula: a\n    label: 【zh: 净值, en: Net】\n",
            ("KPI-L015", 10, 12),
        ),
        # a list YAML reads as text, and a mapping YAML reads as text
        ("metrics:\n  m: {formula: a}\nviews:\n  v: {metrics: ［m］}\n", ("KPI-S007", 10, 16)),
        ("metrics:\n  m:\n    formula：a\n", ("KPI-S007", 9, 12)),
        # full-width spaces as indentation: in a key, and before a list
        ("metrics:\n  m:\n    formula: a\n\u3000\u3000label: x\n", ("KPI-L016", 10, 1)),
        (
            "metrics:\n  m:\n    formula: a\n    bands:\n\u3000\u3000\u3000- {status: good}\n",
            ("KPI-L016", 11, 1),
        ),
        # indentation that matches no key around it, deeper and shallower
        ("metrics:\n  m:\n    formula: a\n     label: x\n", ("KPI-L017", 10, 6)),
        ("metrics:\n  m:\n    formula: a\n   label: x\n", ("KPI-L017", 10, 4)),
        ("metrics:\n  m:\n    formula: a\n label: x\n", ("KPI-L017", 10, 2)),
    ],
    ids=[
        "colon-after-key",
        "colon-after-id",
        "colon-top-level",
        "colon-in-flow-key",
        "comma-in-flow",
        "ideographic-comma-in-flow",
        "comma-swallowed-by-value",
        "curly-brackets",
        "lenticular-brackets",
        "square-brackets-list-as-text",
        "colon-mapping-as-text",
        "ideographic-space-key",
        "ideographic-space-list",
        "indent-deeper",
        "indent-between",
        "indent-shallower",
    ],
)
def test_yaml_syntax_typed_full_width_is_located(body: str, expected: tuple[str, int, int]):
    assert errors(HEADER + body) == [expected]


def test_the_message_names_the_character_and_the_hint_shows_the_fixed_line():
    p = first(HEADER + "metrics:\n  m:\n    label：净值\n    formula: a\n")
    assert p.message == (
        "full-width colon '：' (U+FF1A, 全角冒号) at line 9, column 10: "
        "YAML needs the half-width ':' followed by a space"
    )
    assert p.hint is not None and p.hint.startswith("write `label: 净值`; switch the input method")
    p = first(HEADER + "metrics:\n  m: {formula: a, label: {zh: 净值，en: Net}}\n")
    assert p.hint is not None and "`m: {formula: a, label: {zh: 净值, en: Net}}`" in p.hint
    p = first(HEADER + "metrics:\n  m:\n    formula: a\n   label: x\n")
    assert p.message == (
        "inconsistent indentation at line 10: 'label' is indented 3 spaces, but 'formula' on "
        "line 9 is indented 4 spaces and no key around it is indented 3 spaces"
    )
    assert p.hint == (
        "keys of one mapping must start in the same column: indent this line like 'formula' "
        "(4 spaces), or like 'm' on line 8 (2 spaces) to end that block"
    )


def test_full_width_punctuation_inside_text_is_accepted():
    body = (
        "metrics:\n"
        "  m:\n"
        "    formula: (a + b) / 2\n"
        "    label: 【重要】净值（元）\n"
        "    description: 说明：这是一个例子，没有问题。\n"
        "    benchmark: {zh: 建议：高于 30%，逐月提升, en: Above 30%}\n"
        "rules:\n"
        "  r:\n"
        "    when: m < 0\n"
        "    label: '净值：为负'\n"
        "    causes:\n"
        "      - 原因：促销力度过大，利润承压\n"
        "      - {zh: 活动少，客流低, en: Few campaigns}\n"
        "    remedies: []\n"
    )
    compiled, problems = check_text(HEADER + body)
    assert [p.code for p in problems] == []
    assert compiled is not None
    m, r = compiled.pack.metrics["m"], compiled.pack.rules["r"]
    assert m.label.to_json() == {"zh": "【重要】净值（元）"}
    assert m.description.to_json() == {"zh": "说明：这是一个例子，没有问题。"}
    assert m.benchmark.to_json() == {"zh": "建议：高于 30%，逐月提升", "en": "Above 30%"}
    assert r.label.to_json() == {"zh": "净值：为负"}
    assert [c.to_json() for c in r.causes] == [
        {"zh": "原因：促销力度过大，利润承压"},
        {"zh": "活动少，客流低", "en": "Few campaigns"},
    ]


def test_other_yaml_errors_keep_their_own_code():
    assert errors(HEADER + "metrics:\n  m:\n\tformula: a\n")[0][0] == "KPI-L002"
    p = first(HEADER + "metrics:\n  m: {formula: a, label: a: b}\n")
    assert p.code == "KPI-L002"
    p = first(HEADER + "metrics:\n  m:\n    formula: a\n    label: a: b\n")
    assert (p.code, p.hint) == (
        "KPI-L002",
        "a value containing ': ' must be quoted, e.g. label: \"a: b\"",
    )


def test_the_character_table():
    assert describe_full_width("：") == "full-width colon '：' (U+FF1A, 全角冒号)"
    assert describe_full_width("\u3000") == "full-width space (U+3000, 全角空格)"
    assert all(len(names) == 3 and names[1] for names in FULL_WIDTH_SYNTAX.values())
    # a comma before a key is a separator; inside a phrase it stays
    assert to_half_width("{zh：力度过大，利润承压，en：Too much}") == (
        "{zh: 力度过大，利润承压, en: Too much}"
    )
    assert to_half_width("【a, b】") == "[a, b]"


_PIECES = [
    "  ",
    "   ",
    "\u3000",
    "\u00a0",
    "\n",
    "- ",
    ": ",
    ":",
    "：",
    "，",
    "、",
    ",",
    "{",
    "}",
    "[",
    "]",
    "｛",
    "｝",
    "［",
    "］",
    "【",
    "】",
    "（",
    "）",
    "label",
    "zh",
    "净值",
    "a",
    "#",
    "'",
    '"',
]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(_PIECES), max_size=40))
def test_any_mix_of_full_width_syntax_is_a_located_problem_or_data(pieces: list[str]):
    """Whatever is typed, the loader returns data or one problem inside the file: never an
    exception of its own (a diagnosis that crashed would turn a typo into a traceback)."""
    text = "".join(pieces)
    try:
        parse_yaml(text, "p.yaml")
    except LoadError as err:
        p = err.problem
        lines = text.split("\n")
        assert p.file == "p.yaml" and p.message
        assert 0 <= p.line <= len(lines) + 1
        if p.code in ("KPI-L015", "KPI-L016", "KPI-L017") and p.line:
            assert 1 <= p.column <= len(lines[p.line - 1]) + 1


def test_a_full_width_comma_in_a_list_of_ids_is_named_in_the_hint():
    body = (
        "metrics:\n  净充值: {formula: a}\n  消费占比: {formula: b}\n"
        "views:\n  v: {metrics: [净充值，消费占比]}\n"
    )
    p = first(HEADER + body)
    assert (p.code, p.line, p.column) == ("KPI-R009", 11, 17)
    assert p.hint == (
        "full-width comma '，' (U+FF0C, 全角逗号) does not separate list items in YAML: "
        "write [净充值, 消费占比] with the half-width ','"
    )


def test_a_key_of_a_list_item_indented_past_its_siblings():
    body = (
        "metrics:\n  m:\n    formula: a\n    bands:\n"
        "      - status: good\n        min: 0\n      - status: fair\n         max: 0\n"
    )
    p = first(HEADER + body)
    assert (p.code, p.line, p.column) == ("KPI-L017", 14, 10)
    assert "'max' is indented 9 spaces, but 'status' on line 13 is indented 8 spaces" in p.message
