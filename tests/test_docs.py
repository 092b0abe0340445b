"""The reference pages are generated from the code and must not go stale."""

from __future__ import annotations

from pathlib import Path

import pytest

from api.docgen import DOCS, PAGES, pack_pages
from engine.core.problems import CODES
from engine.core.runtime_codes import RUNTIME_CODES

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("name", sorted(PAGES))
def test_generated_pages_are_up_to_date(name: str):
    assert (DOCS / name).read_text(encoding="utf-8") == PAGES[name]() + "\n", "run `make docs`"


def test_every_code_is_documented():
    text = (DOCS / "errors.md").read_text(encoding="utf-8")
    for code in [*CODES, *RUNTIME_CODES]:
        assert f"`{code}`" in text


@pytest.mark.parametrize(
    "page", ["pack-language.md", "glossary.md", "design.md", "errors.md", "cli.md"]
)
def test_the_readme_links_every_doc_page(page: str):
    assert f"docs/{page}" in (ROOT / "README.md").read_text(encoding="utf-8")
    assert (DOCS / page).is_file()


@pytest.mark.parametrize(
    "term",
    ["indicator", "input", "metric", "band", "rule", "remedy", "check", "pack", "grain", "rollup"],
)
def test_the_glossary_defines_the_core_terms(term: str):
    text = (DOCS / "glossary.md").read_text(encoding="utf-8").lower()
    assert f"## {term}" in text or f"**{term}**" in text


def test_pack_catalogs_are_up_to_date():
    pages = pack_pages()
    assert {
        "packs/bakery-stored-value.zh.md",
        "packs/bakery-stored-value.en.md",
        "packs/membership-core.zh.md",
        "packs/membership-core.en.md",
    } <= set(pages)
    for name, text in pages.items():
        path = DOCS / name
        assert path.is_file() and path.read_text(encoding="utf-8") == text, (
            f"{name} is stale: run `make docs`"
        )
