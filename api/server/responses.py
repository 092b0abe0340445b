"""Response helpers: JSON bytes, conditional GET (ETag / If-None-Match) and content negotiation."""

from __future__ import annotations

import hashlib
import json
import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, Generic, TypeVar

from starlette.requests import Request
from starlette.responses import Response

from api.server.problems import ApiProblem

V = TypeVar("V")

YAML_TYPES = ("application/yaml", "application/x-yaml", "text/yaml", "text/x-yaml")


def dumps(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode(
        "utf-8"
    )


def json_response(value: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(
        dumps(value), status_code=status, media_type="application/json", headers=headers
    )


def etag_of(body: bytes) -> str:
    return '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


class Lru(Generic[V]):
    """Values of immutable resources, least recently used first out, bounded by their total
    weight (1 each by default: a count; ``len``: bytes; or a weight given with the value). A
    value heavier than the bound is made and returned but not kept."""

    def __init__(self, limit: int, weigh: Callable[[V], int] = lambda _: 1) -> None:
        self.limit = limit
        self.weigh = weigh
        self._items: OrderedDict[tuple[str, ...], tuple[V, int]] = OrderedDict()
        self._total = 0
        self._lock = threading.Lock()

    def get(self, key: tuple[str, ...], make: Callable[[], V], weight: int | None = None) -> V:
        """The value under ``key``, made (outside the lock) and kept if it is missing."""
        with self._lock:
            hit = self._items.get(key)
            if hit is not None:
                self._items.move_to_end(key)
                return hit[0]
        value = make()  # outside the lock: two threads may make the same value, one is kept
        self.put(key, value, weight)
        return value

    def put(self, key: tuple[str, ...], value: V, weight: int | None = None) -> None:
        w = self.weigh(value) if weight is None else weight
        with self._lock:
            if key not in self._items and w <= self.limit:
                self._items[key] = (value, w)
                self._total += w
                while self._total > self.limit:
                    self._total -= self._items.popitem(last=False)[1][1]

    @property
    def total(self) -> int:
        """The weight kept now."""
        return self._total

    def __len__(self) -> int:
        return len(self._items)


class Rendered(Lru[tuple[bytes, str]]):
    """Response bodies of immutable resources (keyed by
    content hash) with their ETags, bounded in bytes."""

    def __init__(self, max_bytes: int = 64 * 1024 * 1024) -> None:
        super().__init__(max_bytes, lambda v: len(v[0]) + 200)

    def get_body(self, key: tuple[str, ...], make: Callable[[], bytes]) -> tuple[bytes, str]:
        def with_etag() -> tuple[bytes, str]:
            body = make()
            return body, etag_of(body)

        return self.get(key, with_etag)


def conditional(
    request: Request,
    body: bytes,
    media_type: str,
    *,
    private: bool = False,
    etag: str | None = None,
) -> Response:
    """``body`` with an ETag, or 304 Not Modified if the client's If-None-Match has it."""
    etag = etag or etag_of(body)
    headers = {
        "ETag": etag,
        "Cache-Control": "private, no-cache" if private else "no-cache",
        "Vary": "Authorization, Accept",
    }
    match = request.headers.get("if-none-match")
    if match is not None:
        tags = {t.strip().removeprefix("W/") for t in match.split(",")}
        if "*" in tags or etag in tags:
            return Response(status_code=304, headers=headers)
    return Response(body, media_type=media_type, headers=headers)


def media_type(request: Request) -> str:
    """The request's content type without parameters, lower-cased ('' if none)."""
    return request.headers.get("content-type", "").split(";")[0].strip().lower()


def wants_yaml(request: Request) -> bool:
    accept = request.headers.get("accept", "").lower()
    return any(t in accept for t in YAML_TYPES)


def require_media(request: Request, allowed: tuple[str, ...], default: str | None = None) -> str:
    """The body's media type if it is one of ``allowed``
    (``default`` when none is sent), else 415."""
    kind = media_type(request) or default or ""
    if kind not in allowed:
        shown = f"'{kind[:60]}'" if kind else "no Content-Type"
        raise ApiProblem(
            "unsupported-media-type",
            f"{shown} is not accepted here: send "
            f"{' or '.join(allowed[:2])} (for example curl -H 'Content-Type: {allowed[0]}')",
        )
    return kind
