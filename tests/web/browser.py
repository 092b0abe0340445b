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

from tests.api.http.test_live_server import _start, _stop

DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}

_W = "W" * 240  # one unbroken word, far wider than a phone
_W63, _W31 = _W[:63], _W[:31]  # the longest industry and category (64), unit (32)
#: A public pack whose every text is one long word, with bounds at the edge of the float range.
LONG_WORDS = f"""\
pack: long-words
version: 1.0.0
title: {{en: T{_W}}}
description: {{en: D{_W}}}
industry: I{_W63}
visibility: public
locales: [en]
grain: month
dimensions:
  store: {{label: {{en: S{_W}}}}}
inputs:
  sales: {{label: {{en: L{_W}}}, unit: U{_W31}, description: {{en: D{_W}}}}}
  visits: {{label: {{en: Visits}}}}
metrics:
  per_visit:
    label: {{en: M{_W}}}
    formula: sales / visits
    category: C{_W63}
    unit: U{_W31}
    description: {{en: D{_W}}}
    benchmark: {{en: B{_W}}}
    bands:
      - {{status: good, min: -1e308, max: 1e308, label: {{en: B{_W}}}, advice: {{en: A{_W}}},
          remedies: [fix]}}
      - {{status: critical, max: -1e308, label: {{en: low}}}}
rules:
  low_ticket:
    label: {{en: R{_W}}}
    when: per_visit < 5
    metric: per_visit
    causes: [{{en: C{_W}}}]
    remedies: [fix]
remedies:
  fix: {{label: {{en: F{_W}}}, detail: {{en: X{_W}}}}}
views:
  everything: {{label: {{en: V{_W}}}, metrics: [per_visit]}}
"""
#: Data for it: a store named by a long word, values near the top of the float range.
LONG_CSV = (
    f"period,store,sales,visits\n2026-01,S{_W},1e307,1\n2026-02,S{_W},-1e307,1\n2026-03,x,4,1\n"
)


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
    _stop(proc)


def launch(playwright: Any) -> Any:
    return playwright.chromium.launch(
        executable_path=chromium_path(),
        headless=True,
        args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
    )


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
            if (
                parts.scheme in ("data", "blob", "about")
                or f"{parts.scheme}://{parts.netloc}" == self.origin
            ):
                r.continue_()
            else:
                self.external.append(url)
                r.abort()

        context.route("**/*", route)

    def page(self, page: Any) -> Any:
        page.on(
            "console", lambda m: self.console_errors.append(m.text) if m.type == "error" else None
        )
        page.on("pageerror", lambda e: self.page_errors.append(str(e)))
        return page

    def assert_clean(self) -> None:
        assert not self.console_errors, self.console_errors
        assert not self.page_errors, self.page_errors
        assert not self.external, self.external
        assert all(
            u.startswith(self.origin) or u.startswith(("data:", "blob:", "about:"))
            for u in self.requests
        )
