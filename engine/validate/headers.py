"""KPI-R023 a source's ``headers`` maps a name that is no column of the source, KPI-R024 two
columns of a source read from one header of the file (docs/measures.md, "Headers")."""

from __future__ import annotations

from collections.abc import Iterator

from engine.core.model import DataSource
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
        if source.headers:
            yield from _check(sid, source)


def _check(sid: str, source: DataSource) -> Iterator[Problem]:
    src = source.field_source("headers")
    known = source_columns(source)
    for name in source.headers:
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
