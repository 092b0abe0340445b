"""Problems are data: every finding of the loader, the schema and the semantic rules.

A :class:`Problem` carries a stable code (documented in ``docs/errors.md``, generated from
:data:`CODES` of :mod:`engine.core.problem_codes`), a severity, a message, where it is (file,
line, column, path in the document) and a hint that says how to fix it. Validation collects them
all instead of stopping at the first.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from engine.core.problem_codes import CODES as CODES
from engine.core.problem_codes import Code as Code
from engine.core.problem_codes import Severity as Severity


@dataclass(frozen=True)
class Location:
    """Where something is: a file and a 1-based line and column (0 when unknown)."""

    file: str
    line: int = 0
    column: int = 0

    def __str__(self) -> str:
        if self.line:
            return f"{self.file}:{self.line}:{self.column or 1}"
        return self.file


@dataclass(frozen=True)
class Problem:
    """One finding. ``path`` is the path of keys in
    the pack document, e.g. ``metrics.x.formula``."""

    code: str
    message: str
    severity: Severity = "error"
    file: str | None = None
    line: int = 0
    column: int = 0
    path: str = ""
    hint: str | None = None
    related: tuple[str, ...] = field(default=())

    @classmethod
    def at(
        cls,
        code: str,
        message: str,
        loc: Location | None,
        *,
        path: str = "",
        hint: str | None = None,
        severity: Severity | None = None,
        related: tuple[str, ...] = (),
    ) -> Problem:
        """Build a problem at a location, with the catalog's default severity."""
        sev = severity or CODES[code].severity
        if loc is None:
            return cls(code, message, sev, None, 0, 0, path, hint, related)
        return cls(code, message, sev, loc.file, loc.line, loc.column, path, hint, related)

    def render_short(self) -> str:
        where = self.file or "<pack>"
        if self.line:
            where += f":{self.line}:{self.column or 1}"
        return f"{where}: {self.severity} {self.code}: {self.message}"

    def to_json(self) -> dict[str, object]:
        return {
            "code": self.code,
            "severity": self.severity,
            "message": self.message,
            "file": self.file,
            "line": self.line or None,
            "column": self.column or None,
            "path": self.path,
            "hint": self.hint,
        }


def sort_problems(problems: list[Problem]) -> list[Problem]:
    """Order problems as a compiler would: by file, line, column, then code."""
    return sorted(problems, key=lambda p: (p.file or "", p.line, p.column, p.code, p.message))
