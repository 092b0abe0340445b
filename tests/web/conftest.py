"""Fixtures of the web tests: a live server and one headless Chromium for the whole module."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.web.browser import DESKTOP, Watch, chromium_path, launch, start_server, stop_server


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    proc, url = start_server(tmp_path_factory.mktemp("web"))
    try:
        yield url
    finally:
        stop_server(proc)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if chromium_path() is None:
        pytest.skip("Chromium is not installed (make test installs Debian's chromium)")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as pw:
        b = launch(pw)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture
def visit(browser: Any, live: str) -> Iterator[Any]:
    """``visit(viewport=DESKTOP)`` → (page, watch); every page is checked for errors and leaks at the end."""
    contexts: list[tuple[Any, Watch]] = []

    def make(viewport: dict[str, int] = DESKTOP, locale: str = "en-US") -> tuple[Any, Watch]:
        context = browser.new_context(viewport=viewport, locale=locale, base_url=live)
        context.set_default_timeout(15_000)
        watch = Watch(live)
        watch.attach(context)
        contexts.append((context, watch))
        return watch.page(context.new_page()), watch

    yield make
    for context, watch in contexts:
        context.close()
        watch.assert_clean()
