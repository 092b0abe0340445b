"""Fixtures of the web tests: a live server and one headless Chromium for the whole module.

Without Chromium or Playwright the browser tests are skipped, unless ``CI`` or
``KPI_REQUIRE_BROWSER`` is set (``.ci/run`` sets it): then they fail, so that a CI machine
that lost its browser cannot pass them silently.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from api.server.registry import Registry
from tests.web.browser import (
    DESKTOP,
    LONG_WORDS,
    Watch,
    chromium_path,
    launch,
    start_server,
    stop_server,
)


def browser_required() -> bool:
    return any(
        os.environ.get(name, "").strip() not in ("", "0", "false")
        for name in ("CI", "KPI_REQUIRE_BROWSER")
    )


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A live ``kpi serve`` with the built-in packs and one public pack of very long words."""
    tmp = tmp_path_factory.mktemp("web")
    token = Registry(tmp / "data").create_key("alice")
    proc, url = start_server(tmp)
    try:
        r = httpx.post(
            f"{url}/v1/packs",
            content=LONG_WORDS.encode(),
            timeout=30,
            headers={"Content-Type": "application/yaml", "Authorization": f"Bearer {token}"},
        )
        assert r.status_code == 201, r.text
        yield url
    finally:
        stop_server(proc)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    missing = (
        "Chromium is not installed (make test installs Debian's chromium)"
        if chromium_path() is None
        else "Playwright for Python is not installed"
        if importlib.util.find_spec("playwright") is None
        else None
    )
    if missing is not None:
        if browser_required():
            pytest.fail(
                f"{missing}; CI or KPI_REQUIRE_BROWSER is set, so the browser tests must run"
            )
        pytest.skip(missing)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = launch(pw)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture
def visit(browser: Any, live: str) -> Iterator[Any]:
    """``visit(viewport=DESKTOP)`` → (page, watch); every
    page is checked for errors and leaks at the end."""
    contexts: list[tuple[Any, Watch]] = []

    def make(
        viewport: dict[str, int] = DESKTOP, locale: str = "en-US", js: bool = True
    ) -> tuple[Any, Watch]:
        context = browser.new_context(
            viewport=viewport, locale=locale, base_url=live, java_script_enabled=js
        )
        context.set_default_timeout(15_000)
        watch = Watch(live)
        watch.attach(context)
        contexts.append((context, watch))
        return watch.page(context.new_page()), watch

    yield make
    for context, watch in contexts:
        context.close()
        watch.assert_clean()
