"""Every HTTP error is ``application/problem+json`` (RFC 9457), with a stable ``type`` URI.

    ApiProblem(kind, detail, **extra)   raised by routes and helpers
        → problem_response()            {type, title, status, detail, [problems | errors], …}

:data:`TYPES` is the catalog (documented in ``docs/api.md``, checked by a test). The handlers
installed by :func:`install_handlers` turn everything else — FastAPI's validation errors (whose
default body echoes the input), Starlette's 404 / 405, engine errors, and any bug — into the
same shape. Nothing a client sent is echoed beyond a short, clipped quote inside a message, and
no traceback or server path reaches a client.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect
from starlette.responses import Response
from starlette.routing import Match, Mount

BASE = "https://kpi-forge.dev/problems/"
MEDIA_TYPE = "application/problem+json"
_CLIP = 300  # longest text taken from a request into an error message

log = logging.getLogger("kpi.server")


@dataclass(frozen=True)
class ProblemType:
    slug: str
    status: int
    title: str

    @property
    def uri(self) -> str:
        return BASE + self.slug


def _catalog(*types: ProblemType) -> dict[str, ProblemType]:
    return {t.slug: t for t in types}


#: Every problem type the API answers with. Stable: never rename a slug, only add.
TYPES: dict[str, ProblemType] = _catalog(
    ProblemType("malformed-body", 400, "The request body cannot be read"),
    ProblemType("unauthorized", 401, "A valid bearer token is required"),
    ProblemType(
        "client-disconnected", 400, "The client closed the connection before the body was sent"
    ),
    ProblemType("forbidden", 403, "This token may not do that"),
    ProblemType("quota-exceeded", 403, "The owner's storage quota would be exceeded"),
    ProblemType("not-found", 404, "No such resource"),
    ProblemType("pack-not-found", 404, "No such pack"),
    ProblemType("version-not-found", 404, "No such version of the pack"),
    ProblemType("metric-not-found", 404, "No such metric in the pack"),
    ProblemType("method-not-allowed", 405, "Method not allowed"),
    ProblemType("version-conflict", 409, "That version already exists with different content"),
    ProblemType("payload-too-large", 413, "The request body is too large"),
    ProblemType("result-too-large", 413, "The result would be too large; narrow the request"),
    ProblemType("unsupported-media-type", 415, "Unsupported content type"),
    ProblemType("invalid-request", 422, "The request's parameters are not valid"),
    ProblemType("pack-invalid", 422, "The pack has errors"),
    ProblemType("extends-private", 422, "A public pack cannot extend a private one"),
    ProblemType("invalid-input", 422, "The evaluation data or options are not valid"),
    ProblemType("too-many-rows", 422, "Too many rows for one evaluation"),
    ProblemType("out-of-memory", 422, "The work needed more memory than a worker may use"),
    ProblemType("rate-limited", 429, "Too many requests"),
    ProblemType("internal-error", 500, "Internal server error"),
    ProblemType("server-busy", 503, "Every evaluation worker is busy"),
    ProblemType("evaluation-timeout", 504, "The evaluation took longer than the time limit"),
)


def clip(text: str, limit: int = _CLIP) -> str:
    """A message made from client text, cut to a readable length."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


class ApiProblem(Exception):
    """Raised anywhere below a route; answered as problem+json by the installed handler."""

    def __init__(
        self, slug: str, detail: str, *, headers: dict[str, str] | None = None, **extra: Any
    ) -> None:
        super().__init__(detail)
        self.type = TYPES[slug]
        self.detail = detail
        self.headers = headers or {}
        self.extra = extra


def problem_body(slug: str, detail: str, **extra: Any) -> dict[str, Any]:
    kind = TYPES[slug]
    return {
        "type": kind.uri,
        "title": kind.title,
        "status": kind.status,
        "detail": clip(detail, 2000),
        **extra,
    }


#: on every response (added by ``limits.SecurityHeaders`` unless a response sets its own), and
#: on every problem answer directly, also those made outside the middleware (an unhandled 500)
SAFE_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
    "Referrer-Policy": "no-referrer",
}


def problem_response(
    slug: str, detail: str, *, headers: dict[str, str] | None = None, **extra: Any
) -> Response:
    body = problem_body(slug, detail, **extra)
    headers = {**SAFE_HEADERS, **(headers or {})}
    # backslashreplace: a lone surrogate quoted from the request becomes a JSON escape, so building
    # the error answer can never fail itself
    return Response(
        json.dumps(body, ensure_ascii=False).encode("utf-8", errors="backslashreplace"),
        status_code=body["status"],
        media_type=MEDIA_TYPE,
        headers=headers,
    )


def from_exception(err: ApiProblem) -> Response:
    return problem_response(err.type.slug, err.detail, headers=err.headers, **err.extra)


def validation_errors(errors: Any) -> list[dict[str, Any]]:
    """Pydantic / FastAPI errors as ``{location, message}`` — never the rejected input."""
    out = []
    for e in list(errors)[:50]:
        loc = [str(p) for p in e.get("loc", ())]
        out.append({"location": ".".join(loc), "message": clip(str(e.get("msg", "invalid value")))})
    return out


_STATUS_SLUG = {
    404: "not-found",
    405: "method-not-allowed",
    413: "payload-too-large",
    415: "unsupported-media-type",
    401: "unauthorized",
    403: "forbidden",
    400: "malformed-body",
}


_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


def allowed_methods(request: Request) -> list[str]:
    """Every method some route of the app answers at this path (the ``Allow`` header of a 405),
    asked of the router itself, so included routers count too; below a mount (static files
    only, in this app) that is GET and HEAD."""
    base = {**request.scope, "root_path": "", "path": request.url.path}  # the app's own scope
    routes = request.app.router.routes
    if any(isinstance(r, Mount) and r.matches(base)[0] == Match.FULL for r in routes):
        return ["GET", "HEAD"]
    return [
        m
        for m in _METHODS
        if any(
            r.matches({**base, "method": m})[0] == Match.FULL
            for r in routes
            if not isinstance(r, Mount)
        )
    ]


def install_handlers(app: FastAPI) -> None:
    """Answer every error of the app as problem+json."""

    async def on_problem(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, ApiProblem)
        return from_exception(exc)

    async def on_validation(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        errors = validation_errors(exc.errors())
        where = ", ".join(e["location"] for e in errors[:3])
        return problem_response(
            "invalid-request",
            f"invalid parameters: {where}" if where else "invalid parameters",
            errors=errors,
        )

    async def on_http(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        slug = _STATUS_SLUG.get(
            exc.status_code, "internal-error" if exc.status_code >= 500 else "malformed-body"
        )
        detail = {
            404: f"there is no {request.url.path}",
            405: f"{request.method} is not allowed on {request.url.path}",
        }
        headers = dict(exc.headers) if exc.headers else {}
        if exc.status_code == 405:
            headers["Allow"] = ", ".join(allowed_methods(request))
        return problem_response(
            slug, detail.get(exc.status_code, TYPES[slug].title), headers=headers or None
        )

    async def on_disconnect(request: Request, exc: Exception) -> Response:
        # nobody is listening: one quiet line in the log, not a traceback per dropped upload
        log.info("client disconnected during %s %s", request.method, request.url.path)
        return problem_response(
            "client-disconnected", "the connection closed before the whole body was received"
        )

    async def on_bug(request: Request, exc: Exception) -> Response:
        log.exception("unexpected error in %s %s", request.method, request.url.path)
        return problem_response(
            "internal-error", "the server failed to answer; the error has been logged"
        )

    app.add_exception_handler(ApiProblem, on_problem)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(StarletteHTTPException, on_http)
    app.add_exception_handler(ClientDisconnect, on_disconnect)
    app.add_exception_handler(Exception, on_bug)
