"""The ``kpi`` command: a thin adapter over the engine façade.

Exit codes: 0 success; 1 the pack has errors (problems are printed), or the server refused it
(kpi publish, kpi pull); 2 bad command-line input (an unknown pack, metric or option; no token,
an unreachable server, a folder that is not empty).
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterator, MutableMapping
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from typer.core import TyperGroup

from api.cli_options import (
    AsJson,
    AsOf,
    Format,
    Formatted,
    Locale,
    Out,
    PacksDir,
    Sheet,
    TextLocale,
    _as_of,
    _by,
    _check_format,
    _emit,
    _list,
    _pairs,
    _Progress,
)
from api.cli_output import (
    _compile_or_exit,
    _fail,
    _fail_input,
    _library,
    _locales,
    _summary,
    _text_locale,
    format_problem,
)
from api.cli_publish import register as _register_publishing

# Each command imports the engine stages it uses at the top of its body, and `serve` / `keys`
# (api/server_cli.py) are loaded only when named: `kpi <command> --help` loads no engine, and
# `kpi validate` only the stages up to the compiler, never the HTTP server, DuckDB or SQLGlot
# (docs/design.md, "CLI start-up"; tests/api/test_cli_imports.py).
if TYPE_CHECKING:
    pass


_SERVER_COMMANDS = ("serve", "keys")  # api/server_cli.py, loaded when one of them is named


class _Commands(MutableMapping[str, Any]):
    """The ``kpi`` group's commands by name, in the order of ``kpi --help``: ``serve``, the
    commands of this module, ``keys``. Listing the names loads nothing; looking up ``serve`` or
    ``keys`` builds both from api/server_cli.py (Typer's own click types, hence Any)."""

    def __init__(self, own: MutableMapping[str, Any]) -> None:
        self._own = own

    def __getitem__(self, name: str) -> Any:
        if name in _SERVER_COMMANDS:
            return _server_commands()[name]
        return self._own[name]

    def __setitem__(self, name: str, command: Any) -> None:
        self._own[name] = command

    def __delitem__(self, name: str) -> None:
        del self._own[name]

    def __iter__(self) -> Iterator[str]:
        yield _SERVER_COMMANDS[0]
        yield from self._own
        yield from _SERVER_COMMANDS[1:]

    def __len__(self) -> int:
        return len(self._own) + len(_SERVER_COMMANDS)


class _Group(TyperGroup):
    """The ``kpi`` group, with ``serve`` and ``keys`` loaded on demand."""

    def __init__(self, **attrs: Any) -> None:
        super().__init__(**attrs)
        self.commands = _Commands(self.commands)


@functools.cache
def _server_commands() -> dict[str, Any]:
    """``kpi serve`` and ``kpi keys``, built by Typer from api/server_cli.py on first use."""
    from api.server_cli import register

    server = typer.Typer(add_completion=False)
    register(server)
    return dict(typer.main.get_command(server).commands)  # type: ignore[attr-defined]


app = typer.Typer(
    name="kpi",
    help="KPI Forge: validate KPI packs, explain their formulas and draw their dependency graphs.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    cls=_Group,
)


@app.command()
def validate(
    paths: Annotated[
        list[str] | None,
        typer.Argument(
            help="Pack directories, files or ids (default: every pack found).", show_default=False
        ),
    ] = None,
    as_json: AsJson = False,
    packs_dir: PacksDir = None,
    strict_locales: Annotated[
        str | None,
        typer.Option(
            "--strict-locales",
            help="Comma-separated locales (e.g. zh,en) that every label, description, cause, "
            "remedy and band text of the pack must carry: each one missing is an error "
            "KPI-R026 at its line (a label left out, which shows the id, lacks them all).",
            show_default=False,
        ),
    ] = None,
    locale: TextLocale = None,
) -> None:
    """Check packs: YAML, schema, formulas, references, bands, cycles; prove their checks."""
    from engine.api import PackNotFound, Problem, check_pack, missing_translations

    locales = _locales(strict_locales)
    library = _library(packs_dir)
    targets = list(paths or library.pack_ids())
    if not targets:
        raise _fail("no packs given and none found")
    report: list[dict[str, Any]] = []
    failed = False
    for target in targets:
        if not target.strip():
            raise _fail("an empty pack name was given")
        try:
            compiled, problems = check_pack(target, library)
        except PackNotFound as err:
            compiled = None
            problems = [Problem.at("KPI-L009", str(err), None)]
        if compiled is not None and locales:
            problems = sorted(
                [*problems, *missing_translations(compiled.pack, locales)],
                key=lambda p: (p.file or "", p.line, p.column, p.code),
            )
        errors = sum(p.severity == "error" for p in problems)
        failed = failed or errors > 0
        entry: dict[str, Any] = {
            "pack": target,
            "valid": errors == 0,
            "problems": [p.to_json() for p in problems],
        }
        if compiled is not None:
            entry.update(
                {
                    "id": compiled.pack.id,
                    "version": compiled.pack.version,
                    "metrics": len(compiled.pack.metrics),
                    "inputs": len(compiled.pack.inputs),
                    "checks": {k: v.to_json() for k, v in compiled.proofs.items()},
                }
            )
        report.append(entry)
        if not as_json:
            for p in problems:
                typer.echo(format_problem(p, locale))
            typer.echo(_summary(target, compiled, problems, locale))
    if as_json:
        typer.echo(json.dumps(report, ensure_ascii=False, indent=2))
    if failed:
        raise typer.Exit(1)


@app.command("lineage")
def lineage_cmd(
    pack: Annotated[str, typer.Argument(help="Pack directory, file or id.")],
    metric: Annotated[str, typer.Argument(help="Metric (or input, param, check or rule) id.")],
    kind: Annotated[
        str | None,
        typer.Option(
            "--kind",
            help="metric, input, param, check or rule, when a check or "
            "rule has the id of a metric (default: whichever has the id, a "
            "metric, input or param first).",
        ),
    ] = None,
    locale: Locale = None,
    as_json: AsJson = False,
    packs_dir: PacksDir = None,
) -> None:
    """Explain a metric (or a check or rule): its formula, the expansion down to inputs, how each
    measured input is computed from the raw ledger, what it uses and what uses it."""
    from engine.api import KpiError, lineage, render_text

    if kind not in (None, "metric", "input", "param", "check", "rule"):
        raise _fail(f"unknown --kind '{kind}': choose metric, input, param, check or rule")
    compiled = _compile_or_exit(pack, packs_dir, locale)
    try:
        info = lineage(compiled, metric, locale, kind=kind)
    except KpiError as err:
        raise _fail(str(err)) from None
    if as_json:
        typer.echo(json.dumps(info, ensure_ascii=False, indent=2))
    else:
        typer.echo(render_text(info, compiled))


@app.command()
def graph(
    pack: Annotated[str, typer.Argument(help="Pack directory, file or id.")],
    fmt: Annotated[str, typer.Option("--format", "-f", help="json, dot or mermaid.")] = "json",
    locale: Locale = None,
    packs_dir: PacksDir = None,
) -> None:
    """Print the dependency graph of a pack (dashed / 'previous' edges reach into the last \
period)."""
    from engine.api import graph_export

    if fmt not in ("json", "dot", "mermaid"):
        raise _fail(f"unknown format '{fmt}': choose json, dot or mermaid")
    typer.echo(graph_export(_compile_or_exit(pack, packs_dir, locale), fmt, locale))


@app.command("eval")
def eval_cmd(
    pack: Annotated[str, typer.Argument(help="Pack directory, file or id.")],
    inputs: Annotated[
        Path,
        typer.Option(
            "--inputs",
            "-i",
            help="Data: .csv (with header; UTF-8, UTF-16 or GB18030), .json (list of rows), "
            ".parquet or .xlsx (book.xlsx#Sheet, or --sheet).",
            show_default=False,
        ),
    ],
    sheet: Sheet = None,
    grain: Annotated[
        str | None,
        typer.Option(
            "--grain",
            help="Output grain: day, week, month, quarter, year or "
            "all (one period over the whole range; default: the data's).",
        ),
    ] = None,
    by: Annotated[
        str | None,
        typer.Option(
            "--by",
            help="Dimensions to keep, comma-separated; '' totals across all "
            "(default: every dimension in the data).",
        ),
    ] = None,
    metrics: Annotated[
        str | None,
        typer.Option(
            "--metrics",
            help="Metrics to return, comma-separated (default: every metric the data allows).",
        ),
    ] = None,
    param: Annotated[
        list[str] | None,
        typer.Option(
            "--param", help="Override a param for this evaluation: name=value (repeatable)."
        ),
    ] = None,
    locale: Locale = None,
    trace: Annotated[
        bool, typer.Option("--trace", help="Explain each value: its formula with the numbers.")
    ] = False,
    as_of: AsOf = None,
    formatted: Formatted = False,
    fmt: Format = "json",
    out: Out = None,
    packs_dir: PacksDir = None,
) -> None:
    """Evaluate a pack over data: values, bands, rules and checks per period and dimension."""
    from engine.api import InputError, evaluate, read_table

    _check_format(fmt, out)
    compiled = _compile_or_exit(pack, packs_dir, locale)
    overrides = _pairs(param or [], "--param", "name=value")
    day = _as_of(as_of)
    try:
        result = evaluate(
            compiled,
            read_table(inputs, sheet),
            grain=grain,
            by=_by(by),
            metrics=_list(metrics),
            params=overrides,
            locale=locale,
            trace=trace,
            as_of=day,
        )
    except InputError as err:
        message = f"{inputs}: {err}"
        if err.hint:
            message += f"\n  hint: {err.hint}"
        raise _fail_input(err, message, locale) from None
    _emit(result, fmt, out, compiled, locale, formatted)


@app.command()
def sql(
    pack: Annotated[str, typer.Argument(help="Pack directory, file or id.")],
    dialect: Annotated[
        str,
        typer.Option("--dialect", help="duckdb, spark, trino, postgres, bigquery or snowflake."),
    ] = "duckdb",
    grain: Annotated[
        str | None,
        typer.Option(
            "--grain",
            help="Output grain: day, week, month, quarter, year or all (default: the pack's).",
        ),
    ] = None,
    by: Annotated[
        str | None, typer.Option("--by", help="Dimensions to keep, comma-separated; '' totals.")
    ] = None,
    as_of: AsOf = None,
    param: Annotated[
        list[str] | None, typer.Option("--param", help="Override a param: name=value (repeatable).")
    ] = None,
    with_metrics: Annotated[
        bool,
        typer.Option(
            "--metrics/--measures-only", help="Also compute the metrics that have no carry-over."
        ),
    ] = True,
    packs_dir: PacksDir = None,
) -> None:
    """Print the SQL of the evaluation `kpi run` makes with the same options: the pack's measured
    inputs from its sources, rolled up to the grain and --by (distinct counts counted again), and
    the metrics computable from them (those without previous(), growth(), … or round()), per
    period and dimension member; `period` is the first moment of the period."""
    from engine.api import KpiError, measure_sql

    compiled = _compile_or_exit(pack, packs_dir)
    try:
        queries = measure_sql(
            compiled,
            dialect,
            grain,
            metrics=with_metrics,
            by=_by(by),
            as_of=_as_of(as_of),
            params=_pairs(param or [], "--param", "name=value"),
        )
    except KpiError as err:
        raise _fail_input(err, str(err)) from None
    if not queries:
        raise _fail(f"pack '{compiled.pack.id}' has no inputs with a measure")
    for sid, text in queries.items():
        typer.echo(f"-- source {sid}\n{text};\n")


@app.command("run")
def run_cmd(
    pack: Annotated[str, typer.Argument(help="Pack directory, file or id.")],
    source: Annotated[
        list[str],
        typer.Option(
            "--source",
            help="NAME=PATH of a source's records (.csv, .parquet, .xlsx — book.xlsx#Sheet "
            "for a sheet other than the first — or a .duckdb file with a table NAME); "
            "repeatable.",
            show_default=False,
        ),
    ],
    data: Annotated[
        Path | None,
        typer.Option(
            "--data",
            help="Input rows for the inputs without a measure "
            "(e.g. marketing spend), joined on period and "
            "dimensions.",
        ),
    ] = None,
    sheet: Sheet = None,
    grain: Annotated[
        str | None,
        typer.Option(
            "--grain",
            help="Output grain: day, week, month, quarter, year or all (default: the pack's).",
        ),
    ] = None,
    by: Annotated[
        str | None, typer.Option("--by", help="Dimensions to keep, comma-separated; '' totals.")
    ] = None,
    metrics: Annotated[
        str | None,
        typer.Option("--metrics", help="Metrics (or inputs) to return, comma-separated."),
    ] = None,
    param: Annotated[
        list[str] | None,
        typer.Option(
            "--param",
            help="Override a param (in measures and formulas): "
            "name=value (repeatable), e.g. churn_days=60.",
        ),
    ] = None,
    locale: Locale = None,
    trace: Annotated[
        bool, typer.Option("--trace", help="Explain each value: its formula with the numbers.")
    ] = False,
    as_of: AsOf = None,
    formatted: Formatted = False,
    fmt: Format = "json",
    out: Out = None,
    packs_dir: PacksDir = None,
) -> None:
    """Compute the measured inputs from raw records with DuckDB, then evaluate the pack.

    Measures run at the pack's base grain and are rolled up like any input; inputs that cannot
    be combined (rollup none: distinct counts) are counted again at the output grain and --by
    (docs/measures.md). Progress goes to stderr; the result to stdout.
    """
    from engine.api import KpiError, evaluate_records, measured_sources, read_table

    _check_format(fmt, out)
    compiled = _compile_or_exit(pack, packs_dir, locale)
    paths = {name: Path(path) for name, path in _pairs(source, "--source", "NAME=PATH").items()}
    for sid in measured_sources(compiled):
        if sid not in paths and sid in compiled.pack.sources:
            left = [
                i.id for i in compiled.pack.inputs.values() if i.measure and i.measure.source == sid
            ]
            if any(s in paths for s in measured_sources(compiled)):
                typer.echo(
                    f"note: no --source {sid}=PATH: "
                    f"{', '.join(left[:6])}{' …' if len(left) > 6 else ''} stay empty",
                    err=True,
                )
    show = _Progress()
    overrides = _pairs(param or [], "--param", "name=value")
    day = _as_of(as_of)
    try:
        rows = read_table(data, sheet) if data is not None else None
        result = evaluate_records(
            compiled,
            paths,
            data=rows,
            grain=grain,
            by=_by(by),
            metrics=_list(metrics),
            params=overrides,
            locale=locale,
            trace=trace,
            as_of=day,
            progress=show,
        )
        show.done()
    except KpiError as err:
        show.done()
        hint = (
            " (inputs without a measure come from --data PATH)"
            if data is None and "the data lacks" in str(err)
            else ""
        )
        raise _fail_input(err, f"{err}{hint}", locale) from None
    _emit(result, fmt, out, compiled, locale, formatted)


@app.command()
def checks(
    pack: Annotated[str, typer.Argument(help="Pack directory, file or id.")],
    as_json: AsJson = False,
    packs_dir: PacksDir = None,
) -> None:
    """Show what the compiler proves about each check: proved, refuted or depends on data."""
    compiled = _compile_or_exit(pack, packs_dir)
    if as_json:
        typer.echo(
            json.dumps(
                {k: v.to_json() for k, v in compiled.proofs.items()}, ensure_ascii=False, indent=2
            )
        )
        return
    for cid, proof in compiled.proofs.items():
        check = compiled.pack.checks[cid]
        typer.echo(f"{cid}: {proof.status.replace('_', ' ')} — {check.assertion}")
        typer.echo(f"    {proof.reason}")
        if proof.residual:
            typer.echo(f"    residual (left − right): {proof.residual}")


@app.command()
def docs(
    pack: Annotated[str, typer.Argument(help="Pack directory, file or id.")],
    locale: Locale = None,
    packs_dir: PacksDir = None,
) -> None:
    """Print a pack's catalog as Markdown: every indicator with its formula, bands, rules and \
source."""
    from engine.api import pack_markdown

    compiled = _compile_or_exit(pack, packs_dir, locale)
    if locale is not None and locale not in compiled.pack.locales:
        raise _fail(f"unknown locale '{locale}': this pack has {', '.join(compiled.pack.locales)}")
    typer.echo(pack_markdown(compiled, locale), nl=False)


@app.command("demo-data")
def demo_data(
    kind: Annotated[
        str, typer.Argument(help="Which ledger: bakery (the card-event ledger of the bakery pack).")
    ],
    out: Annotated[
        Path,
        typer.Option(
            "--out",
            help="Folder to write card_events.csv and card_events.parquet into.",
            show_default=False,
        ),
    ],
    stores: Annotated[int, typer.Option("--stores", min=1, max=500, help="Number of stores.")] = 5,
    months: Annotated[int, typer.Option("--months", min=1, max=240, help="Number of months.")] = 24,
    members: Annotated[
        int, typer.Option("--members", min=1, max=5_000_000, help="Members who ever join.")
    ] = 2000,
    seed: Annotated[
        int, typer.Option("--seed", help="Random seed: the same seed gives the same ledger.")
    ] = 7,
    start: Annotated[str, typer.Option("--start", help="First month, e.g. 2025-01.")] = "2025-01",
) -> None:
    """Write a realistic demo ledger: recharge tiers and bonuses, seasonal campaigns, spend, points,
    rebates, imports, cancellations, churn, and one store in decline."""
    from engine.demo import bakery as demo

    if kind != "bakery":
        raise _fail(f"unknown demo ledger '{kind}': the one available is 'bakery'")
    if not re.fullmatch(r"[0-9]{4}-(0[1-9]|1[0-2])", start):
        raise _fail(f"--start '{start}' must be a month such as 2025-01")
    typer.echo(f"generating {stores} store(s) x {months} month(s), {members:,} members …", err=True)
    ledger = demo.bakery_ledger(
        stores=stores, months=months, members=members, seed=seed, start=start
    )
    try:
        out.mkdir(parents=True, exist_ok=True)
        paths = demo.write_ledger(ledger, out)
    except OSError as err:
        raise _fail(f"cannot write to {out}: {err.strerror}") from None
    typer.echo(f"{len(ledger['kind']):,} events")
    for path in paths:
        typer.echo(f"wrote {path}")


@app.command()
def schema() -> None:
    """Print the JSON Schema of packs (point your editor's YAML plugin at it for autocompletion)."""
    from engine.api import pack_schema

    typer.echo(json.dumps(pack_schema(), ensure_ascii=False, indent=2))


@app.command()
def codes(as_json: AsJson = False, locale: TextLocale = None) -> None:
    """List every problem code with its meaning."""
    from engine.api import CODES, RUNTIME_CODES, Code, RuntimeCode

    entries: list[Code | RuntimeCode] = [*CODES.values(), *RUNTIME_CODES.values()]
    if as_json:
        typer.echo(json.dumps([vars(c) for c in entries], ensure_ascii=False, indent=2))
        return
    lang = _text_locale(locale)
    for c in entries:
        typer.echo(f"{c.code}  {c.severity:<7}  {c.title_in(lang)}")


@app.command()
def packs(packs_dir: PacksDir = None) -> None:
    """List the packs found by id (in --packs-dir, $KPI_PACKS_PATH and the built-in metrics/)."""
    library = _library(packs_dir)
    for ident in library.pack_ids():
        typer.echo(f"{ident}\t{library.candidates(ident)[0]}")


def _register_template() -> None:
    from api.cli_template import template_cmd

    app.command("template")(template_cmd)


_register_template()


# kpi publish, pull and init (api/cli_publish.py: httpx and the engine load in their bodies)
_register_publishing(app)


def main() -> None:
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
