"""What routes take from the application: its catalog, workers, settings and redactor."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query, Request

from api.server.catalog import Catalog
from api.server.config import Settings
from api.server.redact import Redactor
from api.server.worker import WorkerPool


def catalog(request: Request) -> Catalog:
    value: Catalog = request.app.state.catalog
    return value


def pool(request: Request) -> WorkerPool:
    value: WorkerPool = request.app.state.pool
    return value


def settings(request: Request) -> Settings:
    value: Settings = request.app.state.settings
    return value


def redactor(request: Request) -> Redactor:
    value: Redactor = request.app.state.redact
    return value


CatalogDep = Annotated[Catalog, Depends(catalog)]
PoolDep = Annotated[WorkerPool, Depends(pool)]
SettingsDep = Annotated[Settings, Depends(settings)]
RedactDep = Annotated[Redactor, Depends(redactor)]
VersionQuery = Annotated[
    str | None,
    Query(
        description="A version of the pack (default: the newest you may read)",
        max_length=64,
        examples=["1.0.0"],
    ),
]
LocaleQuery = Annotated[
    str | None,
    Query(
        description="Language of labels, e.g. `zh` or `en` (default: the pack's first locale)",
        max_length=16,
    ),
]
