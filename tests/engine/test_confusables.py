"""Text that reads differently from how it looks: confusable ids (KPI-R022), bidirectional
control characters (KPI-L012) and invisible characters in ids (KPI-R005), each located."""

from __future__ import annotations

import pytest

from engine.compile.pack import check_text
from engine.core.characters import confusable, describe_char, foreign_digit, mask_bidi, script_of
from engine.load.located import MAX_BIDI_REPORTED

HEADER = "pack: demo\nversion: '1.0.0'\ntitle: T\n"


def errors(text: str) -> list[tuple[str, int, int, str]]:
    _, problems = check_text(text)
    return [(p.code, p.line, p.column, p.message) for p in problems if p.severity == "error"]


def with_metric(ident: str) -> str:
    # the metric's key starts at line 6, column 3
    return HEADER + f"inputs: {{a: {{label: A}}}}\nmetrics:\n  {ident}: {{label: M, formula: a}}\n"


# -- confusable ids ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ident", "column", "why"),
    [
        (
            "r\u0430tio",
            4,
            "it mixes Latin and Cyrillic letters: 'а' (U+0430 CYRILLIC SMALL LETTER A) after 'r'",
        ),
        (
            "\u0440atio",
            4,
            "it mixes Cyrillic and Latin letters: 'a' (U+0061 LATIN SMALL LETTER A) after 'р'",
        ),
        ("rate_\u03bc", 8, "it mixes Latin and Greek letters: 'μ' (U+03BC GREEK SMALL LETTER MU)"),
        (
            "\uff52atio",
            3,
            "'ｒ' (U+FF52 FULLWIDTH LATIN SMALL LETTER R) is a full-width form; write 'r'",
        ),
        ("ratio\uff11", 8, "'１' (U+FF11 FULLWIDTH DIGIT ONE) is a full-width form; write '1'"),
        (
            "期末\uff21",
            5,
            "'Ａ' (U+FF21 FULLWIDTH LATIN CAPITAL LETTER A) is a full-width form; write 'A'",
        ),
        ("ratio\u0661", 8, "'١' (U+0661 ARABIC-INDIC DIGIT ONE) is not one of the digits 0-9"),
        ("\ufb01rst", 3, "'ﬁ' (U+FB01 LATIN SMALL LIGATURE FI) is a compatibility form of 'fi'"),
        ("a\u00b7b", 4, "'·' (U+00B7 MIDDLE DOT) is not a letter or a digit"),
        ("会员\u0441ount", 5, "it mixes Chinese (Han) and Cyrillic letters"),
        ("orders\u1160", 9, "(U+1160 HANGUL JUNGSEONG FILLER) is invisible: delete it"),
        ("avg\u034f_value", 6, "U+034F (COMBINING GRAPHEME JOINER) is invisible: delete it"),
        ("avg\u115f", 6, "(U+115F HANGUL CHOSEONG FILLER) is invisible: delete it"),
    ],
    ids=[
        "latin-cyrillic",
        "cyrillic-latin",
        "latin-greek",
        "full-width-letter",
        "full-width-digit",
        "han-full-width",
        "arabic-indic-digit",
        "ligature",
        "middle-dot",
        "han-cyrillic",
        "hangul-filler",
        "grapheme-joiner",
        "choseong-filler",
    ],
)
def test_confusable_ids_are_refused_at_the_character(ident: str, column: int, why: str) -> None:
    [(code, line, col, message)] = errors(with_metric(ident))
    assert (code, line, col) == ("KPI-R022", 6, column)
    assert message.startswith(f"'{ident}' could be mistaken for another id: ")
    assert why in message


def test_a_letter_and_a_separate_accent_is_refused() -> None:
    [(code, line, _, message)] = errors(with_metric('"cafe\\u0301"'))
    assert (code, line) == ("KPI-R022", 6)
    assert (
        "U+0301 (COMBINING ACUTE ACCENT) is an accent written apart from its letter; write 'café'"
        in message
    )


@pytest.mark.parametrize(
    "section", ["inputs", "params", "dimensions", "checks", "rules", "remedies", "views", "roles"]
)
def test_every_kind_of_id_is_checked(section: str) -> None:
    entry = {
        "inputs": "{label: X}",
        "params": "{value: 1}",
        "dimensions": "{label: X}",
        "checks": "{assert: a >= 0}",
        "rules": "{label: X, when: a > 1}",
        "remedies": "{label: X}",
        "views": "{metrics: [m]}",
        "roles": "{label: X}",
    }[section]
    text = HEADER + "inputs: {a: {label: A}}\nmetrics: {m: {label: M, formula: a}}\n"
    text += f"{section}: {{r\u0430tio: {entry}}}\n" if section != "inputs" else ""
    if section == "inputs":
        text = (
            HEADER + "inputs: {a: {label: A}, r\u0430tio: {label: X}}\n"
            "metrics: {m: {label: M, formula: a}}\n"
        )
    assert [(code, line) for code, line, _, _ in errors(text)] == [
        ("KPI-R022", 4 if section == "inputs" else 6)
    ]


@pytest.mark.parametrize(
    "ident",
    [
        "期末余额",
        "会员_count",
        "会员数2",
        "count_会员",
        "期末_余额_2026",
        "カード_数",
        "订单数ー",
        "한국_sales",
        "closing_amount",
        "_private",
        "Ärger",
        "щука",
        "λόγος",
        "x〇",
    ],
)
def test_single_script_ids_and_chinese_with_ascii_are_fine(ident: str) -> None:
    assert confusable(ident) is None
    assert errors(with_metric(ident)) == []


def test_a_pack_written_in_chinese_with_ascii_ids_mixed_in_compiles() -> None:
    text = HEADER + (
        "locales: [zh]\ninputs:\n  期初余额: {label: 期初余额}\n  充值金额: {label: 充值金额}\n"
        "  消费金额_2: {label: 消费金额}\nmetrics:\n"
        "  期末金额: {label: 期末金额, formula: 期初余额 + 充值金额 - 消费金额_2}\n"
        "  会员_count: {label: 会员数, formula: 期末金额 / 2}\n"
    )
    assert errors(text) == []


def test_scripts_come_from_unicode_names() -> None:
    assert [script_of(ch) for ch in "aа期か카_1ー\u0301"] == [
        "LATIN",
        "CYRILLIC",
        "HAN",
        "HIRAGANA",
        "HANGUL",
        None,
        None,
        "KATAKANA",
        None,
    ]


# -- invisible characters in ids -----------------------------------------------------------


@pytest.mark.parametrize(
    ("escaped", "name", "position"),
    [
        ("ra\\u200btio", "U+200B (ZERO WIDTH SPACE)", 3),
        ("ra\\u200ctio", "U+200C (ZERO WIDTH NON-JOINER)", 3),
        ("ra\\u200dtio", "U+200D (ZERO WIDTH JOINER)", 3),
        ("ratio\\ufeff", "U+FEFF (ZERO WIDTH NO-BREAK SPACE)", 6),
        ("\\u2060ratio", "U+2060 (WORD JOINER)", 1),
    ],
    ids=["zwsp", "zwnj", "zwj", "bom-inside", "word-joiner"],
)
def test_invisible_characters_in_ids_are_named(escaped: str, name: str, position: int) -> None:
    [(code, line, _, message)] = errors(with_metric(f'"{escaped}"'))
    assert (code, line) == ("KPI-R005", 6)
    assert f"holds {name} at character {position}, an invisible character" in message
    assert f"'{escaped}' is not a valid id" in message  # spelt out, not invisible in the message


# -- bidirectional controls ----------------------------------------------------------------

BIDI = [
    "\u202a",
    "\u202b",
    "\u202c",
    "\u202d",
    "\u202e",
    "\u2066",
    "\u2067",
    "\u2068",
    "\u2069",
    "\u200e",
    "\u200f",
    "\u061c",
]


@pytest.mark.parametrize("ch", BIDI, ids=[f"U+{ord(c):04X}" for c in BIDI])
@pytest.mark.parametrize(
    ("template", "line"),
    [
        (
            "inputs: {{a: {{label: A}}}}  # a comment {ch}\n"
            "metrics: {{m: {{label: M, formula: a}}}}\n",
            4,
        ),
        ("inputs: {{a: {{label: 'A{ch}'}}}}\nmetrics: {{m: {{label: M, formula: a}}}}\n", 4),
        (
            "inputs: {{a: {{label: A}}}}\n"
            "metrics: {{m: {{label: M, formula: a, description: x{ch}y}}}}\n",
            5,
        ),
        (
            "inputs: {{a: {{label: A}}}}\nmetrics: {{m: {{label: M, formula: a}}}}\n"
            "remedies: {{r: {{label: {ch}R}}}}\n",
            6,
        ),
        (
            "inputs: {{a: {{label: A}}}}\n"
            "metrics: {{m: {{label: M, formula: a}}, 'n{ch}': {{label: N, formula: a}}}}\n",
            5,
        ),
    ],
    ids=["comment", "label", "description", "remedy", "id"],
)
def test_bidi_controls_are_refused_anywhere_at_their_place(
    ch: str, template: str, line: int
) -> None:
    text = HEADER + template.format(ch=ch)
    column = text.splitlines()[line - 1].index(ch) + 1
    found = errors(text)
    assert [(code, ln, col) for code, ln, col, _ in found] == [("KPI-L012", line, column)]
    assert found[0][3] == (
        f"{describe_char(ch)} is a bidirectional control character: it makes editors show "
        "the text around it in another order than KPI Forge reads it"
    )
    assert found[0][3].startswith(f"U+{ord(ch):04X} (")


def test_every_bidi_control_is_reported_up_to_a_cap() -> None:
    text = HEADER + "inputs: {a: {label: A}}\nmetrics: {m: {label: M, formula: a}}\n"
    text += "".join(f"# {ch}\n" for ch in BIDI)
    found = errors(text)
    assert [(code, line, col) for code, line, col, _ in found] == [
        ("KPI-L012", 6 + i, 3) for i in range(len(BIDI))
    ]
    many = text + "# \u202e\n" * (MAX_BIDI_REPORTED + 5)
    found = errors(many)
    assert len(found) == MAX_BIDI_REPORTED + 1
    assert found[-1][:3] == ("KPI-L012", 6 + MAX_BIDI_REPORTED, 3)  # at the first one not listed
    assert (
        found[-1][3]
        == f"{len(BIDI) + 5} more bidirectional control characters in this file from here on"
    )


def test_right_to_left_text_itself_is_fine() -> None:
    text = HEADER + "locales: [ar, en]\ninputs: {a: {label: {ar: الإيرادات, en: Revenue}}}\n"
    text += "metrics: {m: {label: {ar: عبرית, en: M}, formula: a}}\n"
    assert errors(text) == []


def test_helpers_name_and_mask_characters() -> None:
    assert describe_char("\u0430") == "'а' (U+0430 CYRILLIC SMALL LETTER A)"
    assert describe_char("\u202e") == "U+202E (RIGHT-TO-LEFT OVERRIDE)"
    assert describe_char("\n") == "U+000A (LINE FEED)"
    assert mask_bidi("a\u202eb\u2066c") == "a\ufffdb\ufffdc"
    assert (
        foreign_digit("12") is None and foreign_digit("1٢") == "٢" and foreign_digit("é1") is None
    )
