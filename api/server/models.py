"""The API's shapes, for the OpenAPI document (and to validate evaluation options).

Responses are built by the engine (spec §9–§10) and written as JSON directly; these models
describe them. Engine-defined objects allow extra keys: the contract says "more keys are
welcome", and the models name the ones clients can rely on.
"""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    JsonValue,
    StrictBool,
    StrictFloat,
    StrictInt,
    StrictStr,
)

Grain = Literal["day", "week", "month", "quarter", "year", "all"]


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow")


# -- errors ------------------------------------------------------------------------------
class PackProblem(BaseModel):
    """A problem found in a pack (the engine's problem as data: docs/errors.md)."""

    code: str = Field(examples=["KPI-R001"])
    title: str | None = Field(
        None,
        examples=["未知引用"],
        description="With `Accept-Language: zh` only: the code's title in Chinese (docs/errors.md)",
    )
    severity: Literal["error", "warning"]
    message: str
    file: str | None = Field(
        None,
        description="`<request>` for a posted pack, `metrics/…` for a built-in one, "
        "`<pack>@<version>.yaml` for a published one",
    )
    line: int | None = None
    column: int | None = None
    path: str = Field("", description="Path of keys in the document, e.g. `metrics.cac.formula`")
    hint: str | None = None


class InputProblem(BaseModel):
    """What is wrong with evaluation data: 1-based data row (not counting a CSV header) and \
column."""

    code: str | None = Field(
        None, examples=["KPI-E017"], description="Its KPI-E… code (docs/errors.md)"
    )
    title: str | None = Field(
        None,
        examples=["不是数字"],
        description="With `Accept-Language: zh` only: the code's title in Chinese (docs/errors.md)",
    )
    row: int | None = None
    column: str | None = None
    reason: str
    hint: str | None = None


class RequestError(BaseModel):
    """A parameter or field of the request that is not valid (the value itself is never echoed)."""

    location: str = Field(examples=["query.format"])
    message: str


class Problem(BaseModel):
    """RFC 9457 problem details. `type` is stable; see docs/api.md for every type."""

    type: str = Field(examples=["https://kpi-forge.dev/problems/pack-invalid"])
    title: str = Field(
        description="The type's title: in Chinese after `Accept-Language: zh` (or zh-CN), "
        "else English"
    )
    status: int
    detail: str
    code: str | None = Field(
        None,
        examples=["KPI-E017"],
        description="For `invalid-input` (and `too-many-rows`, a `malformed-body` CSV): the "
        "KPI-E… code of the error (docs/errors.md)",
    )
    problems: list[PackProblem] | None = Field(
        None, description="For `pack-invalid`: every problem found"
    )
    errors: list[InputProblem | RequestError] | None = Field(
        None,
        description="For `invalid-input`: the bad row / "
        "column; for `invalid-request`: the bad parameters",
    )


# -- catalog -----------------------------------------------------------------------------
class Counts(BaseModel):
    inputs: int
    metrics: int
    checks: int
    rules: int


class PackSummary(BaseModel):
    id: str = Field(examples=["bakery-stored-value"])
    version: str = Field(examples=["1.0.0"])
    title: str
    industry: str | None = None
    visibility: Literal["public", "private"]
    builtin: bool
    owner: str | None = Field(None, description="The publisher; null for built-in packs")
    counts: Counts | None = Field(None, description="null if the pack no longer compiles")


class PackList(BaseModel):
    packs: list[PackSummary]


class VersionInfo(BaseModel):
    version: str
    builtin: bool
    sha256: str | None = None
    owner: str | None = None
    visibility: Literal["public", "private"]
    published_at: str | None = None


class VersionList(BaseModel):
    pack: str
    versions: list[VersionInfo]


class PackDocument(_Open):
    """The compiled pack: every definition, inherited ones included, with where it is defined."""

    id: str
    version: str
    title: dict[str, str]
    locales: list[str]
    grain: str
    extends: list[str]
    inputs: dict[str, dict[str, Any]]
    metrics: dict[str, dict[str, Any]]
    checks: dict[str, dict[str, Any]]
    rules: dict[str, dict[str, Any]]


class MetricDocument(_Open):
    id: str
    pack: str
    version: str
    formula: str


class Lineage(_Open):
    """Spec §10: what a metric is made of, down to the inputs, and where it is defined."""

    pack: str
    version: str
    metric: str
    label: str
    formula: str | None
    expanded: str | None = None
    latex: str | None = None
    inputs: list[str]
    params: list[str]
    upstream: dict[str, Any]
    downstream: list[str]
    defined_in: dict[str, Any]
    source: str | None = None


class Graph(_Open):
    pack: str
    version: str
    nodes: list[dict[str, Any]]
    edges: list[dict[str, Any]]
    order: list[list[str]]


# -- evaluation --------------------------------------------------------------------------
class EvaluateOptions(BaseModel):
    """Options of an evaluation (spec §9). In a JSON body beside `rows`; for CSV, query \
parameters."""

    model_config = ConfigDict(extra="forbid")

    grain: Grain | None = Field(None, description="Output grain: the rows' (default) or coarser")
    by: list[str] | None = Field(
        None, description="Dimensions kept (default: all present); [] totals"
    )
    metrics: list[str] | None = Field(
        None, description="Metrics to return (default: all the data allows)"
    )
    params: dict[str, StrictFloat | StrictInt | StrictStr] | None = Field(
        None, description="Param overrides for this evaluation: numbers (or numeric text)"
    )
    locale: str | None = Field(None, examples=["en"])
    trace: StrictBool = Field(False, description="Explain each value: its formula with the numbers")
    as_of: date | None = Field(
        None,
        description="The data is complete up to the end of this day (YYYY-MM-DD): "
        "later records or rows are left out and a period that goes on after it is "
        "`partial`. Default: for raw records (`sources`), the last record's day; for "
        "rows, none",
        examples=["2026-06-30"],
    )
    formatted: StrictBool = Field(
        False,
        description="Add each row's values as shown (`57.8%`) in `formatted`; `values` stay exact",
    )


Scalar = StrictStr | StrictFloat | StrictInt | StrictBool | None
_LEDGER: list[JsonValue] = [
    {
        "event_time": "2026-01-02 09:05:00",
        "store_id": "S1",
        "member_id": "M1",
        "kind": "recharge",
        "amount": 200,
        "net": 180,
        "gift": 20,
        "points": 0,
    },
    {
        "event_time": "2026-01-15 18:30:00",
        "store_id": "S1",
        "member_id": "M2",
        "kind": "register",
        "amount": 0,
        "net": 0,
        "gift": 0,
        "points": 0,
    },
]


class EvaluateRequest(EvaluateOptions):
    """The §9 request: input rows, or the raw records of the pack's sources (one of the two)."""

    rows: list[dict[str, Any]] | None = Field(
        None,
        description="One flat object per period and dimension member; `null` for a blank. "
        "Give `rows` or `sources`, not both",
        examples=[
            [{"period": "2026-01", "store": "S01", "marketing_spend": 100000, "new_members": 200}]
        ],
    )
    sources: dict[str, list[dict[str, Scalar]]] | None = Field(
        None,
        description="For a pack whose inputs are computed from `sources:` "
        "(docs/measures.md): the raw records of each of them, by source id, one flat object "
        "per record (text, numbers, true/false or `null`; a field a record lacks is blank). "
        "The records count against the row limit. Give `rows` or `sources`, not both",
        examples=[{"card_events": _LEDGER}],
    )

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "rows": [
                        {
                            "period": "2026-01",
                            "store": "S01",
                            "marketing_spend": 100000,
                            "new_members": 200,
                            "revenue": 50000,
                            "orders": 400,
                        }
                    ],
                    "by": [],
                    "metrics": ["cac", "avg_order_value"],
                    "locale": "en",
                },
                {"sources": {"card_events": _LEDGER}, "grain": "month", "by": [], "locale": "en"},
            ]
        },
    )


class EvaluatedRow(_Open):
    period: str = Field(
        description="2026-01, 2026-Q1, …; for grain all, the first and last base period "
        "(2025-01/2026-12)"
    )
    partial: bool = Field(
        description="The period goes on after the data's as_of day: it is not over"
    )
    dims: dict[str, str]
    values: dict[str, float | None] = Field(
        description="Exact values (full float64 precision); null when undefined"
    )
    undefined: dict[str, str]
    bands: dict[str, Any] = Field(description="The band each exact value is in")
    implausible: dict[str, str] = Field(
        description="Values outside their metric's domain (they get no band)"
    )
    rules: list[dict[str, Any]]
    checks: list[dict[str, Any]]


class EvaluationWarning(_Open):
    """Something the evaluation left out or doubts; the other keys name what (`metric`,
    `missing_inputs`, `check`, `rule`, `missing`, `input`, `column`, `value`, …)."""

    code: str = Field(examples=["KPI-W001"], description="Its KPI-W… code (docs/errors.md)")
    message: str


class Evaluation(BaseModel):
    """Spec §9: one row per output period and dimension member."""

    pack: str
    version: str
    pack_sha256: str = Field(description="SHA-256 of the pack's text")
    extends: dict[str, str] = Field(
        description="The version of every pack it inherits from, built-in ones included"
    )
    engine_version: str
    grain: str
    by: list[str]
    as_of: date | None = Field(
        description="The day the data is measured up to (null: every period is complete)"
    )
    rows: list[EvaluatedRow]
    warnings: list[EvaluationWarning]


# -- publishing --------------------------------------------------------------------------
class PackMeta(_Open):
    pack: str
    version: str
    visibility: str
    inputs: int
    metrics: int


class Validation(BaseModel):
    valid: bool
    problems: list[PackProblem]
    pack: PackMeta | None = Field(None, description="What was compiled, when the pack is valid")


class Published(BaseModel):
    """A stored version. Publishing the same content again returns this same body."""

    pack: str
    version: str
    sha256: str
    owner: str
    visibility: Literal["public", "private"]
    published_at: str
    extends_pinned: dict[str, str] = Field(
        description="Published packs this version extends, at the exact "
        "versions chosen when it was published"
    )
    warnings: list[PackProblem]


class Health(BaseModel):
    status: Literal["ok"]
    version: str
    workers: int
