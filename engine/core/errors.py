"""The exception tree of KPI Forge.

Every error a user can cause is a subclass of :class:`KpiError`; anything else that
escapes is a bug in the engine, not a problem with the user's input.

    KpiError
    ├── FormulaError        a formula could not be parsed (code KPI-F…, with the column)
    ├── PackError           a pack failed to load or validate (carries every Problem found)
    ├── PackNotFound        a pack id or path that does not exist
    ├── UnknownMetric       a metric id that the pack does not define
    └── InputError          bad evaluation input: a cell, a column, a period, an option
                            (code KPI-E…, catalogued in engine.core.problems.RUNTIME_CODES)
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from engine.core.runtime_codes import RUNTIME_CODES

if TYPE_CHECKING:
    from engine.core.problems import Problem


class KpiError(Exception):
    """Base class of every error caused by user input (packs, formulas, requests)."""


class FormulaError(KpiError):
    """A formula was refused. ``offset`` is the 0-based character offset in the formula text."""

    def __init__(
        self, code: str, message: str, offset: int = 0, length: int = 1, hint: str | None = None
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.offset = offset
        self.length = max(1, length)
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.code} at column {self.offset + 1}: {self.message}"


class PackError(KpiError):
    """A pack did not load or validate. ``problems``
    holds every problem found, not just the first."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        errors = [p for p in problems if p.severity == "error"]
        first = errors[0] if errors else (problems[0] if problems else None)
        summary = f"{len(errors)} error(s)" + (f"; first: {first.render_short()}" if first else "")
        super().__init__(summary)


class PackNotFound(KpiError):
    """A pack id or path that could not be found."""


class UnknownMetric(KpiError):
    """A metric id that the pack does not define."""


class InputError(KpiError):
    """Bad evaluation input. ``code`` is its ``KPI-E…`` code (one of
    :data:`engine.core.problems.RUNTIME_CODES`); ``row`` is the 1-based data row (not counting a
    CSV header) or None."""

    def __init__(
        self,
        reason: str,
        *,
        code: str,
        row: int | None = None,
        column: str | None = None,
        hint: str | None = None,
        kind: str = "invalid",
    ) -> None:
        if code not in RUNTIME_CODES or not code.startswith("KPI-E"):
            raise ValueError(f"InputError with an unknown code {code!r}")  # a bug, not bad input
        self.code = code
        self.reason = reason
        self.kind = (
            kind  # "invalid" (a value), "malformed" (not CSV / JSON at all) or "too_many_rows"
        )
        self.row = row
        self.column = column
        self.hint = hint
        where = ", ".join(
            x for x in (f"row {row}" if row else "", f"column '{column}'" if column else "") if x
        )
        super().__init__(f"{where}: {reason}" if where else reason)

    def to_json(self) -> dict[str, object]:
        return {
            "code": self.code,
            "row": self.row,
            "column": self.column,
            "reason": self.reason,
            "hint": self.hint,
        }
