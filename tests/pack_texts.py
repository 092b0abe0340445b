"""Every localized text of a pack (labels, descriptions, benchmarks, details, causes, scenarios,
band labels and advice), for the tests that check the built-in packs are bilingual."""

from __future__ import annotations

from collections.abc import Iterator

from engine.compile.pack import CompiledPack
from engine.core.model import Text


def localized_texts(c: CompiledPack) -> Iterator[tuple[str, Text]]:
    p = c.pack
    for section in (
        "inputs",
        "params",
        "metrics",
        "checks",
        "rules",
        "remedies",
        "views",
        "roles",
        "dimensions",
    ):
        for ident, d in p.section(section).items():
            for name in ("label", "description", "benchmark", "detail"):
                value = getattr(d, name, None)
                if isinstance(value, Text) and value:
                    yield f"{section}.{ident}.{name}", value
            for i, t in enumerate(getattr(d, "causes", ()) + getattr(d, "scenarios", ())):
                yield f"{section}.{ident}.text{i}", t
            for i, b in enumerate(getattr(d, "bands", ())):
                for name in ("label", "advice"):
                    if getattr(b, name):
                        yield f"{section}.{ident}.bands.{i}.{name}", getattr(b, name)
