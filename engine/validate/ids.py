"""KPI-R005 bad ids, KPI-R022 confusable ids,
KPI-R002 one id in two of inputs / metrics / params."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator

from engine.core.characters import confusable, describe_char, visible
from engine.core.model import NAMESPACE, SECTIONS, Definition
from engine.core.problems import Location, Problem
from engine.formula import RESERVED_WORDS
from engine.validate.context import Context


def check_ids(ctx: Context) -> Iterator[Problem]:
    for section in SECTIONS:
        for ident, d in ctx.pack.section(section).items():
            if not ident.isidentifier():
                bad = _first_bad(ident)
                if ident[:1].isdigit():
                    why, at = "starts with a digit", 0
                elif bad is None:
                    why, at = "holds characters other than letters, digits and _", 0
                else:
                    why, at = f"holds {describe_char(ident[bad])} at character {bad + 1}", bad
                    if _invisible(ident[bad]):
                        why += ", an invisible character"
                yield Problem.at(
                    "KPI-R005",
                    f"'{visible(ident)}' is not a valid id: it {why}",
                    _char_loc(d, at),
                    path=f"{section}.{ident}",
                    hint=_fix(ident),
                )
            elif (found := confusable(ident)) is not None:
                at, why = found
                yield Problem.at(
                    "KPI-R022",
                    f"'{ident}' could be mistaken for another id: {why}",
                    _char_loc(d, at),
                    path=f"{section}.{ident}",
                    hint="write the id in one script: ASCII letters, digits and "
                    "_, or Chinese (with ASCII letters, digits and _ if you like)",
                )
            elif ident.startswith("__"):
                yield Problem.at(
                    "KPI-R005",
                    f"'{ident}' starts with two underscores, which formulas refuse",
                    d.loc(),
                    path=f"{section}.{ident}",
                    hint=f"use '{ident.lstrip('_')}' instead",
                )
            elif ident == "period" and section in ("inputs", "metrics", "params", "dimensions"):
                yield Problem.at(
                    "KPI-R005",
                    "'period' is the name of the data's period column",
                    d.loc(),
                    path=f"{section}.{ident}",
                    hint="choose another id, e.g. 'period_value'",
                )
            elif ident in RESERVED_WORDS:
                yield Problem.at(
                    "KPI-R005",
                    f"'{ident}' is a reserved word of the formula language",
                    d.loc(),
                    path=f"{section}.{ident}",
                    hint=f"choose another id, e.g. '{ident}_value'",
                )
    seen: dict[str, str] = {}
    for section in ("dimensions", *NAMESPACE):
        for ident, d in ctx.pack.section(section).items():
            if ident in seen:
                first = ctx.pack.section(seen[ident])[ident]
                yield Problem.at(
                    "KPI-R002",
                    f"'{ident}' is both {_a(seen[ident])} "
                    f"({first.origin.file}:{first.origin.line}) and {_a(section)}",
                    d.loc(),
                    path=f"{section}.{ident}",
                    hint="inputs, metrics, params and dimensions share one set of ids (they "
                    "are the data's columns and the formulas' names); rename one of them",
                )
            else:
                seen[ident] = section


def _a(section: str) -> str:
    return {
        "inputs": "an input",
        "params": "a param",
        "metrics": "a metric",
        "dimensions": "a dimension",
    }[section]


def _invisible(ch: str) -> bool:
    return ch.isspace() or unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp")


def _first_bad(ident: str) -> int | None:
    """The index of the first character that cannot be in an identifier (None for an empty id)."""
    if ident[:1] and not ident[:1].isidentifier() and not ident[:1].isdigit():
        return 0
    return next((i for i, ch in enumerate(ident) if i and not ("a" + ch).isidentifier()), None)


def _char_loc(d: Definition, offset: int) -> Location | None:
    src = d.source
    return src.doc.locate_in_key(src.path, offset) or d.loc()


def _fix(ident: str) -> str:
    # invisible characters and surrounding whitespace go; other non-id characters become _
    candidate = re.sub(r"\W", "_", "".join(ch for ch in ident.strip() if not _invisible(ch)))
    if candidate[:1].isdigit():
        candidate = "_" + candidate
    return (
        f"use letters, digits and _ only, e.g. '{candidate}'"
        if candidate.isidentifier()
        else "use letters, digits and _"
    )
