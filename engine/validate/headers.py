"""KPI-R023 a source's ``headers`` maps a name that is no column of the source (or to a blank
header), KPI-R024 two columns of a source read from one header of the file (docs/measures.md,
"Headers"), KPI-R027 a ``recode`` of a column the source lacks or into a value it does not
allow, and the
warning KPI-R025: an input's or dimension's label that data rows could not be headed by, since
it is another one's label or id too (docs/evaluation.md, "Column headers")."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator

from engine.core.model import DataSource, Definition
from engine.core.problems import Problem
from engine.validate.context import Context, suggest


def source_columns(source: DataSource) -> set[str]:
    """The columns a source knows: its time, dimension and entity columns, and its declared
    ``columns``."""
    return {
        source.time,
        *source.dimensions.values(),
        *([source.entity] if source.entity else []),
        *source.columns,
    }


def check_headers(ctx: Context) -> Iterator[Problem]:
    for sid, source in ctx.pack.sources.items():
        if source.headers or source.recode:
            yield from _check(sid, source)
    yield from _shared_labels(ctx)


def _key(text: str) -> str:
    """As engine.evaluate.headers compares a header with a label (NFKC, trimmed, case folded)."""
    return unicodedata.normalize("NFKC", text).strip().casefold()


def _shared_labels(ctx: Context) -> Iterator[Problem]:
    pack = ctx.pack
    defs: list[tuple[str, Definition]] = [
        *(("input", d) for d in pack.inputs.values()),
        *(("dimension", d) for d in pack.dimensions.values()),
    ]
    owner: dict[str, str] = {d.id: f"the id of {kind} '{d.id}'" for kind, d in defs}
    owner["period"] = "a name of the period column"
    for name in ("期间", "月份", "年月"):
        owner[_key(name)] = "a name of the period column"
    labels: dict[str, tuple[str, str]] = {}  # key -> (id, how)
    for kind, d in defs:
        for locale, text in d.label.items:
            key = _key(text)
            if not key:
                continue
            first = labels.setdefault(key, (d.id, f"the {locale} label of {kind} '{d.id}'"))
            clash = (
                first[1]
                if first[0] != d.id
                else owner.get(key)
                if key in owner and key != d.id
                else None
            )
            if clash is None:
                continue
            yield Problem.at(
                "KPI-R025",
                f"{kind} '{d.id}': its {locale} label '{text}' is also {clash}, so a column of "
                "data headed by it would be refused",
                d.loc("label"),
                path=f"{d.source.dotted}.label.{locale}",
                hint="give it a label of its own",
            )


def _check(sid: str, source: DataSource) -> Iterator[Problem]:
    src = source.field_source("headers")
    known = source_columns(source)
    for name, header in source.headers.items():
        if not header.strip():
            yield Problem.at(
                "KPI-R023",
                f"source '{sid}': headers maps '{name}' to a blank header",
                src.doc.key_loc((*src.path, "headers", name)),
                path=f"sources.{sid}.headers.{name}",
                hint="write the header of the column in the file, e.g. 会员编号",
            )
        if name not in known:
            yield Problem.at(
                "KPI-R023",
                f"source '{sid}': headers maps '{name}', which is not a column of the source",
                src.doc.key_loc((*src.path, "headers", name)),
                path=f"sources.{sid}.headers.{name}",
                hint=suggest(name, known)
                or f"declare it under sources.{sid}.columns, or map one of: "
                + ", ".join(sorted(known)),
            )
    for name, codes in source.recode.items():
        where = src.doc.key_loc((*src.path, "recode", name))
        if name not in known:
            yield Problem.at(
                "KPI-R027",
                f"source '{sid}': recode names '{name}', which is not a column of the source",
                where,
                path=f"sources.{sid}.recode.{name}",
                hint=suggest(name, known) or "recode one of: " + ", ".join(sorted(known)),
            )
            continue
        declared = source.columns.get(name)
        allowed = declared.values if declared is not None else None
        for written, value in codes.items():
            if allowed and value not in allowed:
                yield Problem.at(
                    "KPI-R027",
                    f"source '{sid}': recode reads '{written}' in column '{name}' as "
                    f"'{value}', which is not one of its values ({', '.join(allowed)})",
                    src.doc.key_loc((*src.path, "recode", name, written)),
                    path=f"sources.{sid}.recode.{name}.{written}",
                    hint=suggest(value, set(allowed)) or f"use one of: {', '.join(allowed)}",
                )
    read_from: dict[str, str] = {}  # header in the file -> the column read from it
    for name in sorted(known | set(source.headers)):
        header = source.headers.get(name, name).strip()
        other = read_from.get(header)
        if other is None:
            read_from[header] = name
            continue
        mapped = name if name in source.headers else other
        yield Problem.at(
            "KPI-R024",
            f"source '{sid}': columns '{other}' and '{name}' would both be read from the "
            f"header '{header}'",
            src.doc.key_loc((*src.path, "headers", mapped)),
            path=f"sources.{sid}.headers.{mapped}",
            hint="map each column to a header of its own",
        )
