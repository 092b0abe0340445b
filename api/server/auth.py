"""Who is asking: the owner comes only from a verified bearer token.

Reads of public and built-in packs need no token; publishing does. A request that sends an
``Authorization`` header with an unknown or malformed token is refused (401) rather than
silently treated as anonymous.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from api.server.problems import ApiProblem
from api.server.registry import Registry

bearer = HTTPBearer(
    auto_error=False,
    description="A token made by `kpi keys create --owner NAME`.",
    scheme_name="bearer",
)
_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="kpi-forge"'}


def registry(request: Request) -> Registry:
    reg: Registry = request.app.state.registry
    return reg


def optional_owner(
    request: Request, creds: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]
) -> str | None:
    """The token's owner, None without a token; 401 for a token that is not valid."""
    header = request.headers.get("authorization")
    if header is None:
        return None
    if creds is None or not creds.credentials.strip():
        raise ApiProblem(
            "unauthorized",
            "the Authorization header must be 'Bearer <token>'",
            headers={"WWW-Authenticate": 'Bearer realm="kpi-forge", error="invalid_request"'},
        )
    owner = registry(request).owner_of(creds.credentials.strip())
    if owner is None:
        raise ApiProblem(
            "unauthorized",
            "the bearer token is not valid",
            headers={"WWW-Authenticate": 'Bearer realm="kpi-forge", error="invalid_token"'},
        )
    return owner


def required_owner(owner: Annotated[str | None, Depends(optional_owner)]) -> str:
    """The token's owner; 401 without a token."""
    if owner is None:
        raise ApiProblem(
            "unauthorized",
            "this needs a bearer token: send 'Authorization: Bearer <token>' "
            "(make one with `kpi keys create --owner NAME`)",
            headers=_CHALLENGE,
        )
    return owner


Owner = Annotated[str | None, Depends(optional_owner)]
RequiredOwner = Annotated[str, Depends(required_owner)]
