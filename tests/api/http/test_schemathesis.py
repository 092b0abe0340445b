"""Property-based: schemathesis against the live OpenAPI document of the app.

Every operation gets a bounded number of generated requests (valid and invalid ones); none may
answer 5xx, and every answer must match its documented status, content type and schema.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from api.server import Settings, create_app
from api.server.registry import Registry

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
# an .xlsx body is raw bytes: generated like any binary body (mostly not a workbook: a 400)
schemathesis.serializer.alias(
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "application/octet-stream"
)
# the schema is loaded when the module is collected
_DATA = Path(tempfile.mkdtemp(prefix="kpi-schemathesis-"))
APP = create_app(
    Settings(data_dir=_DATA, rate_limit=0, eval_workers=2, eval_timeout=20, max_rows=1000)
)
TOKEN = Registry(_DATA).create_key("fuzzer")
schema = schemathesis.openapi.from_asgi("/openapi.json", APP)


@pytest.fixture(scope="module", autouse=True)
def _cleanup() -> Iterator[None]:
    yield
    APP.state.pool.close()
    shutil.rmtree(_DATA, ignore_errors=True)


@schema.parametrize()
@settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
        HealthCheck.data_too_large,
    ],
)
def test_no_server_errors_and_responses_match_the_schema(case: schemathesis.Case) -> None:
    case.call_and_validate(checks=CHECKS, headers={"Authorization": f"Bearer {TOKEN}"})
