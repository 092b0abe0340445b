"""Stage 3b: ``extends`` — a pack plus everything it inherits → one resolved :class:`Pack`.

Parents are resolved first (recursively, with cycle detection), merged in the order of
``extends``, then the pack's own definitions are laid on top. Redefining an inherited id is
an error unless the new entry says ``override: true``; an override merges field by field,
so an industry pack can change only the bands or the label of an inherited metric. The same
definition reached twice through a diamond (two parents that share an ancestor) is one
definition, not a duplicate.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from packaging.specifiers import SpecifierSet
from packaging.version import InvalidVersion, Version

from engine.core.document import Document, Path_
from engine.core.model import SECTION_KIND, SECTIONS, Definition, Origin, Pack, Source, Text, build
from engine.core.problems import Location, Problem
from engine.load.library import HeldPack, PackLibrary, parse_extends
from engine.load.sources import PackSource, load_pack_source, load_pack_text

#: the schema check a loaded document must pass (engine.validate.schema.check_schema): given by
#: the compiler, so that loading does not import validation
SchemaCheck = Callable[[Document], list[Problem]]
#: loads a parent (a pack folder or file, or a held pack) and checks it against the schema
Loader = Callable[["Path | HeldPack"], "tuple[PackSource | None, list[Problem]]"]

#: keys an entry needs unless it overrides an inherited one (as in the schema's "else" branches)
REQUIRED = {
    "params": ("value",),
    "metrics": ("formula",),
    "checks": ("assert",),
    "rules": ("when",),
    "views": ("metrics",),
}
MAX_EXTENDS_DEPTH = 32


@dataclass
class RawEntry:
    """A definition before it is typed: merged fields and where each came from."""

    section: str
    id: str
    fields: dict[str, Any]
    sources: dict[str, Source]
    origin: Origin
    locale: str
    inherited_from: str | None = None


@dataclass
class Layer:
    """A pack with everything it inherits, merged, before typing."""

    source: PackSource
    header: dict[str, Any]
    entries: dict[str, dict[str, RawEntry]] = field(default_factory=dict)
    ancestors: list[str] = field(default_factory=list)
    # (index in extends, parent's root)
    parents: list[tuple[int, str]] = field(default_factory=list)
    versions: dict[str, str] = field(default_factory=dict)  # version of each ancestor, by pack id


def load_checked(path: Path, schema: SchemaCheck) -> tuple[PackSource | None, list[Problem]]:
    """Load a pack's files and check them against the schema."""
    source, problems = load_pack_source(path)
    if source is None or any(p.severity == "error" for p in problems):
        return None, problems
    problems += schema(source.doc)
    if any(p.severity == "error" for p in problems):
        return None, problems
    return source, problems


def load_checked_text(
    held: HeldPack, schema: SchemaCheck
) -> tuple[PackSource | None, list[Problem]]:
    """Load a pack held in memory and check it against the schema."""
    source, problems = load_pack_text(held.text, held.name)
    if source is None or any(p.severity == "error" for p in problems):
        return None, problems
    problems += schema(source.doc)
    if any(p.severity == "error" for p in problems):
        return None, problems
    return source, problems


def resolve(
    source: PackSource, library: PackLibrary, schema: SchemaCheck
) -> tuple[Pack | None, list[Problem]]:
    """Resolve ``extends`` of a schema-valid pack and build the typed :class:`Pack` (``schema``
    checks each parent as it is loaded)."""
    pack, problems, _ = resolve_tree(source, library, schema)
    return pack, problems


#: packs loaded (and schema-checked) so far in one compile, by file or held pack: a pack
#: reached again (a diamond, or a parent checked on its own) is not read twice
Loads = dict[tuple[str, str], tuple[PackSource | None, list[Problem]]]


def _cached(schema: SchemaCheck, loads: Loads) -> Loader:
    def load(where: Path | HeldPack) -> tuple[PackSource | None, list[Problem]]:
        key = ("held", where.name) if isinstance(where, HeldPack) else ("path", str(where))
        if key not in loads:
            if isinstance(where, HeldPack):
                loads[key] = load_checked_text(where, schema)
            else:
                loads[key] = load_checked(where, schema)
        source, problems = loads[key]
        return source, list(problems)

    return load


def resolve_tree(
    source: PackSource, library: PackLibrary, schema: SchemaCheck, loads: Loads | None = None
) -> tuple[Pack | None, list[Problem], dict[str, tuple[Pack, PackSource]]]:
    """:func:`resolve`, and every pack it inherits from as resolved on the way (typed, with its
    source, by id). ``loads``: the packs already loaded in this compile, reused (and added to)."""
    problems: list[Problem] = []
    memo: dict[str, Layer] = {}
    load = _cached(schema, {} if loads is None else loads)
    layer = _layer(source, library, [], problems, memo, load)
    if layer is None or any(p.severity == "error" for p in problems):
        return None, problems, {}
    ancestors = {a: (_typed(memo[a]), memo[a].source) for a in layer.ancestors if a in memo}
    return _typed(layer), problems, ancestors


def _own_entries(source: PackSource, locales: list[str]) -> dict[str, dict[str, RawEntry]]:
    data = source.data
    pack_id = str(data.get("pack", "?"))
    out: dict[str, dict[str, RawEntry]] = {}
    for section in SECTIONS:
        for ident, fields in (data.get(section) or {}).items():
            path: Path_ = (section, ident)
            src = Source(source.doc, path, pack_id)
            loc = source.doc.key_loc(path) or Location(source.root)
            sources = {name: src for name in fields}
            sources["__id__"] = src
            out.setdefault(section, {})[ident] = RawEntry(
                section,
                ident,
                dict(fields),
                sources,
                Origin(pack_id, loc.file, loc.line),
                locales[0],
            )
    return out


def _layer(
    source: PackSource,
    library: PackLibrary,
    stack: list[str],
    problems: list[Problem],
    memo: dict[str, Layer],
    load: Loader,
) -> Layer | None:
    data = source.data
    pack_id = str(data["pack"])
    if pack_id in memo:
        return memo[pack_id]
    merged: dict[str, dict[str, RawEntry]] = {}
    header = {k: v for k, v in data.items() if k not in SECTIONS}
    ancestors: list[str] = []
    conflicts: dict[tuple[str, str], Problem] = {}  # settled if this pack overrides the id
    parents: list[tuple[int, str]] = []
    versions: dict[str, str] = {}
    seen_parents: set[str] = set()
    for index, item in enumerate(data.get("extends") or []):
        loc = source.doc.key_loc(("extends", index))
        if item.partition("@")[0] in seen_parents:
            problems.append(
                Problem.at(
                    "KPI-R012",
                    f"'{item.partition('@')[0]}' is listed twice in extends",
                    loc,
                    hint="list each extended pack once",
                )
            )
            continue
        seen_parents.add(item.partition("@")[0])
        parent = _parent(item, loc, library, [*stack, pack_id], problems, memo, load)
        if parent is None:
            continue
        parent_id = str(parent.header["pack"])
        parents.append((index, parent.source.root))
        for name in [parent_id, *parent.ancestors]:
            if name not in ancestors:
                ancestors.append(name)
        versions.setdefault(parent_id, str(parent.header.get("version")))
        for name, version in parent.versions.items():
            versions.setdefault(name, version)
        for key in ("grain", "locales"):
            header.setdefault(key, parent.header.get(key))
        for section, entries in parent.entries.items():
            target = merged.setdefault(section, {})
            for ident, entry in entries.items():
                have = target.get(ident)
                if have is None:
                    target[ident] = entry
                elif have.origin != entry.origin:
                    conflicts.setdefault(
                        (section, ident),
                        Problem.at(
                            "KPI-R002",
                            f"'{ident}' is defined by both '{have.origin.pack}' "
                            f"({have.origin.file}:{have.origin.line}) and "
                            f"'{entry.origin.pack}' ({entry.origin.file}:{entry.origin.line})",
                            loc,
                            path=f"extends.{index}",
                            hint=f"redefine '{ident}' in this pack "
                            "with override: true to choose one",
                        ),
                    )
    header.setdefault("locales", None)
    locales = list(header.get("locales") or ["zh", "en"])
    own_entries = _own_entries(source, locales)
    for (section, ident), problem in conflicts.items():
        own = own_entries.get(section, {}).get(ident)
        if own is None or own.fields.get("override") is not True:
            problems.append(problem)
    for section, entries in own_entries.items():
        target = merged.setdefault(section, {})
        for ident, own in entries.items():
            override = own.fields.pop("override", False) is True
            own.sources.pop("override", None)
            have = target.get(ident)
            id_loc = own.sources["__id__"].loc()
            if have is None:
                if override:
                    problems.append(
                        Problem.at(
                            "KPI-R004",
                            f"'{ident}' says override: true but no extended pack defines it",
                            id_loc,
                            path=f"{section}.{ident}",
                            hint="remove 'override: true'",
                        )
                    )
                    problems.extend(
                        Problem.at(
                            "KPI-S001",
                            f"{section[:-1] if section != 'remedies' else 'remedy'} '{ident}': "
                            f"missing required key '{key}' (nothing is inherited to take it from)",
                            id_loc,
                            path=f"{section}.{ident}",
                            hint=f"add '{key}:'",
                        )
                        for key in REQUIRED.get(section, ())
                        if key not in own.fields
                    )
                target[ident] = own
            elif not override:
                problems.append(
                    Problem.at(
                        "KPI-R003",
                        f"'{ident}' is already defined by the extended pack '{have.origin.pack}' "
                        f"({have.origin.file}:{have.origin.line})",
                        id_loc,
                        path=f"{section}.{ident}",
                        hint="add 'override: true' to change the "
                        "inherited definition, or choose another id",
                    )
                )
            else:
                target[ident] = RawEntry(
                    section,
                    ident,
                    {**have.fields, **own.fields},
                    {**have.sources, **own.sources},
                    own.origin,
                    own.locale,
                    inherited_from=have.origin.pack,
                )
    layer = Layer(source, header, merged, ancestors, parents, versions)
    memo[pack_id] = layer
    return layer


def _parent(
    item: str,
    loc: Location | None,
    library: PackLibrary,
    stack: list[str],
    problems: list[Problem],
    memo: dict[str, Layer],
    load: Loader,
) -> Layer | None:
    try:
        parent_id, spec = parse_extends(item)
    except ValueError as err:
        problems.append(Problem.at("KPI-R012", str(err), loc))
        return None
    if parent_id in stack:
        cycle = " → ".join([*stack[stack.index(parent_id) :], parent_id])
        problems.append(
            Problem.at(
                "KPI-R013",
                f"packs extend each other in a circle: {cycle}",
                loc,
                hint="remove one of the extends entries",
            )
        )
        return None
    if len(stack) > MAX_EXTENDS_DEPTH:
        problems.append(
            Problem.at("KPI-R013", f"extends goes deeper than {MAX_EXTENDS_DEPTH} packs", loc)
        )
        return None
    if parent_id in memo:
        have = str(memo[parent_id].header.get("version"))
        if spec is not None and not _satisfies(have, spec):
            problems.append(
                Problem.at(
                    "KPI-R012",
                    f"two versions of '{parent_id}' would be needed: {have} is already used, and "
                    f"'{item}' asks for {spec}",
                    loc,
                    hint="make the version constraints agree",
                )
            )
            return None
        return memo[parent_id]
    held = library.held.get(parent_id)
    candidates: list[Path | HeldPack] = [
        *([held] if held is not None else []),
        *library.candidates(parent_id),
    ]
    if not candidates:
        known = library.pack_ids()
        close = difflib.get_close_matches(parent_id, known, n=1)
        hint = (
            f"did you mean '{close[0]}'?"
            if close
            else (
                f"known packs: {', '.join(known)}"
                if known
                else "no packs were found in the pack folders"
            )
        )
        problems.append(
            Problem.at("KPI-R012", f"extended pack '{parent_id}' was not found", loc, hint=hint)
        )
        return None
    rejected: list[str] = []
    for path in candidates:
        source, found = load(path)
        problems.extend(found)
        if source is None:
            return None
        version = str(source.data.get("version"))
        if str(source.data.get("pack")) != parent_id:
            problems.append(
                Problem.at(
                    "KPI-R012",
                    f"{path.name if isinstance(path, HeldPack) else path} declares pack "
                    f"'{source.data.get('pack')}', not '{parent_id}'",
                    loc,
                )
            )
            return None
        if spec is None or _satisfies(version, spec):
            return _layer(source, library, stack, problems, memo, load)
        rejected.append(version)
    problems.append(
        Problem.at(
            "KPI-R012",
            f"no version of '{parent_id}' satisfies '{item.partition('@')[2]}' "
            f"(found {', '.join(rejected)})",
            loc,
        )
    )
    return None


def _satisfies(version: str, spec: SpecifierSet) -> bool:
    try:
        return Version(version) in spec
    except InvalidVersion:
        return False


def _typed(layer: Layer) -> Pack:
    data = layer.header
    locales = tuple(data.get("locales") or ("zh", "en"))
    sections: dict[str, dict[str, Definition]] = {}
    for section in SECTIONS:
        out: dict[str, Definition] = {}
        for ident, raw in layer.entries.get(section, {}).items():
            common = {
                "id": ident,
                "kind": SECTION_KIND[section],
                "origin": raw.origin,
                "sources": raw.sources,
                "inherited_from": raw.inherited_from,
            }
            out[ident] = build(SECTION_KIND[section], ident, raw.fields, common, raw.locale)
        sections[section] = out
    return Pack(
        id=str(data["pack"]),
        version=str(data["version"]),
        title=Text.of(data.get("title"), locales[0]),
        description=Text.of(data.get("description"), locales[0]),
        industry=data.get("industry"),
        visibility=data.get("visibility", "public"),
        locales=locales,
        grain=data.get("grain") or "month",
        extends=tuple(data.get("extends") or ()),
        root=layer.source.root,
        files=tuple(layer.source.files),
        ancestors=tuple(layer.ancestors),
        parents=tuple(layer.parents),
        ancestor_versions=tuple(
            (a, layer.versions[a]) for a in layer.ancestors if a in layer.versions
        ),
        sha256=layer.source.sha256,
        header=Source(layer.source.doc, (), str(data["pack"])),
        **sections,  # type: ignore[arg-type]
    )
