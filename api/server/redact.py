"""No server path reaches a client: file names in problems and lineage are rewritten.

The engine names files as it found them: built-in packs under ``metrics/`` (relative to the
working directory when below it, absolute otherwise); published packs are held in memory as
``<pack>@<version>.yaml`` already (earlier servers materialised them under ``--data-dir``).
:class:`Redactor` rewrites any such path to what a client knows — ``metrics/<pack>/<file>.yaml``
and ``<pack>@<version>.yaml`` — in every string of a JSON value.
"""

from __future__ import annotations

import contextlib
import os
import re
from pathlib import Path
from typing import Any

from engine.api import BUILTIN_ROOT


def _forms(path: Path) -> list[str]:
    """The spellings of a directory the engine may print: absolute and relative to the cwd."""
    forms = {str(path.resolve())}
    with contextlib.suppress(ValueError):  # another drive on Windows
        forms.add(os.path.relpath(path.resolve()))
    return sorted((f for f in forms if f not in (".", "")), key=len, reverse=True)


class Redactor:
    """Rewrites server paths inside strings (longest spelling first)."""

    def __init__(self, library_root: Path) -> None:
        builtin = "|".join(re.escape(f) for f in _forms(BUILTIN_ROOT))
        published = "|".join(re.escape(f) for f in _forms(library_root))
        data = "|".join(re.escape(f) for f in _forms(library_root.parent))
        self._builtin = re.compile(rf"(?:{builtin})(?=/)")
        # <library root>/<content key>/<folder>/<file> → <file>, whatever the folder's name holds
        self._published = re.compile(rf"(?:{published})/[^/]+/[^/]+/")
        # anything else below the data dir: its name only
        self._data = re.compile(rf"(?:{data})(?:/[^/\s'\"]+)*/")

    def text(self, value: str) -> str:
        value = self._published.sub("", value)
        value = self._data.sub("", value)
        value = self._builtin.sub("metrics", value)
        return value

    def __call__(self, value: Any) -> Any:
        """``value`` with every string rewritten (dicts, lists and tuples walked)."""
        if isinstance(value, str):
            return self.text(value) if "/" in value else value
        if isinstance(value, dict):
            return {k: self(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self(v) for v in value]
        return value
