"""Missing translations (``kpi validate --strict-locales zh,en``, KPI-R026).

Every text a pack writes itself — its title and description, and the label, description,
benchmark, detail, causes, scenarios and band labels and advice of its own definitions — must
carry each listed locale. A plain string is text in the pack's default locale (the first of
``locales``). A definition without a label shows its id, so its label lacks every locale. Texts
inherited through ``extends`` belong to the parent pack and are checked there.

Not a rule of :data:`engine.validate.RULES`: it runs only when asked, on a pack that compiled.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from engine.core.document import Document, Path_, dotted
from engine.core.model import SECTIONS, Definition, Pack, Source, Text
from engine.core.problems import Location, Problem, sort_problems
from engine.validate.schema import describe

#: the localized fields of a definition that hold one text
_TEXTS = ("label", "description", "benchmark", "detail")
#: the localized fields that hold a list of texts
_TEXT_LISTS = ("causes", "scenarios")


def missing_translations(pack: Pack, locales: Sequence[str]) -> list[Problem]:
    """KPI-R026 at each text of ``pack`` that lacks one of ``locales``, located at the text's
    value, in file order."""
    wanted = tuple(dict.fromkeys(locales))
    doc = pack.header.doc if pack.header is not None else Document(data=None)
    problems: list[Problem] = []
    fallback = Location(pack.files[0] if pack.files else pack.root)
    for name in ("title", "description"):
        text: Text = getattr(pack, name)
        if text:
            path: Path_ = (name,)
            problems.extend(_missing(text, path, doc.value_loc(path) or fallback, wanted))
    for section in SECTIONS:
        for d in pack.section(section).values():
            problems.extend(_definition(pack, section, d, wanted))
    return sort_problems(problems)


def _definition(
    pack: Pack, section: str, d: Definition, wanted: tuple[str, ...]
) -> Iterator[Problem]:
    own = d.source.pack == pack.id
    if own and d.inherited_from is None and "label" not in d.sources:
        path: Path_ = (section, d.id)
        shown = {loc: d.id if loc == pack.default_locale else "…" for loc in wanted}
        yield Problem.at(
            "KPI-R026",
            f"{describe(path)} has no label, so it is shown by its id: no {_names(wanted)} text",
            d.loc() or Location(d.origin.file, d.origin.line),
            path=dotted(path),
            hint=f"add label: {_example(shown)}",
        )
    for name, text, sub in _texts(d):
        src = d.sources.get(name)
        if src is None or src.pack != pack.id:
            continue  # inherited: the parent pack's own texts
        path = (*src.path, name, *sub)
        loc = src.doc.value_loc(path) or _loc(src)
        yield from _missing(text, path, loc, wanted)


def _texts(d: Definition) -> Iterator[tuple[str, Text, tuple[str | int, ...]]]:
    """(field, text, path below the field) of each localized text a definition holds."""
    for name in _TEXTS:
        value = getattr(d, name, None)
        if isinstance(value, Text) and value:
            yield name, value, ()
    for name in _TEXT_LISTS:
        for i, value in enumerate(getattr(d, name, ())):
            yield name, value, (i,)
    for i, band in enumerate(getattr(d, "bands", ())):
        for name in ("label", "advice"):
            value = getattr(band, name)
            if value:
                yield "bands", value, (i, name)


def _loc(src: Source) -> Location:
    return src.loc() or Location(next(iter(src.doc.files), "<pack>"))


def _missing(text: Text, path: Path_, loc: Location, wanted: tuple[str, ...]) -> list[Problem]:
    have = {locale: value for locale, value in text.items if value.strip()}
    missing = [locale for locale in wanted if locale not in have]
    if not missing:
        return []
    shown = {locale: have.get(locale, "…") for locale in dict.fromkeys([*have, *wanted])}
    return [
        Problem.at(
            "KPI-R026",
            f"{describe(path)}: no {_names(missing)} text",
            loc,
            path=dotted(path),
            hint=f"write it in every locale: {_example(shown)}",
        )
    ]


def _names(locales: Sequence[str]) -> str:
    return ", ".join(f"'{locale}'" for locale in locales)


def _example(texts: dict[str, str]) -> str:
    body = ", ".join(f"{locale}: {_short(value)}" for locale, value in texts.items())
    return "{" + body + "}"


def _short(value: str) -> str:
    return value if len(value) <= 30 else value[:29] + "…"
