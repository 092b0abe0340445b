"""Every catalogued code has its title and hint in Chinese beside the English ones
(docs/errors.md): a code added without them, or a text copied over untranslated, fails here."""

from __future__ import annotations

import pytest

from engine.core.problem_codes import CODES, Code, is_zh
from engine.core.runtime_codes import RUNTIME_CODES, RuntimeCode, code_entry

ENTRIES = [*CODES.values(), *RUNTIME_CODES.values()]


def _pairs(entry: Code | RuntimeCode) -> list[tuple[str, str, str]]:
    """(what, English, Chinese) of an entry's title and general hint."""
    if isinstance(entry, Code):
        hint = ("explanation", entry.explanation, entry.explanation_zh)
    else:
        hint = ("hint", entry.hint, entry.hint_zh)
    return [("title", entry.title, entry.title_zh), hint]


def _symbols_only(text: str) -> bool:
    return not any(ch.isalpha() for ch in text)


@pytest.mark.parametrize("entry", ENTRIES, ids=[e.code for e in ENTRIES])
def test_every_code_has_a_chinese_title_and_hint(entry: Code | RuntimeCode):
    for what, en, zh in _pairs(entry):
        assert zh.strip(), f"{what} in Chinese is missing"
        if _symbols_only(en):
            continue  # a pure symbol may stay as it is
        assert zh != en, f"{what} in Chinese is the English text"
        assert any("\u4e00" <= ch <= "\u9fff" for ch in zh), f"{what} has no Chinese: {zh!r}"


def test_the_catalogues_hold_every_code_once_with_its_texts():
    assert len(ENTRIES) == len(CODES) + len(RUNTIME_CODES) == 137
    assert not set(CODES) & set(RUNTIME_CODES)
    e017 = code_entry("KPI-E017")
    assert e017 is not None and e017.title_in("zh") == "不是数字"
    assert e017.title_in("en") == "Not a number" and e017.title_in(None) == "Not a number"
    r001 = code_entry("KPI-R001")
    assert r001 is not None and r001.title_in("zh-CN") == "未知引用"
    assert r001.hint_in("zh") == "公式引用了未定义的输入、指标或参数（提示会给出最接近的 id）。"
    assert r001.hint_in("en") == r001.explanation
    assert code_entry("KPI-X999") is None and code_entry(None) is None


@pytest.mark.parametrize(
    ("locale", "zh"),
    [
        ("zh", True),
        ("zh-CN", True),
        ("zh_Hans", True),
        (" ZH-tw ", True),
        ("en", False),
        ("zhx", False),
        ("", False),
        (None, False),
    ],
)
def test_which_locales_are_chinese(locale: str | None, zh: bool):
    assert is_zh(locale) is zh
