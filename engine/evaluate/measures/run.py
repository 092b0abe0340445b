"""Run a pack's measures on DuckDB over CSV, Parquet or DuckDB-file sources, or in-memory tables.

A source is given as a path, or as a table in memory: a mapping of column name to values (text,
as the HTTP API receives records), registered in DuckDB as it is and typed as its CSV would be
(:mod:`engine.evaluate.measures.memory`); messages then name it ``(records)`` in place of a file.

Before a query runs, each source is checked against what the pack says of it (its time,
dimension and entity columns, and its declared ``columns``: type, ``values``, ``min``); every
problem is one :class:`InputError` naming the source, the column and up to five offending rows
(row 1 is the first record: line 2 of a CSV with a header). Nothing is computed from a source
that fails its checks.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlglot import exp

from engine.compile.pack import CompiledPack
from engine.core.errors import InputError
from engine.core.model import DataSource
from engine.core.periods import Period, from_date
from engine.evaluate.cells import RATIO_UNITS
from engine.evaluate.measures import ledger_files, memory
from engine.evaluate.measures.checks import check_source
from engine.evaluate.measures.headers import header_names, rename_headers
from engine.evaluate.measures.query import measure_query, measured_sources
from engine.evaluate.measures.sqlparts import COUNTER_DIGITS
from engine.evaluate.table import Columns, cell_text, dimension_codes, numeric, periods_of
from engine.evaluate.workbook import SUFFIXES as XLSX_SUFFIXES
from engine.evaluate.workbook import split_sheet

#: Most offending rows quoted in an error.
#: Most periods one query's calendar holds (engine.evaluate.measures.query.COUNTER_DIGITS)
MAX_PERIODS = 10**COUNTER_DIGITS
Progress = Callable[[str, float], None]  # (source id, fraction done in [0, 1])
#: a source's records: a file (CSV, Parquet, DuckDB), or a table in memory (column → values)
SourceData = Path | str | Columns | Mapping[str, Sequence[Any]]


def _table(data: SourceData) -> Mapping[str, Sequence[Any]] | None:
    """The in-memory table ``data`` is, or None for a path."""
    if isinstance(data, Columns):
        return data.data
    if isinstance(data, Path | str):
        return None
    return data


def source_label(data: SourceData) -> str:
    """How messages name a source's records: the file's name, or ``records``."""
    return memory.LABEL if _table(data) is not None else Path(str(data)).name


def _q(name: str) -> str:
    return exp.to_identifier(name, quoted=True).sql("duckdb")


def _text_columns(source: DataSource) -> set[str]:
    """Columns read from a CSV as text whatever they look like: the time (parsed strictly, ISO
    only, by the checks and the query), dimensions, the entity and every declared column (cast
    by the query). Guessing their types from a sample could round 1.5 to 2 or read 03/04/2025 as
    a day-first date without a word. With the file's headers of the columns ``headers`` maps."""
    return header_names(
        source,
        {
            source.time,
            *source.dimensions.values(),
            *([source.entity] if source.entity else []),
            *source.columns,
        },
    )


def _load(
    con: Any, source: DataSource, sid: str, data: SourceData, label: str = memory.LABEL
) -> None:
    """A view named after the source over its file or its in-memory table (``label``: how
    messages name a table: ``records``, or the workbook it was read from)."""
    import duckdb

    table = _table(data)
    if table is not None:
        try:
            memory.register_table(con, sid, table, _text_columns(source))
        except duckdb.Error as err:
            raise InputError(
                f"source '{sid}' ({label}): {str(err).splitlines()[0]}", code="KPI-E039"
            ) from None
        rename_headers(con, source, sid, label)
        return
    path, sheet = split_sheet(str(data))
    if not path.is_file():
        raise InputError(f"source '{sid}': file not found: {path}", code="KPI-E001")
    suffix = path.suffix.lower()
    if suffix in XLSX_SUFFIXES or sheet is not None:
        if suffix not in XLSX_SUFFIXES:
            raise InputError(
                f"source '{sid}' ({path.name}) is not an Excel workbook: a sheet is chosen only "
                "in a .xlsx file",
                code="KPI-E052",
            )
        _load(con, source, sid, ledger_files.xlsx_records(path, sheet, sid), path.name)
        return
    try:
        if suffix in (".duckdb", ".db"):
            con.execute(
                f"ATTACH {exp.Literal.string(str(path)).sql('duckdb')} "
                f"AS {_q('kpi__' + sid)} (READ_ONLY)"
            )
            con.execute(f"CREATE VIEW {_q(sid)} AS SELECT * FROM {_q('kpi__' + sid)}.{_q(sid)}")
        elif suffix == ".parquet":
            con.read_parquet(str(path)).create_view(sid, replace=True)
        else:
            _load_csv(con, source, sid, path)
        con.execute(
            f"SELECT * FROM {_q(sid)} LIMIT 0"
        ).fetchall()  # a result left open blocks the connection
    except duckdb.Error as err:
        raise InputError(
            f"source '{sid}' ({path.name}): {str(err).splitlines()[0]}", code="KPI-E039"
        ) from None
    rename_headers(con, source, sid, path.name)


def _load_csv(con: Any, source: DataSource, sid: str, path: Path) -> None:
    """A view over a UTF-8 CSV; a table read from a UTF-8 copy of any other (ledger_files)."""
    with ledger_files.utf8_csv(path, sid) as (csv, copied):
        header = con.read_csv(str(csv), header=True, all_varchar=True).columns
        text = {n: "VARCHAR" for n in header if n in _text_columns(source)}
        # the other columns' types are guessed from the whole file, not a sample
        rel = con.read_csv(str(csv), header=True, dtype=text, sample_size=-1)
        if copied:  # read now: the copy is removed when the block ends
            rel.create(sid)
        else:
            rel.create_view(sid, replace=True)


def _execute(con: Any, sql: str, sid: str, progress: Progress | None) -> Any:
    """Run a query; report DuckDB's progress every 0.2 s while it works."""
    if progress is None:
        return con.execute(sql)
    done = threading.Event()
    result: dict[str, Any] = {}

    def work() -> None:
        try:
            result["cursor"] = con.execute(sql)
            result["rows"] = result["cursor"].fetchall()
        except BaseException as err:  # handed to the caller's thread  # noqa: BLE001
            result["error"] = err
        finally:
            done.set()

    thread = threading.Thread(target=work, daemon=True)
    thread.start()
    while not done.wait(0.2):
        fraction = con.query_progress()
        if fraction is not None and fraction >= 0:
            progress(sid, min(float(fraction) / 100.0, 1.0))
    thread.join()
    if "error" in result:
        raise result["error"]
    progress(sid, 1.0)
    return _Fetched(result["cursor"].description, result["rows"])


class _Fetched:
    def __init__(self, description: Any, rows: list[tuple[Any, ...]]) -> None:
        self.description = description
        self._rows = rows

    def fetchall(self) -> list[tuple[Any, ...]]:
        return self._rows


def _label(value: Any, grain: str) -> str:
    if grain == "all":
        return "all"
    day = value.date() if isinstance(value, datetime) else value
    if not isinstance(day, date):
        raise InputError(f"a period came back as {value!r}, not a date", code="KPI-E039")
    return str(from_date(day, grain))


#: settings of every DuckDB connection the measures open (empty: DuckDB's defaults, i.e. a
#: thread per core and 80 % of the machine's memory); see :func:`configure_duckdb`
DUCKDB_CONFIG: dict[str, str] = {}


def configure_duckdb(*, threads: int | None = None, memory_limit_bytes: int | None = None) -> None:
    """Bound the DuckDB connections this process opens from now on (a server's evaluation worker
    does, to stay within its own memory limit whatever the number of cores)."""
    if threads is not None:
        DUCKDB_CONFIG["threads"] = str(max(1, threads))
    if memory_limit_bytes is not None:
        DUCKDB_CONFIG["memory_limit"] = f"{max(memory_limit_bytes // (1024 * 1024), 64)}MB"


def _connect() -> Any:
    import duckdb

    return duckdb.connect(config=dict(DUCKDB_CONFIG))


def open_sources(c: CompiledPack, paths: Mapping[str, SourceData]) -> Any:
    """A DuckDB connection with a checked view named after each source over its file or table."""
    con = _connect()
    for sid, data in paths.items():
        _load(con, c.pack.sources[sid], sid, data)
        check_source(con, c, sid, source_label(data))
    return con


class Records:
    """The raw records of one evaluation: each source's file or in-memory table as a DuckDB view,
    checked against the pack, ready to be measured at any grain (the base grain, and again at the
    output grain for the inputs that cannot be combined)."""

    def __init__(self, c: CompiledPack, paths: Mapping[str, SourceData]) -> None:
        unknown = sorted(s for s in paths if s not in c.pack.sources)
        if unknown:
            raise InputError(
                f"pack '{c.pack.id}' has no source {', '.join(repr(s) for s in unknown)} "
                f"(its sources: {', '.join(c.pack.sources) or 'none'})",
                code="KPI-E035",
            )
        self.wanted = [s for s in measured_sources(c) if s in paths]
        if not self.wanted:
            needed = measured_sources(c)
            if not needed:
                raise InputError(
                    f"pack '{c.pack.id}' has no inputs with a measure", code="KPI-E036"
                )
            raise InputError(
                f"no data for source '{needed[0]}': give it as --source {needed[0]}=PATH",
                code="KPI-E037",
            )
        self.dims = [
            d
            for d in c.pack.dimensions
            if any(d in c.pack.sources[s].dimensions for s in self.wanted)
        ]
        for sid in self.wanted:
            if set(c.pack.sources[sid].dimensions) != set(self.dims):
                raise InputError(
                    f"the sources {', '.join(self.wanted)} have different dimensions: measures of "
                    "several sources are joined on the period and the same dimensions",
                    code="KPI-E038",
                )
        self.c = c
        self.labels = {sid: source_label(paths[sid]) for sid in self.wanted}
        self.con = _connect()
        for sid in self.wanted:
            _load(self.con, c.pack.sources[sid], sid, paths[sid])
            check_source(self.con, c, sid, self.labels[sid])

    def last_day(self) -> date:
        """The day of the last record of any source."""
        days = []
        for sid in self.wanted:
            time = _q(self.c.pack.sources[sid].time)
            days.append(
                self.con.execute(
                    f"SELECT max(CAST(CAST({time} AS TIMESTAMP) AS DATE)) FROM {_q(sid)}"
                ).fetchall()[0][0]
            )
        last: date = max(d for d in days if d is not None)
        return last

    def measure(
        self,
        grain: str | None = None,
        *,
        dims: Iterable[str] | None = None,
        inputs: Iterable[str] | None = None,
        as_of: date | None = None,
        params: Mapping[str, Any] | None = None,
        progress: Progress | None = None,
    ) -> dict[str, list[Any]]:
        """Columns of the measured inputs (``inputs``: only these) by period and dimension
        (``dims``: only these), as :func:`run_measures` returns them."""
        import duckdb

        c = self.c
        the_grain = grain or c.pack.grain
        self._check_span(the_grain, as_of)
        kept = self.dims if dims is None else [d for d in self.dims if d in set(dims)]
        wanted_inputs = None if inputs is None else set(inputs)
        merged: dict[tuple[Any, ...], dict[str, Any]] = {}
        names: list[str] = []
        for sid in self.wanted:
            ids = [
                i.id
                for i in c.pack.inputs.values()
                if i.measure is not None
                and i.measure.source == sid
                and (wanted_inputs is None or i.id in wanted_inputs)
            ]
            if not ids:
                continue
            sql = measure_query(
                c, sid, the_grain, params=params, dims=kept, inputs=ids, as_of=as_of
            ).sql("duckdb")
            try:
                cursor = _execute(self.con, sql, sid, progress)
            except duckdb.Error as err:
                raise InputError(
                    f"source '{sid}' ({self.labels[sid]}): {str(err).splitlines()[0]}",
                    code="KPI-E039",
                ) from None
            columns = [d[0] for d in cursor.description]
            names += [n for n in columns if n not in names]
            for row in cursor.fetchall():
                values = dict(zip(columns, row, strict=True))
                values["period"] = _label(values["period"], the_grain)
                # by name: sources order them freely
                key = (values["period"], *(str(values[d]) for d in kept))
                merged.setdefault(key, {}).update(values)
        return {n: [values.get(n) for values in merged.values()] for n in names}

    def _check_span(self, grain: str, as_of: date | None) -> None:
        """Refuse more periods than the query's calendar
        holds (it would stop short without a word)."""
        if grain == "all":
            return
        firsts = []
        for sid in self.wanted:
            time = _q(self.c.pack.sources[sid].time)
            firsts.append(
                self.con.execute(
                    f"SELECT min(CAST(CAST({time} AS TIMESTAMP) AS DATE)) FROM {_q(sid)}"
                ).fetchall()[0][0]
            )
        first = min(d for d in firsts if d is not None)
        last = as_of or self.last_day()
        if last < first:
            return
        count = from_date(last, grain).index - from_date(first, grain).index + 1
        if count > MAX_PERIODS:
            raise InputError(
                f"the records span {count:,} {grain}s ({first.isoformat()} to {last.isoformat()}); "
                f"one query measures at most {MAX_PERIODS:,} periods",
                code="KPI-E021",
                column=self.c.pack.sources[self.wanted[0]].time,
                hint="ask for a coarser grain, or an earlier as_of, or check "
                "for a mistyped time far from the others",
            )

    def close(self) -> None:
        self.con.close()


def run_measures(
    c: CompiledPack,
    paths: Mapping[str, SourceData],
    grain: str | None = None,
    *,
    params: Mapping[str, Any] | None = None,
    progress: Progress | None = None,
    dims: Iterable[str] | None = None,
    inputs: Iterable[str] | None = None,
    as_of: date | None = None,
) -> dict[str, list[Any]]:
    """Compute the inputs measured on the given sources with DuckDB (one file or in-memory table
    per source: :data:`SourceData`).

    Returns columns for :func:`engine.evaluate.evaluation.evaluate`: ``period`` (the pack's period
    labels; "all" for the grain all), the dimensions, then the inputs; several sources are joined on
    period and dimensions. Sources of the pack that are not given are left out (their inputs are
    missing). ``params`` override the pack's params in the measures (``churn_days`` …), as they
    do in formulas; ``as_of``: read the records up to the end of this day (default: all of them,
    with the last record's day as the end of the last period).
    """
    records = Records(c, paths)
    try:
        return records.measure(
            grain, dims=dims, inputs=inputs, as_of=as_of, params=params, progress=progress
        )
    finally:
        records.close()


def merge_inputs(
    c: CompiledPack, measured: Mapping[str, list[Any]], data: Columns
) -> dict[str, list[Any]]:
    """Join measured inputs with input rows given as data (``kpi run --data``), on the period
    and the dimensions of both. An input may come from one of them only."""
    both = sorted(n for n in measured if n in data and n in c.pack.inputs)
    if both:
        raise InputError(
            f"input {', '.join(repr(n) for n in both)} is both measured from a source and given "
            "in the data: drop the column from the data (or the measure from the pack)",
            code="KPI-E044",
        )
    if "period" not in data:
        raise InputError("the data has no 'period' column", code="KPI-E013")
    dims = [d for d in c.pack.dimensions if d in measured]
    other = [d for d in c.pack.dimensions if d in data and d not in measured]
    if other or any(d not in data for d in dims):
        raise InputError(
            f"the data must have the measured inputs' dimensions ({', '.join(dims) or 'none'}) and "
            f"no other: it has {', '.join(d for d in c.pack.dimensions if d in data) or 'none'}",
            code="KPI-E045",
        )
    # the data's own keys, read as an evaluation reads them, so that errors name its rows and
    # headers: periods as periods_of reads them (2026/1, 2026年1月), dimension values as text as
    # dimension_codes makes it (101, not the 101.0 a workbook's number cell gives)
    index, grain = periods_of(data)
    periods = [Period(grain, int(t)).label for t in index.tolist()]
    members = []
    for d in dims:
        codes, labels = dimension_codes(data, d)
        members.append([labels[k] for k in codes.tolist()])
    _check_numbers(c, data)
    rows: dict[tuple[Any, ...], dict[str, Any]] = {}
    names = list(dict.fromkeys([*measured, *data.data]))
    for k in range(len(measured.get("period", []))):
        row = {n: measured[n][k] for n in measured}
        rows[(str(row["period"]), *(cell_text(row[d]).strip() for d in dims))] = row
    given: dict[tuple[Any, ...], int] = {}
    for k in range(data.n):
        key = (periods[k], *(m[k] for m in members))
        if key in given:
            raise InputError(
                f"duplicate row for ({', '.join(key)}): the same key is on data row {given[key]}",
                code="KPI-E020",
                row=k + 1,
                column=data.header("period"),
                hint="each period and dimension member may appear once; sum them first",
            )
        given[key] = k + 1
        row = {n: data.data[n][k] for n in data.data}
        row.update(zip(["period", *dims], key, strict=True))
        rows.setdefault(key, {}).update(row)
    return {n: [r.get(n) for r in rows.values()] for n in names}


def _check_numbers(c: CompiledPack, data: Columns) -> None:
    """The data's input cells read as the evaluation reads them, before the rows are joined
    (and reordered): a bad cell is named by the data's own row and header."""
    for name, spec in c.pack.inputs.items():
        if name in data:
            numeric(
                data,
                name,
                spec.default,
                fill_blank=not spec.required,
                percent=spec.unit in RATIO_UNITS,
            )
