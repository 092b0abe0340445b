"""Where packs are found by id: the shipped ``metrics/`` folder and any folders the user adds,
and packs held in memory.

A pack id names a directory ``<root>/<pack-id>/``. Roots are searched in order: folders
given explicitly (``--packs-dir``), then ``$KPI_PACKS_PATH`` (``os.pathsep``-separated), then
the ``metrics/`` folder next to the engine (the built-in packs). Packs held in memory
(:class:`HeldPack`: one YAML text each, as the HTTP API stores published packs) are found
before any folder.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from packaging.specifiers import InvalidSpecifier, SpecifierSet

BUILTIN_ROOT = Path(__file__).resolve().parents[2] / "metrics"
#: a pack id, matched with ``fullmatch`` (``re.match`` with ``$`` would let "id\n" through)
_PACK_ID = re.compile(r"[a-z][a-z0-9-]{1,63}")
#: the characters of a version constraint: no whitespace at all (the schema's extends pattern)
_CONSTRAINT = re.compile(r"[<>=!~0-9.,*]{1,64}")


def is_pack_id(text: str) -> bool:
    """Whether ``text`` is exactly a pack id: 2 to
    64 of a-z, 0-9 and '-', starting with a letter."""
    return _PACK_ID.fullmatch(text) is not None


def parse_extends(item: str) -> tuple[str, SpecifierSet | None]:
    """Split ``'id@>=1.0,<2'`` into the id and a version constraint. Raises ValueError."""
    ident, at, spec = item.partition("@")
    if not is_pack_id(ident):
        raise ValueError(
            f"{ident!r} is not a pack id (2 to 64 characters: a-z, 0-9 and '-', starting with a "
            "letter, nothing before or after)"
        )
    if not at:
        return ident, None
    if not spec.strip(","):
        raise ValueError(
            f"'{item}' has an empty version constraint "
            f"(write e.g. {ident}@>=1.0,<2, or just {ident})"
        )
    if not _CONSTRAINT.fullmatch(spec):
        raise ValueError(
            f"{spec!r} is not a version constraint (write e.g. >=1.0,<2, without spaces)"
        )
    try:
        return ident, SpecifierSet(spec)
    except InvalidSpecifier:
        raise ValueError(f"'{spec}' is not a version constraint (write e.g. >=1.0,<2)") from None


@dataclass(frozen=True)
class HeldPack:
    """A pack held in memory: its YAML text (one document, or a pack stream of files, see
    :mod:`engine.load.stream`), and the name that messages and lineage give its file
    (``gym-membership@1.0.0.yaml``; ``gym-membership@1.0.0/metrics.yaml`` for a stream's)."""

    name: str
    text: str | bytes


@dataclass
class PackLibrary:
    """An ordered list of folders that hold pack directories, and packs held in memory by id."""

    roots: list[Path] = field(default_factory=list)
    #: packs held in memory, by pack id: found before the folders' packs of the same id
    held: dict[str, HeldPack] = field(default_factory=dict)

    @classmethod
    def default(cls, extra: list[Path] | None = None) -> PackLibrary:
        roots = list(extra or [])
        env = os.environ.get("KPI_PACKS_PATH")
        if env:
            roots += [Path(p) for p in env.split(os.pathsep) if p]
        if BUILTIN_ROOT.is_dir():
            roots.append(BUILTIN_ROOT)
        return cls(roots)

    def candidates(self, pack_id: str) -> list[Path]:
        """Directories that may hold the pack ``pack_id``, in search order."""
        if not is_pack_id(pack_id):
            return []
        seen: list[Path] = []
        for root in self.roots:
            p = root / pack_id
            if p.is_dir() and p.resolve() not in [s.resolve() for s in seen]:
                seen.append(p)
        return seen

    def pack_ids(self) -> list[str]:
        """Every pack id held in memory or found under the roots (directories holding YAML
        files)."""
        found: set[str] = set(self.held)
        for root in self.roots:
            if not root.is_dir():
                continue
            for d in root.iterdir():
                if (
                    d.is_dir()
                    and is_pack_id(d.name)
                    and (any(d.glob("*.yaml")) or any(d.glob("*.yml")))
                ):
                    found.add(d.name)
        return sorted(found)


def locate(ref: str | Path, library: PackLibrary) -> Path | None:
    """A pack given as a path or as an id: the path to load, or None."""
    p = Path(ref)
    if p.exists():
        return p
    if isinstance(ref, str):
        found = library.candidates(ref)
        if found:
            return found[0]
    return None
