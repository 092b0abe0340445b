"""Checking and publishing packs: ``POST /v1/validate`` (nothing stored) and ``POST /v1/packs``.

Both parse and compile the posted YAML in a worker, under its time and memory limits (the
server process never parses a posted pack), with ``extends`` resolving to built-in packs and
to the published packs the caller may read. Publishing then stores the
version in one transaction: the same content again is a no-op, other content under an existing
version is 409, and only the pack's owner (its first publisher) may add versions.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from api.server import openapi as doc
from api.server.auth import Owner, RequiredOwner
from api.server.catalog import PACK_ID, Catalog
from api.server.config import Settings
from api.server.folder import ZIP_MEDIA, stored_text
from api.server.jobs import pack_problems, text_source
from api.server.limits import read_body
from api.server.models import Published, Validation
from api.server.problems import ApiProblem
from api.server.redact import Redactor
from api.server.registry import (
    NotOwner,
    QuotaExceeded,
    Quotas,
    VersionConflict,
    content_hash,
    new_record,
)
from api.server.responses import json_response, require_media
from api.server.routes.deps import CatalogDep, PoolDep, RedactDep, SettingsDep
from api.server.worker import WorkerPool

router = APIRouter(prefix="/v1", tags=["publishing"])
# use fullmatch
VERSION = re.compile(r"[0-9]{1,9}\.[0-9]{1,9}\.[0-9]{1,9}(-[a-z]{1,5}(\.?[0-9]{1,9})?)?")
PACK_MEDIA = (
    "application/yaml",
    "application/x-yaml",
    "text/yaml",
    "text/x-yaml",
    "text/plain",
    ZIP_MEDIA,
)


async def _header(
    body: bytes, workers: WorkerPool, timeout: float
) -> tuple[dict[str, Any], list[dict[str, object]]]:
    """The posted document's pack, version and extends,
    or the problems that stop it from loading."""
    outcome = await workers.run({"kind": "header", "text": body}, timeout)
    if "problem" in outcome:
        raise ApiProblem(outcome["problem"], outcome["detail"])
    if "problems" in outcome:
        return {}, list(outcome["problems"])
    return dict(outcome["header"]), []


async def _read_pack(request: Request, settings: Settings) -> tuple[bytes, list[dict[str, object]]]:
    """The posted pack as the registry stores it: one YAML document as sent, or the canonical
    stream of a folder's files posted as a stream or as a zip archive (:mod:`api.server.folder`).
    """
    kind = require_media(request, PACK_MEDIA, default="application/yaml")
    body = await read_body(request, settings.max_body_bytes)
    if len(body) > settings.max_pack_bytes:
        raise ApiProblem(
            "payload-too-large",
            f"the pack is {len(body):,} bytes; a pack may be at most "
            f"{settings.max_pack_bytes:,} bytes: split it into packs that extend each other",
        )
    body, refused = await run_in_threadpool(
        stored_text, body, kind == ZIP_MEDIA, settings.max_pack_bytes
    )
    if refused:
        return body, pack_problems(refused)
    if len(body) > settings.max_pack_bytes:
        raise ApiProblem(
            "payload-too-large",
            f"the pack's files add up to {len(body):,} bytes; a pack may be at most "
            f"{settings.max_pack_bytes:,} bytes: split it into packs that extend each other",
        )
    return body, []


async def _compile(
    body: bytes,
    data: dict[str, Any],
    owner: str | None,
    catalog: Catalog,
    workers: WorkerPool,
    timeout: float,
    redact: Redactor,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Compile in a worker; returns (outcome with redacted problems, pins as records)."""
    pins = await run_in_threadpool(catalog.pins, data.get("extends") or [], owner)
    parents = await run_in_threadpool(catalog.parents, {k: r.version for k, r in pins.items()})
    job = {"kind": "check", "source": text_source(body, "<request>", parents)}
    outcome = await workers.run(job, timeout)
    if "problem" in outcome:
        raise ApiProblem(outcome["problem"], outcome["detail"])
    outcome["problems"] = redact(outcome["problems"])
    return outcome, pins


@router.post(
    "/validate",
    summary="Check a pack's YAML; nothing is stored",
    response_model=None,
    openapi_extra={"requestBody": doc.PACK_BODY},
    responses={
        **doc.ok(Validation, "Every problem found (line, column, code); valid if none is an error"),
        **doc.problems(401, 413, 415, 503, 504),
    },
)
async def validate(
    request: Request,
    catalog: CatalogDep,
    workers: PoolDep,
    settings: SettingsDep,
    redact: RedactDep,
    owner: Owner,
) -> Response:
    body, refused = await _read_pack(request, settings)
    if refused:
        return json_response({"valid": False, "problems": redact(refused), "pack": None})
    data, problems = await _header(body, workers, settings.eval_timeout)
    if problems:
        return json_response({"valid": False, "problems": redact(problems), "pack": None})
    outcome, _ = await _compile(body, data, owner, catalog, workers, settings.eval_timeout, redact)
    valid = outcome["meta"] is not None
    meta = outcome["meta"]
    return json_response(
        {
            "valid": valid,
            "problems": outcome["problems"],
            "pack": {
                k: meta[k]
                for k in (
                    "pack",
                    "version",
                    "visibility",
                    "industry",
                    "title",
                    "inputs",
                    "metrics",
                    "checks",
                )
            }
            if meta
            else None,
        }
    )


@router.post(
    "/packs",
    summary="Publish a pack version",
    response_model=None,
    status_code=201,
    openapi_extra={"requestBody": doc.PACK_BODY, doc.TOKEN_REQUIRED: True},
    responses={
        201: {"model": Published, "description": "Stored: a new version"},
        **doc.ok(Published, "The same content was already published: nothing changed"),
        **doc.problems(401, 403, 409, 413, 415, 422, 503, 504),
    },
)
async def publish(
    request: Request,
    catalog: CatalogDep,
    workers: PoolDep,
    settings: SettingsDep,
    redact: RedactDep,
    owner: RequiredOwner,
) -> Response:
    body, refused = await _read_pack(request, settings)
    if refused:
        raise ApiProblem("pack-invalid", "the archive is refused", problems=redact(refused))
    data, problems = await _header(body, workers, settings.eval_timeout)
    if problems:
        raise ApiProblem("pack-invalid", "the pack cannot be read", problems=redact(problems))
    pack = data.get("pack")
    if isinstance(pack, str) and PACK_ID.fullmatch(pack):
        await run_in_threadpool(_may_publish, catalog, pack, owner)
        same = await run_in_threadpool(_existing, catalog, pack, str(data.get("version")), body)
        if same is not None:
            return json_response(same, 200, headers={"Location": _location(same)})
    outcome, pins = await _compile(
        body, data, owner, catalog, workers, settings.eval_timeout, redact
    )
    meta = outcome["meta"]
    if meta is None:
        errors = [p for p in outcome["problems"] if p["severity"] == "error"]
        raise ApiProblem(
            "pack-invalid",
            f"the pack has {len(errors)} error(s); nothing was stored",
            problems=outcome["problems"],
        )
    # the schema refuses these; never store an id or version that slipped past it
    if not PACK_ID.fullmatch(meta["pack"]):
        raise ApiProblem(
            "pack-invalid",
            "the pack id must be 2-64 lowercase letters, digits or '-', starting "
            "with a letter, and nothing else (no spaces or line breaks)",
        )
    if not VERSION.fullmatch(meta["version"]):
        raise ApiProblem(
            "pack-invalid",
            "the version must be MAJOR.MINOR.PATCH (e.g. 1.0.0) and nothing else "
            "(no spaces or line breaks)",
        )
    await run_in_threadpool(_may_publish, catalog, meta["pack"], owner)
    private_parents = sorted(k for k, r in pins.items() if r.visibility == "private")
    if meta["visibility"] != "private" and private_parents:
        raise ApiProblem(
            "extends-private",
            f"this public pack extends the private pack(s) "
            f"{', '.join(private_parents)}, whose definitions it would make public: "
            "publish it with 'visibility: private', or make those packs public first",
        )
    record = new_record(
        meta["pack"],
        meta["version"],
        body,
        owner,
        meta["visibility"],
        {k: r.version for k, r in pins.items()},
        [p for p in outcome["problems"] if p["severity"] != "error"],
        meta["summary"],
    )
    quotas = Quotas(settings.quota_packs, settings.quota_versions, settings.quota_bytes)
    try:
        stored, created = await run_in_threadpool(catalog.registry.publish, record, body, quotas)
    except NotOwner:
        raise ApiProblem(
            "forbidden", f"the pack '{record.pack}' belongs to another owner"
        ) from None
    except QuotaExceeded as err:
        raise ApiProblem("quota-exceeded", str(err)) from None
    except VersionConflict:
        raise _conflict(record.pack, record.version) from None
    value = stored.to_json()
    return json_response(value, 201 if created else 200, headers={"Location": _location(value)})


def _location(record: dict[str, Any]) -> str:
    """The new version's address, percent-encoded (a header cannot carry a raw id's every byte)."""
    return (
        f"/v1/packs/{quote(str(record['pack']), safe='')}"
        f"?version={quote(str(record['version']), safe='')}"
    )


def _conflict(pack: str, version: str) -> ApiProblem:
    return ApiProblem(
        "version-conflict",
        f"{pack} {version} is already published with different content; "
        "versions are immutable: publish it under a new version",
    )


def _may_publish(catalog: Catalog, pack: str, owner: str) -> None:
    if pack in catalog.builtin_ids:
        raise ApiProblem(
            "forbidden", f"'{pack}' is a built-in pack: choose another id, or extend it"
        )
    have = catalog.registry.pack_owner(pack)
    if have is not None and have != owner:
        raise ApiProblem(
            "forbidden",
            f"the pack '{pack}' belongs to another owner; only they may publish versions of it",
        )


def _existing(catalog: Catalog, pack: str, version: str, body: bytes) -> dict[str, Any] | None:
    """The stored record if this exact content is already
    published (a no-op); 409 if other content is."""
    for rec in catalog.registry.versions(pack):
        if rec.version == version:
            if rec.sha256 != content_hash(body):
                raise _conflict(pack, version)
            return rec.to_json()
    return None
