"""KPI Forge over HTTP: a thin FastAPI layer over the engine façade.

app.py        wiring: routes, handlers, limits, offline docs
routes/       /v1 endpoints: catalog (reads), evaluate, publish (validate + publish)
catalog.py    which packs a caller may see; extends of published packs; compile cache
registry.py   SQLite: published versions and API keys
auth.py       bearer tokens → owner
worker.py     evaluation workers, killed at the deadline
jobs.py       what a worker does: read the body, compile, evaluate
limits.py     body size and rate limits
problems.py   RFC 9457 errors and their stable types
redact.py     no server path reaches a client

The names below are loaded when first used, so that ``kpi serve --help`` can read the
defaults in ``config.py`` without importing FastAPI (docs/design.md, "CLI start-up").
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from api.server.app import create_app, create_app_from_env
    from api.server.config import Settings

_EXPORTS = {
    "create_app": "api.server.app",
    "create_app_from_env": "api.server.app",
    "Settings": "api.server.config",
}

__all__ = ["Settings", "create_app", "create_app_from_env"]


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'api.server' has no attribute '{name}'")
