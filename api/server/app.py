"""The FastAPI application: routes, error handlers, limits and the offline docs, wired together.

create_app(Settings(data_dir=...))   one app over one registry (tests, ``kpi serve``)
create_app_from_env()                the factory ``uvicorn`` calls in each server process
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio.to_thread
from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from starlette.responses import Response

from api import web
from api.server import docs_ui, openapi
from api.server.catalog import Catalog
from api.server.config import Settings
from api.server.limits import RateLimit, SecurityHeaders
from api.server.models import Health
from api.server.problems import install_handlers
from api.server.redact import Redactor
from api.server.registry import Registry
from api.server.responses import json_response
from api.server.routes import catalog, evaluate, publish
from api.server.worker import WorkerPool

API_VERSION = "1.0.0"
DESCRIPTION = """KPI packs over HTTP: discover packs, read lineage, evaluate over your data, \
publish packs.

Reads of public and built-in packs need no token; publishing needs `Authorization: Bearer <token>`
(make one with `kpi keys create --owner NAME`). Every error is `application/problem+json` with a
stable `type`; see docs/api.md."""


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    settings.check()
    registry = Registry(settings.data_dir)
    pool = WorkerPool(
        settings.eval_workers,
        cache_size=min(settings.cache_size, 64),
        memory_bytes=settings.worker_memory_bytes,
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await anyio.to_thread.run_sync(pool.start)
        try:
            yield
        finally:
            pool.close()

    app = FastAPI(
        title="KPI Forge",
        version=API_VERSION,
        description=DESCRIPTION,
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
    )
    cat = Catalog(registry, settings.cache_size, settings.cache_bytes)
    app.state.settings = settings
    app.state.registry = registry
    app.state.catalog = cat
    app.state.pool = pool
    app.state.redact = Redactor(cat.library_root)

    install_handlers(app)
    openapi.install(app)
    docs_ui.install(app)
    web.install(app)  # the HTML pages (docs/web.md)
    for module in (catalog, evaluate, publish):
        app.include_router(module.router)

    @app.get(
        "/healthz",
        tags=["health"],
        response_model=None,
        responses={
            **openapi.ok(Health, "The server answers and its workers are alive"),
            **openapi.problems(),
        },
    )
    def healthz() -> Response:
        return json_response({"status": "ok", "version": API_VERSION, "workers": pool.alive})

    app.add_middleware(
        RateLimit, rate=settings.rate_limit, burst=settings.rate_burst, owner_of=registry.owner_of
    )
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=list(settings.cors_origins),
            allow_credentials=False,
            allow_methods=["GET", "POST"],
            allow_headers=["Authorization", "Content-Type"],
        )
    # outermost of ours: 429s and CORS answers carry the headers too
    app.add_middleware(SecurityHeaders)
    return app


def create_app_from_env() -> FastAPI:
    """The app for a server process, with settings
    from ``KPI_*`` variables (see :class:`Settings`)."""
    return create_app(Settings.from_env())
