"""The ``kpi`` command's shared options (Typer annotations), their parsing, and how a result
is written (api/cli.py registers the commands). Imports only Typer: `kpi --help` stays fast."""

from __future__ import annotations

import re
import sys
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from api.cli_output import _fail, _fail_input

if TYPE_CHECKING:
    from engine.api import CompiledPack, Evaluation


PacksDir = Annotated[
    list[Path] | None,
    typer.Option(
        "--packs-dir",
        help="Extra folder holding pack directories (searched before metrics/).",
        show_default=False,
    ),
]
Locale = Annotated[
    str | None,
    typer.Option(
        "--locale",
        help="Language of labels: zh or en (default: the pack's first locale); zh also prints "
        "the titles and hints of errors in Chinese (default: $KPI_LOCALE, else English).",
    ),
]
TextLocale = Annotated[
    str | None,
    typer.Option(
        "--locale",
        help="Language of the problems' titles and hints: zh or en "
        "(default: $KPI_LOCALE, else English).",
        show_default=False,
    ),
]
AsJson = Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")]
AsOf = Annotated[
    str | None,
    typer.Option(
        "--as-of",
        help="The data is complete up to the end of this day "
        "(YYYY-MM-DD): later records or rows are left out, and a period that goes "
        "on after it is partial (default: for raw records, the last record's day; "
        "for rows, none).",
    ),
]
Sheet = Annotated[
    str | None,
    typer.Option(
        "--sheet", help="The sheet of an .xlsx data file to read (default: its first sheet)."
    ),
]
Formatted = Annotated[
    bool,
    typer.Option(
        "--formatted",
        help="JSON: add each value as shown (57.8%, 10,250.00) "
        "in a 'formatted' map; values stay exact.",
    ),
]
Format = Annotated[
    str,
    typer.Option(
        "--format", "-f", help="json, table, csv or xlsx (an Excel workbook: needs --out)."
    ),
]
Out = Annotated[
    Path | None,
    typer.Option(
        "--out", "-o", help="Write the result to this file instead of stdout.", show_default=False
    ),
]


def _check_format(fmt: str, out: Path | None) -> None:
    from api.cli_report import check_format

    wrong = check_format(fmt, out)
    if wrong:
        raise _fail(wrong)


def _pairs(items: list[str], option: str, shape: str) -> dict[str, str]:
    """Repeated ``KEY=VALUE`` options as a mapping; a malformed one is a usage error."""
    out: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip() or (shape == "NAME=PATH" and not value.strip()):
            raise _fail(f"{option} '{item}' must look like {shape}")
        out[key.strip()] = value.strip()
    return out


def _list(text: str | None) -> list[str] | None:
    """A comma-separated option; None when it was not given."""
    return [x.strip() for x in text.split(",") if x.strip()] if text else None


def _as_of(text: str | None) -> date | None:
    """``--as-of``: a day (YYYY-MM-DD)."""
    if text is None:
        return None
    try:
        if not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", text.strip()):
            raise ValueError(text)
        return date.fromisoformat(text.strip())
    except ValueError:
        raise _fail(f"--as-of '{text}' must be a day such as 2026-06-30") from None


def _by(text: str | None) -> list[str] | None:
    """``--by``: None keeps every dimension; ``''`` (an empty list) totals across them all."""
    return None if text is None else _list(text) or []


def _emit(
    result: Evaluation,
    fmt: str,
    out: Path | None,
    compiled: CompiledPack,
    locale: str | None,
    formatted: bool,
) -> None:
    from api.cli_report import emit
    from engine.api import KpiError

    try:
        emit(result, fmt, out, compiled, locale, formatted)
    except KpiError as err:
        raise _fail_input(err, str(err), locale) from None
    except OSError as err:
        raise _fail(f"cannot write {out}: {err.strerror}") from None


class _Progress:
    """DuckDB's progress on stderr, one line redrawn in
    place (only on a terminal, else a line per source)."""

    def __init__(self) -> None:
        self.tty = sys.stderr.isatty()
        self.shown: set[str] = set()

    def __call__(self, sid: str, fraction: float) -> None:
        if self.tty:
            sys.stderr.write(f"\rcomputing {sid} with DuckDB … {fraction:4.0%}")
            sys.stderr.flush()
        elif sid not in self.shown:
            self.shown.add(sid)
            typer.echo(f"computing {sid} with DuckDB …", err=True)

    def done(self) -> None:
        if self.tty:
            sys.stderr.write("\r\033[K")
            sys.stderr.flush()
