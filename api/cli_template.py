"""``kpi template``: a file to fill in with the columns a pack's data needs (docs/excel.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def template_cmd(
    pack: Annotated[str, typer.Argument(help="Pack directory, file or id.")],
    fmt: Annotated[str, typer.Option("--format", "-f", help="csv or xlsx.")] = "csv",
    source: Annotated[
        str | None,
        typer.Option(
            "--source",
            help="The columns of this source's raw records (for kpi run --source) instead of "
            "the pack's input rows (for kpi eval --inputs).",
            show_default=False,
        ),
    ] = None,
    locale: Annotated[
        str | None,
        typer.Option(
            "--locale", help="Language of the xlsx notes: zh or en (default: the pack's first)."
        ),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out", "-o", help="File to write (default: stdout, CSV only).", show_default=False
        ),
    ] = None,
    packs_dir: Annotated[
        list[Path] | None,
        typer.Option(
            "--packs-dir",
            help="Extra folder holding pack directories (searched before metrics/).",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Write a template to fill in: a header row of column ids (period, dimensions, every input;
    or a source's record columns with --source) and one example row of valid data; the xlsx
    adds a Notes sheet with each column's label, unit and description."""
    import sys

    from api.cli_output import _compile_or_exit, _fail, _fail_input
    from engine.api import InputError, KpiError, render_template

    if fmt not in ("csv", "xlsx"):
        raise _fail(f"unknown format '{fmt}': choose csv or xlsx")
    if fmt == "xlsx" and out is None:
        raise _fail("--format xlsx writes a workbook: give the file to write with --out FILE.xlsx")
    compiled = _compile_or_exit(pack, packs_dir, locale)
    if locale is not None and locale not in compiled.pack.locales:
        raise _fail(f"unknown locale '{locale}': this pack has {', '.join(compiled.pack.locales)}")
    try:
        data = render_template(compiled, fmt, locale, source)
    except KpiError as err:
        hint = err.hint if isinstance(err, InputError) else None
        message = str(err) + ("\n  hint: " + hint if hint else "")
        raise _fail_input(err, message, locale) from None
    if out is None:
        sys.stdout.write(data.decode("utf-8").lstrip("\ufeff"))
        return
    try:
        out.write_bytes(data)
    except OSError as err:
        raise _fail(f"cannot write {out}: {err.strerror}") from None
    typer.echo(f"wrote {out}", err=True)
