"""``/docs`` without internet access: Swagger UI's assets are served by this server.

The assets come from the ``fastapi-offline`` package (Swagger UI 5, which renders the OpenAPI
3.1 documents FastAPI writes); no CDN is ever referenced.
"""

from __future__ import annotations

from pathlib import Path

import fastapi_offline
from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.staticfiles import StaticFiles
from starlette.responses import HTMLResponse

STATIC = Path(fastapi_offline.__file__).parent / "static"
PREFIX = "/static/docs"


def install(app: FastAPI) -> None:
    app.mount(PREFIX, StaticFiles(directory=STATIC), name="docs-static")

    @app.get("/docs", include_in_schema=False)
    def swagger_ui() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url="/openapi.json", title=f"{app.title} — API",
            swagger_js_url=f"{PREFIX}/swagger-ui-bundle.js", swagger_css_url=f"{PREFIX}/swagger-ui.css",
            swagger_favicon_url=f"{PREFIX}/favicon.png",
            # no call to validator.swagger.io: the page must not send the spec's address anywhere
            swagger_ui_parameters={"validatorUrl": None})
