"""Which packs a request may see, and how each one is compiled.

- Built-in packs (``metrics/``) are read-only and readable by everyone; their ids cannot be
  published.
- A published version is readable by everyone if public, else by its owner only; anything a
  reader may not see is answered exactly like a pack that does not exist (404).
- ``extends`` of a published pack resolves to built-in packs and to published packs its
  publisher could read. The exact versions chosen are *pinned* when it is published, and the
  pinned packs' YAML is handed to the engine's :class:`~engine.load.library.PackLibrary` as packs
  held in memory (:func:`Catalog.parents`; nothing is written to disk): a version means the same
  thing forever, whatever is published later.
- Compiled packs are cached by content hash (YAML and pinned parents); every cache is bounded
  in bytes (compiled packs by an estimate, see :func:`api.server.jobs.compiled_weight`).
- Listings and search read the *summary* stored with each version at publish time (built-in
  packs: made once per process); they never compile a pack nor read its YAML.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from packaging.version import InvalidVersion, Version

from api.server.jobs import CompileCache, summary_of, text_source
from api.server.problems import ApiProblem, clip
from api.server.registry import Registry, VersionRecord
from api.server.responses import Lru, Rendered
from engine.api import BUILTIN_ROOT, CompiledPack, PackLibrary, Text, parse_extends

#: where earlier versions of the server materialised pinned packs: no longer written (the
#: redactor still hides paths below it; an operator may delete the folder)
LIBRARIES = "libraries"
PACK_ID = re.compile(r"[a-z][a-z0-9-]{1,63}")  # the pack-id rule of the spec (§1); use fullmatch


@dataclass(frozen=True)
class PackRef:
    """One readable version of a pack and what compiling it needs."""

    id: str
    builtin: bool
    key: str
    source: dict[str, Any]
    record: VersionRecord | None = None

    @property
    def visibility(self) -> str:
        return self.record.visibility if self.record else "public"


@dataclass(frozen=True)
class Listed:
    """One pack of a listing: who publishes it and its stored summary (None: not known)."""

    id: str
    builtin: bool
    record: VersionRecord | None
    summary: dict[str, Any] | None

    @property
    def visibility(self) -> str:
        return self.record.visibility if self.record else "public"

    @property
    def version(self) -> str:
        if self.summary is not None:
            return str(self.summary["version"])
        return self.record.version if self.record else ""

    def text(self, field: str, locale: str | None, fallback: str = "") -> str:
        """A localized field of the summary (title, description) in ``locale``, else its first."""
        items = (self.summary or {}).get(field) or []
        return Text(tuple((str(k), str(v)) for k, v in items)).get(locale, fallback)


def listing_weight(items: list[Listed]) -> int:
    """The memory of a listing, estimated: its summaries' JSON and 256 bytes an entry."""
    return sum(
        256 + (len(json.dumps(i.summary, ensure_ascii=False)) * 2 if i.summary else 0)
        for i in items
    )


def satisfies(version: str, item: str) -> bool:
    """Whether ``version`` meets the constraint of an ``extends`` entry (``id@>=1,<2``)."""
    try:
        _, spec = parse_extends(item)
        return spec is None or Version(version) in spec
    except (ValueError, InvalidVersion):
        return False


class Catalog:
    """Built-in and published packs as one catalog, with a compile cache."""

    def __init__(
        self, registry: Registry, cache_size: int = 256, cache_bytes: int = 256 * 1024 * 1024
    ) -> None:
        self.registry = registry
        self.library_root = registry.data_dir / LIBRARIES
        self.builtin_ids = tuple(PackLibrary([BUILTIN_ROOT]).pack_ids())
        # the byte budget: 11/16 compiled packs, 1/8 response bodies, 1/8 published YAML texts,
        # 1/16 listings
        self.cache = CompileCache(cache_size, cache_bytes * 11 // 16)
        self.rendered = Rendered(cache_bytes // 8)  # response bodies of immutable resources
        self._texts: Lru[bytes] = Lru(cache_bytes // 8, len)
        self._builtin_summaries: dict[str, dict[str, Any] | None] = {}
        # listings by (owner, registry generation), weighed by their summaries' JSON
        self._listings: Lru[list[Listed]] = Lru(cache_bytes // 16, listing_weight)
        self._lock = threading.Lock()

    # -- finding a pack ---------------------------------------------------------------------
    def builtin(self, pack: str) -> PackRef:
        return PackRef(pack, True, f"builtin:{pack}", {"builtin": str(BUILTIN_ROOT / pack)})

    def published(self, rec: VersionRecord) -> PackRef:
        pins = tuple(sorted(rec.pins.items()))
        key = f"{rec.sha256}|{','.join(f'{k}@{v}' for k, v in pins)}"
        source = text_source(
            self.text(rec.pack, rec.version),
            f"{rec.pack}@{rec.version}.yaml",
            self.parents(rec.pins),
        )
        return PackRef(rec.pack, False, key, source, rec)

    def readable_versions(self, pack: str, owner: str | None) -> list[VersionRecord]:
        return [r for r in self.registry.versions(pack) if r.readable_by(owner)]

    def resolve(self, pack: str, owner: str | None, version: str | None = None) -> PackRef:
        """The pack as ``owner`` may see it (newest version unless one is asked for), else 404."""
        if pack in self.builtin_ids:
            ref = self.builtin(pack)
            if version is not None and self.compiled(ref).pack.version != version:
                raise ApiProblem(
                    "version-not-found",
                    f"the built-in pack '{pack}' has no version "
                    f"'{clip(version, 40)}' (it is {self.compiled(ref).pack.version})",
                )
            return ref
        recs = self.readable_versions(pack, owner)
        if not recs:
            raise ApiProblem("pack-not-found", f"there is no pack '{clip(pack, 80)}'")
        if version is None:
            return self.published(recs[0])
        for rec in recs:
            if rec.version == version:
                return self.published(rec)
        raise ApiProblem(
            "version-not-found",
            f"pack '{pack}' has no version '{clip(version, 40)}' "
            f"(versions: {', '.join(r.version for r in recs)})",
        )

    def compiled(self, ref: PackRef) -> CompiledPack:
        """The compiled pack (cached); 422 if a stored pack no longer compiles."""
        compiled, problems = self.cache.get(ref.key, ref.source)
        if compiled is None:
            raise ApiProblem(
                "pack-invalid",
                f"the stored pack '{ref.id}' does not compile with this server's built-in packs",
                problems=[p.to_json() for p in problems],
            )
        return compiled

    def try_compiled(self, ref: PackRef) -> CompiledPack | None:
        compiled, _ = self.cache.get(ref.key, ref.source)
        return compiled

    def listing(self, owner: str | None) -> tuple[list[Listed], str]:
        """Every pack ``owner`` may see: the built-in ones, then the newest readable version of
        each, from stored summaries (nothing is compiled or read from the YAML); and the
        registry's generation it was read at (cached until a version is published)."""
        generation = self.registry.generation()

        def read() -> list[Listed]:
            out = [Listed(p, True, None, self.builtin_summary(p)) for p in self.builtin_ids]
            for recs in self.registry.readable(owner).values():
                out.append(Listed(recs[0].pack, False, recs[0], recs[0].summary))
            return out

        return self._listings.get((owner or "", generation), read), generation

    def builtin_summary(self, pack: str) -> dict[str, Any] | None:
        """A built-in pack's summary, made once per process."""
        with self._lock:
            if pack in self._builtin_summaries:
                return self._builtin_summaries[pack]
        compiled = self.try_compiled(self.builtin(pack))
        summary = summary_of(compiled) if compiled is not None else None
        with self._lock:
            self._builtin_summaries[pack] = summary
        return summary

    # -- extends of published packs -------------------------------------------------------
    def pins(self, extends: Iterable[Any], owner: str | None) -> dict[str, VersionRecord]:
        """The published versions a new pack's ``extends`` resolve to, with their own pins.

        The newest version ``owner`` may read that satisfies the constraint (or the newest one,
        so that the engine reports the unsatisfied constraint with the version it found).
        """
        readable = self.registry.readable(owner)
        chosen: dict[str, VersionRecord] = {}
        for item in extends:
            if not isinstance(item, str):
                continue
            try:
                pack, _ = parse_extends(item)
            except ValueError:
                continue
            recs = readable.get(pack)
            if pack in self.builtin_ids or pack in chosen or not recs:
                continue
            rec = next((r for r in recs if satisfies(r.version, item)), recs[0])
            chosen[pack] = rec
            for parent, version in rec.pins.items():
                if parent not in chosen:
                    found = next(
                        (r for r in readable.get(parent, []) if r.version == version), None
                    )
                    if found is not None:
                        chosen[parent] = found
        return chosen

    def parents(self, pins: dict[str, str]) -> dict[str, dict[str, Any]] | None:
        """The pinned packs as a job's ``parents``: ``{id: {"name": "<id>@<version>.yaml",
        "text": YAML}}`` (None: no pins), for the engine to hold in memory."""
        if not pins:
            return None
        return {
            pack: {"name": f"{pack}@{version}.yaml", "text": self.text(pack, version)}
            for pack, version in sorted(pins.items())
        }

    def text(self, pack: str, version: str) -> bytes:
        """A published version's YAML exactly as sent (cached: versions never change)."""
        return self._texts.get((pack, version), lambda: self.registry.yaml(pack, version))

    def builtin_text(self, pack: str) -> bytes:
        """A built-in pack's files as one YAML stream, each document headed by its file name:
        the canonical stream of :func:`engine.api.join_stream` but for the ``metrics/<pack>/``
        before each name (posted back, the files give the pack's content hash)."""
        parts = []
        files = [*(BUILTIN_ROOT / pack).glob("*.yaml"), *(BUILTIN_ROOT / pack).glob("*.yml")]
        for f in sorted(files, key=lambda f: f.name):
            body = f.read_text(encoding="utf-8-sig")
            body += "" if body.endswith("\n") else "\n"  # as engine.api.join_stream writes it
            parts.append(f"# file: metrics/{pack}/{f.name}\n---\n{body}")
        return "".join(parts).encode("utf-8")
