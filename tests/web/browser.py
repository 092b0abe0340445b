"""A live ``kpi serve`` and a headless Chromium for the browser tests and ``make screenshots``.

The server is a real uvicorn process on a free loopback port (as in
tests/api/http/test_live_server.py). The browser is the system's Chromium (Debian's
``chromium``), driven by Playwright for Python through ``executable_path``: nothing is
downloaded. Every request the page makes is recorded; any that would leave the server is
aborted and reported, as are console errors and uncaught page errors.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from tests.api.http.test_live_server import _start

DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}


def chromium_path() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


def start_server(tmp: Path) -> tuple[subprocess.Popen[bytes], str]:
    """``kpi serve`` over a fresh data dir in ``tmp``; returns the process and its base URL."""
    return _start(tmp, tmp / "data")


def stop_server(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(15)
    except subprocess.TimeoutExpired:  # pragma: no cover
        proc.kill()
        proc.wait()
    if proc.stdout:
        proc.stdout.close()


def launch(playwright: Any) -> Any:
    return playwright.chromium.launch(executable_path=chromium_path(), headless=True,
                                      args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"])


@dataclass
class Watch:
    """What a page did that it should not: console errors, page errors, requests to elsewhere."""

    origin: str
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    external: list[str] = field(default_factory=list)

    def attach(self, context: Any) -> None:
        def route(r: Any) -> None:
            url = r.request.url
            self.requests.append(url)
            parts = urlsplit(url)
            if parts.scheme in ("data", "blob", "about") or f"{parts.scheme}://{parts.netloc}" == self.origin:
                r.continue_()
            else:
                self.external.append(url)
                r.abort()

        context.route("**/*", route)

    def page(self, page: Any) -> Any:
        page.on("console", lambda m: self.console_errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: self.page_errors.append(str(e)))
        return page

    def assert_clean(self) -> None:
        assert not self.console_errors, self.console_errors
        assert not self.page_errors, self.page_errors
        assert not self.external, self.external
        assert all(u.startswith(self.origin) or u.startswith(("data:", "blob:", "about:")) for u in self.requests)
