"""What an evaluation worker does: compile a pack (cached), read a request body, evaluate.

These are plain functions over picklable dicts so that they run the same in a worker process
(:mod:`api.server.worker`) and in tests. A job never raises: it returns an *outcome*,
``{"body": bytes}`` or ``{"problem": slug, "detail": str, **extra}``.

    job = {"kind": "evaluate", "key": str | None, "source": Source, "body": bytes,
           "media": "json" | "csv" | "xlsx", "options": dict | None, "max_rows": int,
           "records_of": str | None,    # CSV/xlsx: the body holds this source's raw records
           "sheet": str | None,         # xlsx: the sheet read (default the first)
           "max_values": int | None, "max_bytes": int | None,  # result caps (413 result-too-large)
           "page": Page | None}         # the report page's evaluation (api.web.report)
    Page = {"view": [metric id, …] | None, "max_values": int}  # JSON: only what the page reads
    job = {"kind": "check", "source": Source}
    job = {"kind": "header", "text": bytes}    # a posted pack's top-level keys, parsed here
    Source = {"builtin": "<pack dir>"} | {"text": bytes, "name": str, "parents": Parents | None}
    Parents = {pack id: {"name": "<id>@<version>.yaml", "text": bytes}}   # the pinned packs
"""

from __future__ import annotations

import json
import threading
import traceback
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from api.server import sources
from api.server.models import EvaluateOptions
from api.server.problems import ApiProblem, clip, validation_errors
from engine.api import (
    BUILTIN_ROOT,
    XLSX_MEDIA_TYPE,
    Columns,
    CompiledPack,
    Evaluation,
    HeldPack,
    InputError,
    KpiError,
    PackError,
    PackLibrary,
    Problem,
    check_pack,
    check_text,
    decode_text,
    evaluate,
    evaluate_records,
    load_pack_text,
    read_csv_text,
    read_xlsx,
    render_workbook,
    to_columns,
)

Outcome = dict[str, Any]


def text_source(
    text: bytes, name: str, parents: dict[str, dict[str, Any]] | None
) -> dict[str, Any]:
    """A job's ``source`` for a pack given as YAML text (posted, or stored in the registry), with
    its pinned parents: the one place this shape is built."""
    return {"text": text, "name": name, "parents": parents}


MAX_NUMBER_DIGITS = 100


def library(parents: dict[str, dict[str, Any]] | None) -> PackLibrary:
    """Built-in packs, and the published packs that a pack extends held in memory (if any)."""
    held = {k: HeldPack(str(v["name"]), v["text"]) for k, v in (parents or {}).items()}
    return PackLibrary([BUILTIN_ROOT], held)


def compile_source(source: dict[str, Any]) -> tuple[CompiledPack | None, list[Problem]]:
    if "builtin" in source:
        return check_pack(Path(source["builtin"]), PackLibrary([BUILTIN_ROOT]))
    return check_text(source["text"], library(source.get("parents")), source["name"])


#: the memory of a compiled pack, estimated from what it holds: measured on generated packs of
#: 200-2,000 metrics (formula-heavy: ~10 KB per definition, ~100 B per YAML byte) and on a
#: description-heavy 1.8 MB pack of 1,500 metrics (~12 B per YAML byte); the sum errs high for both
COMPILED_BYTES_PER_YAML_BYTE = 12
COMPILED_BYTES_PER_DEFINITION = 12 * 1024
COMPILED_BASE_BYTES = 64 * 1024


def source_bytes(source: dict[str, Any]) -> int:
    """The YAML bytes of a pack source (a built-in pack's files summed)."""
    if "builtin" in source:
        folder = Path(source["builtin"])
        return sum(f.stat().st_size for f in folder.glob("*.y*ml") if f.is_file())
    return len(source["text"])


def compiled_weight(source: dict[str, Any], compiled: CompiledPack | None = None) -> int:
    """The estimated memory of a compiled pack, in
    bytes (of a pack that did not compile: its text)."""
    definitions = 0
    if compiled is not None:
        p = compiled.pack
        definitions = len(p.inputs) + len(p.metrics) + len(p.checks) + len(p.rules) + len(p.params)
    return (
        COMPILED_BASE_BYTES
        + COMPILED_BYTES_PER_YAML_BYTE * source_bytes(source)
        + COMPILED_BYTES_PER_DEFINITION * definitions
    )


class CompileCache:
    """Compiled packs by key (content hash and pinned parents), least recently used evicted past
    ``size`` packs or ``max_bytes`` of estimated memory (:func:`compiled_weight`)."""

    def __init__(self, size: int, max_bytes: int = 256 * 1024 * 1024) -> None:
        self.size = size
        self.max_bytes = max_bytes
        self._items: OrderedDict[str, tuple[tuple[CompiledPack | None, list[Problem]], int]] = (
            OrderedDict()
        )
        self._total = 0
        self._lock = threading.Lock()

    def get(
        self, key: str | None, source: dict[str, Any]
    ) -> tuple[CompiledPack | None, list[Problem]]:
        if key is None:
            return compile_source(source)
        with self._lock:
            hit = self._items.get(key)
            if hit is not None:
                self._items.move_to_end(key)
                return hit[0]
        result = compile_source(source)
        weight = compiled_weight(source, result[0])
        with self._lock:
            if key not in self._items and weight <= self.max_bytes:
                self._items[key] = (result, weight)
                self._total += weight
                while len(self._items) > self.size or self._total > self.max_bytes:
                    self._total -= self._items.popitem(last=False)[1][1]
        return result

    @property
    def total_bytes(self) -> int:
        """The estimated memory held now."""
        return self._total

    def __len__(self) -> int:
        return len(self._items)


def problem(slug: str, detail: str, **extra: Any) -> Outcome:
    return {"problem": slug, "detail": detail, **extra}


def pack_problems(problems: list[Problem]) -> list[dict[str, object]]:
    return [p.to_json() for p in problems]


# -- request bodies --------------------------------------------------------------------------
def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number JSON allows")


def _bounded_int(text: str) -> int:
    if len(text.lstrip("-")) > MAX_NUMBER_DIGITS:
        raise ValueError(
            f"a number with {len(text):,} digits is too long (at most {MAX_NUMBER_DIGITS})"
        )
    return int(text)


def loads(body: bytes) -> Any:
    """Strict JSON: no NaN / Infinity, no absurdly long integers. Raises ValueError."""
    try:
        data = json.loads(body, parse_constant=_reject_constant, parse_int=_bounded_int)
    except RecursionError:
        raise ValueError("the JSON nests too deeply") from None
    if b"\\u" in body:  # only an escape can smuggle a lone surrogate past UTF-8 decoding
        try:
            json.dumps(data, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError:
            raise ValueError(
                "the JSON holds an unpaired surrogate escape (\\ud800-\\udfff)"
            ) from None
    return data


def read_json(
    body: bytes, max_rows: int
) -> tuple[list[Any] | dict[str, list[Any]], EvaluateOptions] | Outcome:
    """The rows (a list) or the sources' records (``{source id: [record, …]}``), and the options."""
    try:
        data = loads(body)
    except ValueError as err:
        return problem("malformed-body", f"the body is not valid JSON: {clip(str(err))}")
    if isinstance(data, dict):  # null is absent, as the request's schema says
        data = {k: v for k, v in data.items() if not (k in ("rows", "sources") and v is None)}
    if not isinstance(data, dict) or ("rows" not in data and "sources" not in data):
        return problem(
            "invalid-request",
            "the body must be a JSON object with 'rows' (a list of row "
            "objects) or 'sources' (the records of the pack's sources, by "
            "source id) and optional grain, by, metrics, params, locale, trace",
            errors=[{"location": "body.rows", "message": "Field required"}],
        )
    if "rows" in data and "sources" in data:
        return problem(
            "invalid-request",
            "send either 'rows' (input rows) or 'sources' (raw records to compute "
            "the inputs from), not both",
            errors=[{"location": "body.sources", "message": "give rows or sources, not both"}],
        )
    if "sources" in data:
        return _read_sources(data, max_rows)
    rows = data.pop("rows")
    if not isinstance(rows, list):
        return problem(
            "invalid-request",
            "'rows' must be a list of row objects",
            errors=[{"location": "body.rows", "message": "Input should be a valid list"}],
        )
    if len(rows) > max_rows:
        return problem(
            "too-many-rows",
            f"{len(rows):,} rows; one evaluation takes at most {max_rows:,}",
            code="KPI-E009",
        )
    options = _options(data)
    return options if isinstance(options, dict) else (rows, options)


def _read_sources(
    data: dict[str, Any], max_rows: int
) -> tuple[dict[str, list[Any]], EvaluateOptions] | Outcome:
    given = data.pop("sources")
    if not isinstance(given, dict) or not given:
        return problem(
            "invalid-request",
            "'sources' must be an object of source id: [record, …] with at least one source",
            errors=[{"location": "body.sources", "message": "Input should be a non-empty object"}],
        )
    for sid, records in given.items():
        if not isinstance(records, list):
            return problem(
                "invalid-request",
                f"sources.{clip(sid, 60)} must be a list of record objects",
                errors=[
                    {
                        "location": f"body.sources.{clip(sid, 60)}",
                        "message": "Input should be a valid list",
                    }
                ],
            )
    count = sum(len(records) for records in given.values())
    if count > max_rows:
        return problem(
            "too-many-rows",
            f"{count:,} records in 'sources'; one evaluation takes at most {max_rows:,}",
            code="KPI-E009",
        )
    options = _options(data)
    return options if isinstance(options, dict) else (given, options)


def _options(data: dict[str, Any]) -> EvaluateOptions | Outcome:
    try:
        return EvaluateOptions.model_validate(data)
    except ValidationError as err:
        errors = [
            {**e, "location": f"body.{e['location']}"} for e in validation_errors(err.errors())
        ]
        return problem(
            "invalid-request",
            "invalid options: " + ", ".join(e["location"] for e in errors[:3]),
            errors=errors,
        )


def read_csv(body: bytes, max_rows: int, label: str = "the CSV body") -> Columns | Outcome:
    """A CSV body (header row first) as text columns, exactly as ``kpi eval --inputs file.csv``
    (UTF-8, UTF-16 with a mark, or GB18030 Chinese text: engine.core.encodings)."""
    try:
        text, _ = decode_text(body, source=label)
        return read_csv_text(text, source=label, max_rows=max_rows)
    except InputError as err:
        if err.code == "KPI-E003":  # not text: the hint says how to save it as UTF-8
            return problem(
                "malformed-body", clip(err.reason), code=err.code, errors=[err.to_json()]
            )
        if err.kind == "too_many_rows":
            return problem(
                "too-many-rows",
                f"more than {max_rows:,} rows; one evaluation takes at most {max_rows:,}",
                code=err.code,
            )
        if err.kind == "malformed":
            return problem("malformed-body", clip(err.reason), code=err.code)
        return input_problem(err)


def read_workbook(
    body: bytes, max_rows: int, sheet: str | None, *, label: str, text: bool
) -> Columns | Outcome:
    """An .xlsx body's sheet as columns: typed cells for input rows, or (``text``) the text of
    each cell as a CSV of the sheet holds it, for a source's raw records."""
    try:
        return read_xlsx(body, sheet, source=label, text=text, max_rows=max_rows)
    except InputError as err:
        if err.kind == "too_many_rows":
            return problem(
                "too-many-rows",
                f"more than {max_rows:,} rows; one evaluation takes at most {max_rows:,}",
                code=err.code,
            )
        if err.code == "KPI-E048":  # not a workbook at all
            return problem(
                "malformed-body", clip(err.reason), code=err.code, errors=[err.to_json()]
            )
        return input_problem(err)


def input_problem(err: KpiError) -> Outcome:
    if isinstance(err, InputError):
        info = err.to_json()
        info["reason"] = clip(str(info["reason"]))
        if isinstance(info.get("column"), str):
            info["column"] = clip(str(info["column"]), 100)
        return problem("invalid-input", clip(str(err)), code=err.code, errors=[info])
    return problem(  # another engine error (none is expected here): no KPI-E… code
        "invalid-input",
        clip(str(err)),
        code=None,
        errors=[
            {"code": None, "row": None, "column": None, "reason": clip(str(err)), "hint": None}
        ],
    )


# -- jobs ----------------------------------------------------------------------------------
def run_evaluate(job: dict[str, Any], cache: CompileCache) -> Outcome:
    """Evaluate input rows, or compute the inputs from the sources' raw records first (handed to
    the engine as in-memory tables: nothing is written to disk)."""
    compiled, problems = cache.get(job.get("key"), job["source"])
    if compiled is None:
        return problem(
            "pack-invalid",
            "the stored pack does not compile with this server's built-in packs",
            problems=pack_problems(problems),
        )
    try:
        read = _read_request(job, compiled)
    except ApiProblem as err:
        return problem(err.type.slug, err.detail, **err.extra)
    if isinstance(read, dict):
        return read
    data, options = read
    limits = (job.get("max_values"), job.get("max_bytes"))
    if not isinstance(data, dict):
        return _evaluate(
            compiled,
            lambda: evaluate(
                compiled,
                to_columns(data),
                grain=options.grain,
                by=options.by,
                metrics=options.metrics,
                params=options.params,
                locale=options.locale,
                trace=options.trace,
                as_of=options.as_of,
            ),
            options,
            limits,
            job.get("output", "json"),
            job.get("page"),
        )
    return _evaluate(
        compiled,
        lambda: evaluate_records(
            compiled,
            data,
            grain=options.grain,
            by=options.by,
            metrics=options.metrics,
            params=options.params,
            locale=options.locale,
            trace=options.trace,
            as_of=options.as_of,
        ),
        options,
        limits,
        job.get("output", "json"),
        job.get("page"),
    )


Read = tuple[Any, EvaluateOptions]  # input rows or Columns, or {source id: Columns} of raw records


def _read_request(job: dict[str, Any], compiled: CompiledPack) -> Read | Outcome:
    """The body as input rows (a list or :class:`Columns`)
    or as records by source; raises ApiProblem."""
    if job["media"] in ("csv", "xlsx"):
        options = EvaluateOptions.model_validate(job.get("options") or {})
        sid = job.get("records_of")
        if sid is not None:
            sources.check_sources(compiled, [sid], "query.source")
            table = _read_table(job, f"the {job['media'].upper()} of source '{sid}'", text=True)
            if isinstance(table, dict):
                return table
            if table.n == 0:
                raise sources.no_records(sid)
            return {sid: table}, options
        rows = _read_table(job, f"the {job['media'].upper()} body", text=False)
        return rows if isinstance(rows, dict) else (rows, options)
    parsed = read_json(job["body"], job["max_rows"])
    if isinstance(parsed, dict):
        return parsed
    data, options = parsed
    if isinstance(data, dict):  # {source id: [record, …]}
        sources.check_sources(compiled, data, "body.sources")
        return sources.json_tables(data), options
    return data, options


def _read_table(job: dict[str, Any], label: str, *, text: bool) -> Columns | Outcome:
    if job["media"] == "xlsx":
        return read_workbook(job["body"], job["max_rows"], job.get("sheet"), label=label, text=text)
    return read_csv(job["body"], job["max_rows"], label=label)


def _evaluate(
    compiled: CompiledPack,
    run: Callable[[], Evaluation],
    options: EvaluateOptions,
    limits: tuple[int | None, int | None] = (None, None),
    output: str = "json",
    page: dict[str, Any] | None = None,
) -> Outcome:
    """The outcome of an evaluation: its JSON, or (``output`` "xlsx") its Excel workbook.

    ``page``: the report page's evaluation. Its JSON holds only what the page reads (with a
    view: the view's metrics and the names of the rules judged, so that a view never hides a
    fired rule), and the page's value cap counts those values."""
    max_values, max_bytes = limits
    try:
        result = run()
        shown = page_names(result, page) if output == "json" else None
        for width, cap in (
            (len(result.plan.output), max_values),
            (
                len(result.plan.output) if shown is None else len(shown),
                (page or {}).get("max_values"),
            ),
        ):
            values = len(result) * width
            if cap is not None and values > cap:
                return too_large(
                    f"the result would hold {len(result):,} rows x {width:,} "
                    f"values = {values:,} values; the limit is {cap:,}",
                    page=page is not None and output == "json",
                    values=values,
                    limit=cap,
                )
        if output == "xlsx":
            body = render_workbook(result)
        else:
            data = result.to_json(formatted=options.formatted)
            if shown is not None:
                narrow(data, shown)
            body = json.dumps(
                data,
                ensure_ascii=False,
                allow_nan=False,
                separators=(",", ":"),
            ).encode("utf-8")
    except PackError as err:
        return problem("pack-invalid", clip(str(err)), problems=pack_problems(err.problems))
    except KpiError as err:
        return input_problem(err)
    if max_bytes is not None and len(body) > max_bytes:
        return too_large(
            f"the result is {len(body):,} bytes of {'workbook' if output == 'xlsx' else 'JSON'}; "
            f"the limit is {max_bytes:,}",
            bytes=len(body),
            limit=max_bytes,
        )
    if output == "xlsx":
        return {"body": body, "media": XLSX_MEDIA_TYPE}
    if page is not None:  # the page's grain menu: the data's grain, as the engine read it
        return {"body": body, "data_grain": result.plan.data_grain}
    return {"body": body}


def too_large(what: str, *, page: bool = False, **extra: Any) -> Outcome:
    if page:  # the report page's own choices
        advice = "show totals (by: none), a coarser grain, a view, or fewer rows"
    else:
        advice = (
            "ask for fewer metrics (metrics=...), a coarser grain (grain=month, quarter, year "
            "or all), fewer dimensions (by=, empty for totals), a shorter period, or no trace"
        )
    return problem("result-too-large", f"{what}: {advice}", **extra)


def page_names(result: Evaluation, page: dict[str, Any] | None) -> set[str] | None:
    """What the report page reads of a result with a view (None: every value): the view's
    metrics, and every name of the rules judged and their metrics."""
    view = page.get("view") if page else None
    if view is None:
        return None
    c = result.plan.compiled
    keep = set(view)
    for rid in result.plan.rules:
        keep |= c.rules[rid].names
        metric = c.pack.rules[rid].metric
        if metric:
            keep.add(metric)
    return keep & set(result.plan.output)


def narrow(data: dict[str, Any], names: set[str]) -> None:
    """Keep only ``names`` in each row's values and what is said of them."""
    for row in data["rows"]:
        for key in ("values", "formatted", "undefined", "bands", "implausible", "trace"):
            if isinstance(row.get(key), dict):
                row[key] = {k: v for k, v in row[key].items() if k in names}


#: a summary keeps at most this many languages of a text, and this many characters of each
SUMMARY_LOCALES = 8
SUMMARY_TITLE_CHARS = 200
SUMMARY_DESCRIPTION_CHARS = 1000


def _clipped(items: tuple[tuple[str, str], ...], chars: int) -> list[list[str]]:
    return [
        [k[:16], v if len(v) <= chars else v[: chars - 1] + "…"] for k, v in items[:SUMMARY_LOCALES]
    ]


def summary_of(compiled: CompiledPack) -> dict[str, Any]:
    """What a listing shows of a pack, stored with each published version (bounded in size)."""
    p = compiled.pack
    return {
        "version": p.version,
        "title": _clipped(p.title.items, SUMMARY_TITLE_CHARS),
        "description": _clipped(p.description.items, SUMMARY_DESCRIPTION_CHARS),
        "industry": (p.industry or "")[:200] or None,
        "locales": [str(x)[:16] for x in p.locales[:SUMMARY_LOCALES]],
        "counts": {
            "inputs": len(p.inputs),
            "metrics": len(p.metrics),
            "checks": len(p.checks),
            "rules": len(p.rules),
        },
    }


def run_header(job: dict[str, Any]) -> Outcome:
    """Read a posted pack's top-level keys (in the worker: parsing is bounded by its deadline and
    memory limit). ``{"header": {pack, version, visibility, extends}}`` or
    ``{"problems": [...]}``."""
    source, problems = load_pack_text(job["text"], "<request>")
    if source is None or any(p.severity == "error" for p in problems):
        return {"problems": pack_problems(problems)}
    data = source.data
    extends = data.get("extends")
    return {
        "header": {
            "pack": data.get("pack") if isinstance(data.get("pack"), str) else None,
            "version": str(data.get("version")),
            "extends": [e for e in extends if isinstance(e, str)]
            if isinstance(extends, list)
            else [],
        }
    }


def run_check(job: dict[str, Any]) -> Outcome:
    compiled, problems = compile_source(job["source"])
    meta: dict[str, Any] | None = None
    if compiled is not None:
        p = compiled.pack
        meta = {
            "pack": p.id,
            "version": p.version,
            "visibility": p.visibility,
            "industry": p.industry,
            "title": p.title.to_json(),
            "inputs": len(p.inputs),
            "metrics": len(p.metrics),
            "checks": {k: v.to_json() for k, v in compiled.proofs.items()},
            "summary": summary_of(compiled),
        }
    return {"problems": pack_problems(problems), "meta": meta}


def out_of_memory() -> Outcome:
    """The worker hit its memory limit: it is replaced after answering (``recycle``)."""
    return problem(
        "out-of-memory",
        "the work needed more memory than an evaluation worker may use: send fewer rows, "
        "ask for fewer metrics or dimensions, or a coarser grain",
        recycle=True,
    )


def run(job: dict[str, Any], cache: CompileCache) -> Outcome:
    """Run one job; a bug becomes an ``internal-error`` outcome (its traceback goes to the log
    only)."""
    try:
        if job["kind"] == "evaluate":
            return run_evaluate(job, cache)
        if job["kind"] == "check":
            return run_check(job)
        if job["kind"] == "header":
            return run_header(job)
        return problem("internal-error", "unknown job")
    except MemoryError:
        return out_of_memory()
    except Exception as err:  # a bug: log it on the server, tell the client nothing of it
        if (
            type(err).__name__ == "OutOfMemoryException"
        ):  # DuckDB's, under the worker's memory limit
            return out_of_memory()
        traceback.print_exc()
        return problem(
            "internal-error", "the evaluation failed unexpectedly; the error has been logged"
        )
