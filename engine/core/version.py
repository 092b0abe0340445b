"""The engine's version, as installed from pyproject.toml (every evaluation response carries it)."""

from __future__ import annotations

from functools import lru_cache


@lru_cache(maxsize=1)
def engine_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("kpi-forge")
    except (
        PackageNotFoundError
    ):  # pragma: no cover - run from a source tree that was never installed
        return "0+unknown"
