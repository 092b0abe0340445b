"""``/docs`` without internet access: Swagger UI's assets are served by this server.

The assets come from the ``fastapi-offline`` package (Swagger UI 5, which renders the OpenAPI
3.1 documents FastAPI writes); no CDN is ever referenced. The page's start-up script is a file
of its own (``/docs/init.js``), so the page runs under a Content-Security-Policy that allows
scripts from this server only, and may not be framed by another site.
"""

from __future__ import annotations

from pathlib import Path

import fastapi_offline
from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from starlette.responses import HTMLResponse, Response

STATIC = Path(fastapi_offline.__file__).parent / "static"
PREFIX = "/static/docs"
#: Swagger UI sets inline styles and shows data: images; nothing is loaded from elsewhere
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self' "
    "'unsafe-inline'; img-src 'self' data:; connect-src 'self'; font-src "
    "'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}

_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link type="text/css" rel="stylesheet" href="{prefix}/swagger-ui.css">
<link rel="shortcut icon" href="{prefix}/favicon.png">
<title>{title}</title>
</head>
<body>
<div id="swagger-ui"></div>
<script src="{prefix}/swagger-ui-bundle.js"></script>
<script src="/docs/init.js"></script>
</body>
</html>
"""

# no call to validator.swagger.io: the page must not send the spec's address anywhere
_INIT = """window.ui = SwaggerUIBundle({
  url: "/openapi.json", dom_id: "#swagger-ui", layout: "BaseLayout", deepLinking: true,
  showExtensions: true, showCommonExtensions: true, validatorUrl: null,
  presets: [SwaggerUIBundle.presets.apis, SwaggerUIBundle.SwaggerUIStandalonePreset]
});
"""


def install(app: FastAPI) -> None:
    app.mount(PREFIX, StaticFiles(directory=STATIC), name="docs-static")
    page = _PAGE.format(prefix=PREFIX, title=f"{app.title} — API")

    @app.get("/docs", include_in_schema=False)
    def swagger_ui() -> HTMLResponse:
        return HTMLResponse(page, headers=HEADERS)

    @app.get("/docs/init.js", include_in_schema=False)
    def swagger_init() -> Response:
        return Response(_INIT, media_type="text/javascript; charset=utf-8", headers=HEADERS)
