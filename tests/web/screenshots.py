"""``make screenshots``: each web page at desktop and phone width, as PNG files.

    python -m tests.web.screenshots docs/screenshots

Starts ``kpi serve`` on a free loopback port with an empty data dir (the built-in packs only),
opens each page in headless Chromium in English and writes ``<page>-desktop.png`` and
``<page>-phone.png``; the pages of :data:`ZH_PAGES` also in Chinese, as ``<page>-zh-desktop.png``
and ``<page>-zh-phone.png`` (they need a CJK font: ``fonts-noto-cjk``, which ``make`` installs
as root). The report is shown over the bakery pack's example data.
"""

from __future__ import annotations

import sys
import tempfile
from itertools import product
from pathlib import Path

from playwright.sync_api import sync_playwright

from tests.web.browser import (
    DESKTOP,
    PHONE,
    Watch,
    chromium_path,
    launch,
    start_server,
    stop_server,
)

PAGES = [  # name, path, element to scroll into view (None: the top)
    ("catalog", "/", None),
    ("pack", "/packs/bakery-stored-value", None),
    ("indicator", "/packs/bakery-stored-value/metrics/closing_amount", None),
    ("lineage", "/packs/bakery-stored-value/metrics/closing_amount", "#l-h"),
    ("report", "/packs/bakery-stored-value/report?data=example", "#results-h"),
    ("report-values", "/packs/bakery-stored-value/report?data=example", "#results > h3 >> nth=0"),
    ("report-rules", "/packs/bakery-stored-value/report?data=example", "#fired"),
    ("report-trends", "/packs/bakery-stored-value/report?data=example", "#trends"),
]
#: the pages also shot in Chinese (``<page>-zh-<size>.png``)
ZH_PAGES = ("catalog", "report", "report-values", "report-rules")
LOCALES = (("en-US", ""), ("zh-CN", "-zh"))


def main(out: Path) -> int:
    if chromium_path() is None:
        print(
            "screenshots: Chromium is not installed (Debian: apt-get install chromium)",
            file=sys.stderr,
        )
        return 1
    out.mkdir(parents=True, exist_ok=True)
    proc, url = start_server(Path(tempfile.mkdtemp(prefix="kpi-shots-")))
    try:
        with sync_playwright() as pw:
            browser = launch(pw)
            for (size, viewport), (locale, suffix) in product(
                (("desktop", DESKTOP), ("phone", PHONE)), LOCALES
            ):
                context = browser.new_context(
                    viewport=viewport,
                    locale=locale,
                    base_url=url,
                    device_scale_factor=1 if size == "desktop" else 2,
                )
                watch = Watch(url)
                watch.attach(context)
                page = watch.page(context.new_page())
                for name, path, anchor in PAGES:
                    if suffix and name not in ZH_PAGES:
                        continue
                    page.goto(path)
                    if anchor:
                        page.locator(anchor).evaluate("e => e.scrollIntoView({block: 'start'})")
                    target = out / f"{name}{suffix}-{size}.png"
                    page.screenshot(path=str(target))
                    print(f"wrote {target}")
                context.close()
                watch.assert_clean()
            browser.close()
    finally:
        stop_server(proc)
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/screenshots")))
