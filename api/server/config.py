"""Settings of the HTTP server: where the registry lives and every limit, with their defaults.

One frozen dataclass, filled from ``kpi serve`` options or from ``KPI_*`` environment variables
(the way settings reach the server processes that ``uvicorn --workers N`` starts).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, fields, replace
from pathlib import Path

DEFAULT_DATA_DIR = Path("kpi-data")


@dataclass(frozen=True)
class Settings:
    """Everything configurable about one server. Sizes in bytes, times in seconds."""

    data_dir: Path = DEFAULT_DATA_DIR
    #: largest request body accepted (413 beyond), counted while reading, chunked uploads too
    max_body_bytes: int = 8 * 1024 * 1024
    #: most data rows in one evaluation (422 beyond)
    max_rows: int = 100_000
    #: wall-clock limit of one evaluation, validation or publication in a worker (504 beyond)
    eval_timeout: float = 10.0
    #: worker processes per server process that compile posted packs and evaluate
    eval_workers: int = 2
    #: sustained requests per second per client (token, else IP); 0 turns rate limiting off
    rate_limit: float = 20.0
    #: requests a client may send at once before the sustained rate applies
    rate_burst: int = 40
    #: origins allowed by CORS (none by default; never "*" together with credentials)
    cors_origins: tuple[str, ...] = ()
    #: compiled packs kept in memory (by content hash), per process
    cache_size: int = 256
    #: memory the server process may spend on its caches (compiled packs, pack texts, rendered
    #: responses), estimated in bytes; the least recently used entries are dropped beyond it
    cache_bytes: int = 256 * 1024 * 1024
    #: largest pack YAML that validate and publish accept (413 beyond)
    max_pack_bytes: int = 2 * 1024 * 1024
    #: per-owner quotas on what publishing stores (403 ``quota-exceeded`` beyond; 0 = no limit)
    quota_packs: int = 100
    quota_versions: int = 1_000
    quota_bytes: int = 64 * 1024 * 1024
    #: most values (rows x metrics, inputs included) in one evaluation result (413 beyond)
    max_result_values: int = 1_000_000
    #: largest evaluation response body (413 beyond)
    max_result_bytes: int = 32 * 1024 * 1024
    #: writable memory one evaluation worker may use (RLIMIT_DATA); past it the work fails with
    #: 422 ``out-of-memory`` and the worker is replaced (0 = no limit)
    worker_memory_bytes: int = 2 * 1024 * 1024 * 1024

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Settings:
        """Settings from ``KPI_DATA_DIR``, ``KPI_MAX_BODY_BYTES``,
        … (unset ones keep their default)."""
        env = os.environ if environ is None else environ
        values: dict[str, object] = {}
        for f in fields(cls):
            raw = env.get(f"KPI_{f.name.upper()}")
            if raw is None:
                continue
            default = getattr(cls(), f.name)
            if isinstance(default, Path):
                values[f.name] = Path(raw)
            elif isinstance(default, tuple):
                values[f.name] = tuple(o.strip() for o in raw.split(",") if o.strip())
            elif isinstance(default, float):
                values[f.name] = float(raw)
            else:
                values[f.name] = int(raw)
        return replace(cls(), **values)  # type: ignore[arg-type]

    def to_env(self) -> dict[str, str]:
        """The ``KPI_*`` variables that :meth:`from_env` reads back into these settings."""
        out: dict[str, str] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            out[f"KPI_{f.name.upper()}"] = (
                ",".join(value) if isinstance(value, tuple) else str(value)
            )
        return out

    def check(self) -> None:
        """Refuse settings that cannot work (raises ValueError with a readable message)."""
        if "*" in self.cors_origins:
            raise ValueError("CORS origin '*' is refused: name the origins that may call the API")
        for name in (
            "max_body_bytes",
            "max_rows",
            "eval_workers",
            "cache_size",
            "cache_bytes",
            "max_pack_bytes",
            "max_result_values",
            "max_result_bytes",
        ):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1")
        for name in ("quota_packs", "quota_versions", "quota_bytes", "worker_memory_bytes"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be 0 (no limit) or more")
        if self.eval_timeout <= 0:
            raise ValueError("eval_timeout must be positive")
        if self.rate_limit < 0 or self.rate_burst < 1:
            raise ValueError("rate_limit must be >= 0 and rate_burst >= 1")
