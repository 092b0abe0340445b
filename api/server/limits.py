"""Limits on what one client can make the server do: body size and request rate.

- Body size: a declared ``Content-Length`` over the limit is refused before reading; a chunked
  upload (no length) is counted while it is read and refused as soon as it passes the limit.
  Either way the answer is 413 ``payload-too-large`` and the rest is never buffered.
- Rate: a token bucket per client — the verified owner of a valid bearer token, else the
  client's address — refilled at ``rate`` requests per second up to ``burst``. Over it, 429
  ``rate-limited`` with ``Retry-After``. Buckets live in memory, per server process; the
  least recently seen are dropped past ``max_clients``.

Row count (422 ``too-many-rows``) and evaluation time (504) are enforced by the workers.
"""

from __future__ import annotations

import hashlib
import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable

from starlette.datastructures import Headers
from starlette.requests import ClientDisconnect, Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.server.problems import SAFE_HEADERS, ApiProblem, accepts_zh, problem_response

EXEMPT = ("/healthz", "/docs", "/static/")


async def read_body(request: Request, limit: int) -> bytes:
    """The request body, at most ``limit`` bytes (413 beyond, without reading the rest)."""
    declared = request.headers.get("content-length")
    if declared is not None:
        if not declared.strip().isdigit():
            raise ApiProblem("malformed-body", "the Content-Length header is not a number")
        if int(declared) > limit:
            raise ApiProblem(
                "payload-too-large", f"the body is {int(declared):,} bytes; the limit is {limit:,}"
            )
    chunks: list[bytes] = []
    size = 0
    try:
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise ApiProblem(
                    "payload-too-large", f"the body is larger than the limit of {limit:,} bytes"
                )
            chunks.append(chunk)
    except ClientDisconnect:
        raise ApiProblem(
            "client-disconnected", "the connection closed before the whole body was received"
        ) from None
    return b"".join(chunks)


class TokenBuckets:
    """Token buckets by client key; thread-safe."""

    def __init__(self, rate: float, burst: int, max_clients: int = 10_000) -> None:
        self.rate = rate
        self.burst = burst
        self.max_clients = max_clients
        # key → (tokens, last time)
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()
        self._lock = threading.Lock()

    def take(self, key: str, now: float | None = None) -> float:
        """0 if the request may go ahead, else the seconds to wait before the next one may."""
        now = time.monotonic() if now is None else now
        with self._lock:
            tokens, last = self._buckets.pop(key, (float(self.burst), now))
            tokens = min(float(self.burst), tokens + (now - last) * self.rate)
            wait = 0.0
            if tokens >= 1:
                tokens -= 1
            else:
                wait = (1 - tokens) / self.rate
            self._buckets[key] = (tokens, now)
            while len(self._buckets) > self.max_clients:
                self._buckets.popitem(last=False)
        return wait


def client_key(scope: Scope, owner_of: Callable[[str], str | None] | None = None) -> str:
    """Whose bucket a request takes from: the verified owner of a valid bearer token, else the
    client's address. Keying on the raw header would give every spelling of the header (and every
    junk token) a fresh bucket."""
    if owner_of is not None:
        for name, value in scope.get("headers", ()):
            if name == b"authorization":
                scheme, _, token = value.decode("latin-1").strip().partition(" ")
                if scheme.lower() == "bearer" and token.strip():
                    owner = owner_of(token.strip())
                    if owner is not None:
                        return "owner:" + owner
                break
    client = scope.get("client")
    return "ip:" + (client[0] if client else "unknown")


class RateLimit:
    """ASGI middleware: 429 with ``Retry-After`` for a client over its rate."""

    def __init__(
        self,
        app: ASGIApp,
        rate: float,
        burst: int,
        owner_of: Callable[[str], str | None] | None = None,
    ) -> None:
        self.app = app
        self.buckets = TokenBuckets(rate, burst) if rate > 0 else None
        self._owner_of = owner_of
        # token hash → (time, owner)
        self._owners: OrderedDict[str, tuple[float, str | None]] = OrderedDict()

    def owner_of(self, token: str) -> str | None:
        """The registry's answer, remembered for a minute (this runs on the event loop)."""
        if self._owner_of is None:
            return None
        key = hashlib.sha256(token.encode("utf-8", "backslashreplace")).hexdigest()
        now = time.monotonic()
        hit = self._owners.get(key)
        if hit is None or now - hit[0] > 60:
            hit = (now, self._owner_of(token))
            self._owners[key] = hit
            while len(self._owners) > 10_000:
                self._owners.popitem(last=False)
        return hit[1]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            self.buckets is None
            or scope["type"] != "http"
            or str(scope.get("path", "")).startswith(EXEMPT)
        ):
            await self.app(scope, receive, send)
            return
        wait = self.buckets.take(client_key(scope, self.owner_of if self._owner_of else None))
        if wait > 0:
            seconds = max(1, math.ceil(wait))
            response = problem_response(
                "rate-limited",
                f"too many requests from this client; retry in {seconds} s",
                headers={"Retry-After": str(seconds)},
                zh=accepts_zh(Headers(scope=scope).get("accept-language")),
            )
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)


_SAFE = tuple((k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in SAFE_HEADERS.items())


class SecurityHeaders:
    """ASGI middleware: every response is never sniffed, framed or given a referrer; a response
    that sets its own policy (the web pages, /docs) keeps it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                have = {k.lower() for k, _ in headers}
                headers += [(k, v) for k, v in _SAFE if k not in have]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, with_headers)
