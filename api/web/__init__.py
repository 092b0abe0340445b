"""Web pages served by the API's own server: the pack catalog, a pack, an indicator and its
lineage, and a report over example or uploaded data, with its downloads: the report as an Excel
workbook and the pack's template to fill in (see docs/web.md).

    install(app)   adds the pages' routes and their static files (``/static/web/``) to the app,
                   and answers errors on page addresses as pages (after the API's handlers)
"""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from . import downloads
from .pages import STATIC, PageCache, card_cache, errors_as_pages, router

__all__ = ["install", "router"]


def install(app: FastAPI) -> None:
    app.state.web_pages = PageCache()
    app.state.web_cards = card_cache()
    app.mount("/static/web", StaticFiles(directory=STATIC), name="web-static")
    app.include_router(router)
    app.include_router(downloads.router)
    errors_as_pages(app)
