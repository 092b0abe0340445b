"""How ``kpi eval`` and ``kpi run`` hand an evaluation over: JSON, a table or CSV on stdout or in
``--out FILE``, or an Excel workbook (``--format xlsx``, which needs ``--out``)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:
    from engine.api import CompiledPack, Evaluation

FORMATS = ("json", "table", "csv", "xlsx")


def check_format(fmt: str, out: Path | None) -> str | None:
    """What is wrong with ``--format`` / ``--out``, or None."""
    if fmt not in FORMATS:
        return f"unknown format '{fmt}': choose json, table, csv or xlsx"
    if fmt == "xlsx" and out is None:
        return "--format xlsx writes a workbook: give the file to write with --out FILE.xlsx"
    return None


def emit(
    result: Evaluation,
    fmt: str,
    out: Path | None,
    compiled: CompiledPack,
    locale: str | None,
    formatted: bool,
) -> None:
    """Print or write the evaluation; raises KpiError (a workbook too large) or OSError."""
    from engine.api import render_csv, render_table, render_workbook

    if fmt == "xlsx":
        assert out is not None
        out.write_bytes(render_workbook(result))
        typer.echo(f"wrote {out}", err=True)
        return
    body = result.to_json(formatted=formatted)
    if fmt == "json":
        text = json.dumps(body, ensure_ascii=False, indent=2)
    elif fmt == "csv":
        text = render_csv(body, compiled.pack)
    else:
        text = render_table(
            body, compiled.pack, locale=locale, color=out is None and sys.stdout.isatty()
        )
    if out is None:
        typer.echo(text)
    else:
        out.write_text(text + "\n", encoding="utf-8")
        typer.echo(f"wrote {out}", err=True)
