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
    title_zh: str

    @property
    def uri(self) -> str:
        return BASE + self.slug


def _catalog(*types: ProblemType) -> dict[str, ProblemType]:
    return {t.slug: t for t in types}


#: Every problem type the API answers with. Stable: never rename a slug, only add.
TYPES: dict[str, ProblemType] = _catalog(
    ProblemType("malformed-body", 400, "The request body cannot be read", "无法读取请求体"),
    ProblemType("unauthorized", 401, "A valid bearer token is required", "需要有效的 bearer 令牌"),
    ProblemType(
        "client-disconnected",
        400,
        "The client closed the connection before the body was sent",
        "请求体发送完之前，客户端已关闭连接",
    ),
    ProblemType("forbidden", 403, "This token may not do that", "此令牌无权执行该操作"),
    ProblemType(
        "quota-exceeded",
        403,
        "The owner's storage quota would be exceeded",
        "将超出所有者的存储配额",
    ),
    ProblemType("not-found", 404, "No such resource", "没有这个资源"),
    ProblemType("pack-not-found", 404, "No such pack", "没有这个指标包"),
    ProblemType("version-not-found", 404, "No such version of the pack", "指标包没有这个版本"),
    ProblemType("metric-not-found", 404, "No such metric in the pack", "指标包中没有这个指标"),
    ProblemType("method-not-allowed", 405, "Method not allowed", "不允许的请求方法"),
    ProblemType(
        "version-conflict",
        409,
        "That version already exists with different content",
        "该版本已存在，且内容不同",
    ),
    ProblemType("payload-too-large", 413, "The request body is too large", "请求体过大"),
    ProblemType(
        "result-too-large",
        413,
        "The result would be too large; narrow the request",
        "结果会过大，请缩小请求范围",
    ),
    ProblemType("unsupported-media-type", 415, "Unsupported content type", "不支持的内容类型"),
    ProblemType("invalid-request", 422, "The request's parameters are not valid", "请求参数无效"),
    ProblemType("pack-invalid", 422, "The pack has errors", "指标包有错误"),
    ProblemType(
        "extends-private",
        422,
        "A public pack cannot extend a private one",
        "公开的指标包不能扩展私有的指标包",
    ),
    ProblemType(
        "invalid-input", 422, "The evaluation data or options are not valid", "计算的数据或选项无效"
    ),
    ProblemType("too-many-rows", 422, "Too many rows for one evaluation", "一次计算的行数过多"),
    ProblemType(
        "out-of-memory",
        422,
        "The work needed more memory than a worker may use",
        "所需内存超过了单个工作进程的上限",
    ),
    ProblemType("rate-limited", 429, "Too many requests", "请求过多"),
    ProblemType("internal-error", 500, "Internal server error", "服务器内部错误"),
    ProblemType("server-busy", 503, "Every evaluation worker is busy", "所有计算工作进程都在忙"),
    ProblemType(
        "evaluation-timeout",
        504,
        "The evaluation took longer than the time limit",
        "计算超过了时间限制",
    ),
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


def accepts_zh(header: str | None) -> bool:
    """Whether ``Accept-Language`` puts Chinese (``zh``, ``zh-CN``, …) above English, by weight
    (``q``), the first on a tie; English when it names neither. ``zh;q=0.1, en`` is English."""
    best, best_q = "en", 0.0
    for part in (header or "")[:1000].lower().split(",")[:50]:
        tag, *params = (p.strip() for p in part.split(";"))
        q = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        primary = tag.split("-")[0]
        if primary in ("zh", "en") and 0 < q <= 1 and q > best_q:
            best, best_q = primary, q
    return best == "zh"


def _titled(items: Any) -> Any:
    """Items of ``problems`` / ``errors`` with a catalogued code, each with the code's Chinese
    ``title`` added (copies: the items themselves are left as they are)."""
    from engine.api import code_entry

    if not isinstance(items, list):
        return items
    out = []
    for item in items:
        entry = code_entry(item.get("code")) if isinstance(item, dict) else None
        out.append(item if entry is None else {**item, "title": entry.title_zh})
    return out


def problem_body(slug: str, detail: str, *, zh: bool = False, **extra: Any) -> dict[str, Any]:
    """The problem+json body; ``zh`` (``Accept-Language: zh``) gives the type's title, and each
    item with a code of docs/errors.md a ``title``, in Chinese: the detail and the messages
    stay English."""
    kind = TYPES[slug]
    if zh:
        extra = {k: _titled(v) if k in ("problems", "errors") else v for k, v in extra.items()}
    return {
        "type": kind.uri,
        "title": kind.title_zh if zh else kind.title,
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
    slug: str,
    detail: str,
    *,
    headers: dict[str, str] | None = None,
    zh: bool = False,
    **extra: Any,
) -> Response:
    body = problem_body(slug, detail, zh=zh, **extra)
    headers = {**SAFE_HEADERS, "Vary": "Accept-Language", **(headers or {})}
    # backslashreplace: a lone surrogate quoted from the request becomes a JSON escape, so building
    # the error answer can never fail itself
    return Response(
        json.dumps(body, ensure_ascii=False).encode("utf-8", errors="backslashreplace"),
        status_code=body["status"],
        media_type=MEDIA_TYPE,
        headers=headers,
    )


def from_exception(err: ApiProblem, zh: bool = False) -> Response:
    return problem_response(err.type.slug, err.detail, headers=err.headers, zh=zh, **err.extra)


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


def _zh(request: Request) -> bool:
    return accepts_zh(request.headers.get("accept-language"))


def install_handlers(app: FastAPI) -> None:
    """Answer every error of the app as problem+json (titles in Chinese after
    ``Accept-Language: zh``)."""

    async def on_problem(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, ApiProblem)
        return from_exception(exc, _zh(request))

    async def on_validation(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        errors = validation_errors(exc.errors())
        where = ", ".join(e["location"] for e in errors[:3])
        return problem_response(
            "invalid-request",
            f"invalid parameters: {where}" if where else "invalid parameters",
            errors=errors,
            zh=_zh(request),
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
            slug,
            detail.get(exc.status_code, TYPES[slug].title),
            headers=headers or None,
            zh=_zh(request),
        )

    async def on_disconnect(request: Request, exc: Exception) -> Response:
        # nobody is listening: one quiet line in the log, not a traceback per dropped upload
        log.info("client disconnected during %s %s", request.method, request.url.path)
        return problem_response(
            "client-disconnected",
            "the connection closed before the whole body was received",
            zh=_zh(request),
        )

    async def on_bug(request: Request, exc: Exception) -> Response:
        log.exception("unexpected error in %s %s", request.method, request.url.path)
        return problem_response(
            "internal-error",
            "the server failed to answer; the error has been logged",
            zh=_zh(request),
        )

    app.add_exception_handler(ApiProblem, on_problem)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(StarletteHTTPException, on_http)
    app.add_exception_handler(ClientDisconnect, on_disconnect)
    app.add_exception_handler(Exception, on_bug)
