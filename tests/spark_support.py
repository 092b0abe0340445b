"""Spark in local mode for the tests: one quiet session, columns in as temp views, rows out, and a
row-by-row comparison of two engines' results.

Time stamps are the trap. A ledger's times are naive local business times; Spark's
``TIMESTAMP`` is an instant shown in the session time zone, and PySpark turns a naive Python
``datetime`` into an instant with the *Python process's* local zone (``time.mktime``) and back
with it (``datetime.fromtimestamp``). So nothing here goes through that path: the session time
zone is UTC, naive times go in as epoch microseconds read as UTC (``timestamp_micros``), and
time stamps come out cast to ``TIMESTAMP_NTZ`` (converted with UTC). A wall-clock time then
stays the same wall-clock time whatever the zone of the machine, the JVM or the Python process.
"""

from __future__ import annotations

import datetime as dt
import math
import os
import sys
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from engine.compile.pack import CompiledPack
from engine.core.periods import from_date
from engine.evaluate.measures import measure_sql

if TYPE_CHECKING:  # pyspark is imported only when a Spark test runs
    from pyspark.sql import DataFrame, SparkSession

_EPOCH = dt.datetime(1970, 1, 1)
_LOG4J = """\
# WARN while Spark starts (at any other level a shell prints "Setting default log level"), then
# spark_session() sets ERROR; Hadoop's note about native libraries is not worth a line
rootLogger.level = warn
logger.hadoop.name = org.apache.hadoop.util.NativeCodeLoader
logger.hadoop.level = error
rootLogger.appenderRef.stderr.ref = console
appender.console.type = Console
appender.console.name = console
appender.console.target = SYSTEM_ERR
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = %d{HH:mm:ss} %p %c{1}: %m%n
"""


@contextmanager
def spark_session(scratch: Path) -> Iterator[SparkSession]:
    """A local Spark session (2 cores, no UI, UTC, logs at ERROR once started); its log
    configuration and warehouse go in ``scratch``."""
    from pyspark.sql import SparkSession

    log4j = scratch / "log4j2.properties"
    log4j.write_text(_LOG4J, encoding="utf-8")
    java_options = f"-Duser.timezone=UTC -Dlog4j2.configurationFile={log4j.as_uri()}"
    builder = (
        SparkSession.builder.master("local[2]")
        .appName("kpi-forge-tests")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.driver.memory", "512m")
        .config("spark.driver.extraJavaOptions", java_options)
        .config("spark.sql.warehouse.dir", str(scratch / "warehouse"))
        .config("spark.pyspark.python", sys.executable)
    )
    # the loopback address is fine for local mode; say so, or Spark warns about the host name
    old = os.environ.get("SPARK_LOCAL_IP")
    os.environ["SPARK_LOCAL_IP"] = "127.0.0.1"
    try:
        spark = builder.getOrCreate()
    finally:
        if old is None:
            del os.environ["SPARK_LOCAL_IP"]
        else:
            os.environ["SPARK_LOCAL_IP"] = old
    spark.sparkContext.setLogLevel("ERROR")
    try:
        yield spark
    finally:
        spark.stop()


# -- data in ---------------------------------------------------------------------------------------


def _micros(value: Any) -> int | None:
    """Epoch microseconds of a time stamp; a naive one is a wall-clock time, read as UTC."""
    if value is None:
        return None
    if isinstance(value, np.datetime64):
        return None if np.isnat(value) else int(value.astype("datetime64[us]").astype(np.int64))
    if isinstance(value, dt.datetime):
        naive = value if value.tzinfo is None else value.astimezone(dt.UTC).replace(tzinfo=None)
        return (naive - _EPOCH) // dt.timedelta(microseconds=1)
    raise TypeError(f"not a time stamp: {value!r}")


def _column(values: Sequence[Any] | np.ndarray) -> tuple[str, list[Any]]:
    """A column as (Spark type name, plain Python values); time stamps as epoch microseconds."""
    if isinstance(values, np.ndarray):
        kind = values.dtype.kind
        if kind == "M" and np.datetime_data(values.dtype)[0] == "D":
            return "date", values.tolist()  # datetime.date, NaT as None
        if kind == "M":
            us = values.astype("datetime64[us]")
            ints = us.astype(np.int64).tolist()
            return "timestamp", [
                None if nat else v for v, nat in zip(ints, np.isnat(us), strict=True)
            ]
        simple = {
            "U": "string",
            "S": "string",
            "f": "double",
            "i": "bigint",
            "u": "bigint",
            "b": "boolean",
        }
        if kind in simple:
            return simple[kind], values.tolist()
        values = values.tolist()
    first = next((v for v in values if v is not None), None)
    if isinstance(first, dt.datetime | np.datetime64):
        return "timestamp", [_micros(v) for v in values]
    if isinstance(first, dt.date):
        return "date", list(values)
    if isinstance(first, bool):
        return "boolean", list(values)
    if isinstance(first, int) and all(v is None or isinstance(v, int) for v in values):
        return "bigint", list(values)
    if isinstance(first, int | float | Decimal):
        return "double", [None if v is None else float(v) for v in values]
    if first is None or isinstance(first, str):
        return "string", [None if v is None else str(v) for v in values]
    raise TypeError(f"cannot give Spark a column of {type(first).__name__}")


def _quote(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"


def register(
    spark: SparkSession, name: str, columns: Mapping[str, Sequence[Any] | np.ndarray]
) -> DataFrame:
    """Make ``columns`` the temp view ``name``: time stamps as TIMESTAMP (wall clock kept, see the
    module docstring), dates as DATE, text as STRING, floats as DOUBLE, integers as BIGINT."""
    from pyspark.sql import functions as F

    lengths = {len(v) for v in columns.values()}
    if len(lengths) > 1:
        raise ValueError(f"columns of '{name}' differ in length: {sorted(lengths)}")
    typed = {col: _column(values) for col, values in columns.items()}
    schema = ", ".join(
        f"{_quote(col)} {'bigint' if t == 'timestamp' else t}" for col, (t, _) in typed.items()
    )
    rows = list(zip(*(v for _, v in typed.values()), strict=True))
    df = spark.createDataFrame(rows, schema)
    df = df.select(
        *(
            F.timestamp_micros(F.col(_quote(col))).alias(col)
            if t == "timestamp"
            else F.col(_quote(col))
            for col, (t, _) in typed.items()
        )
    )
    df.createOrReplaceTempView(name)
    return df


# -- results out -----------------------------------------------------------------------------------


def collect_sql(spark: SparkSession, sql: str) -> tuple[list[str], list[tuple[Any, ...]]]:
    from pyspark.sql import functions as F
    from pyspark.sql.types import TimestampType

    df = spark.sql(sql)
    # TIMESTAMP → TIMESTAMP_NTZ with the session zone (UTC): collected without the Python zone
    df = df.select(
        *(
            F.col(_quote(f.name)).cast("timestamp_ntz").alias(f.name)
            if isinstance(f.dataType, TimestampType)
            else F.col(_quote(f.name))
            for f in df.schema.fields
        )
    )
    return df.columns, [tuple(row) for row in df.collect()]


def run_spark_sql(spark: SparkSession, sql: str) -> list[tuple[Any, ...]]:
    """The rows of ``sql``, as tuples; time stamps as naive wall-clock datetimes."""
    return collect_sql(spark, sql)[1]


def run_spark_measures(
    spark: SparkSession,
    c: CompiledPack,
    sources: Mapping[str, Mapping[str, Any]],
    grain: str | None = None,
) -> dict[str, list[Any]]:
    """:func:`engine.evaluate.measures.run_measures` on Spark: each given source's columns
    registered as a temp view named after the source, its SQL rendered for Spark, the periods as
    labels (see :func:`period_label`), rows merged on period and dimensions in the same way."""
    queries = {sid: sql for sid, sql in measure_sql(c, "spark", grain).items() if sid in sources}
    assert queries, f"none of the sources {sorted(sources)} has a measured input"
    the_grain = grain or c.pack.grain
    merged: dict[tuple[Any, ...], dict[str, Any]] = {}
    names: list[str] = []
    for sid, sql in queries.items():
        register(spark, sid, sources[sid])
        columns, rows = collect_sql(spark, sql)
        keys = 1 + len(c.pack.sources[sid].dimensions)
        names += [n for n in columns if n not in names]
        for row in rows:
            values = dict(zip(columns, row, strict=True))
            values["period"] = period_label(values["period"], the_grain)
            merged.setdefault((values["period"], *row[1:keys]), {}).update(values)
    return {n: [values.get(n) for values in merged.values()] for n in names}


# -- comparison ------------------------------------------------------------------------------------


def period_label(value: Any, grain: str) -> Any:
    """A period as its label: text stays as it is; a date (or datetime at midnight) that starts a
    period of ``grain`` becomes that period's label; any other date stays an ISO text, so that it
    differs from every label."""
    if isinstance(value, dt.datetime):
        if value.time() != dt.time(0):
            return value.isoformat(sep=" ")
        value = value.date()
    if isinstance(value, dt.date) and grain == "all":  # the one period over the whole range
        return "all"
    if isinstance(value, dt.date):
        period = from_date(value, grain)
        return period.label if period.start == value else value.isoformat()
    return value


def _same(a: Any, b: Any, rel: float) -> bool:
    if a is None or b is None:
        return a is None and b is None
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    if isinstance(a, int) and isinstance(b, int):  # counts: exact
        return a == b
    if isinstance(a, int | float | Decimal) and isinstance(b, int | float | Decimal):
        x, y = float(a), float(b)
        if math.isnan(x) or math.isnan(y):
            return math.isnan(x) and math.isnan(y)
        return math.isclose(x, y, rel_tol=rel, abs_tol=1e-12)
    return bool(a == b)


def assert_same_results(
    duckdb_columns: Mapping[str, Sequence[Any]],
    spark_rows: Mapping[str, Sequence[Any]] | Sequence[Sequence[Any]],
    *,
    keys: Sequence[str],
    grain: str = "month",
    columns: Sequence[str] | None = None,
    rel: float = 1e-9,
) -> None:
    """Assert that two engines give the same rows: matched on ``keys`` (a ``period`` key is
    compared as its label at ``grain``, so a 'YYYY-MM' text equals that month's first day),
    every column equal, integers exactly, other numbers within ``rel`` relative.

    ``spark_rows`` is columns (like ``duckdb_columns``), or rows whose values are in the order of
    ``columns`` (by default the order of ``duckdb_columns``)."""
    if isinstance(spark_rows, Mapping):
        other = {n: list(v) for n, v in spark_rows.items()}
    else:
        names = list(columns if columns is not None else duckdb_columns)
        bad = [r for r in spark_rows if len(r) != len(names)]
        assert not bad, f"rows of {len(bad[0])} values for the {len(names)} columns {names}"
        other = {n: [r[i] for r in spark_rows] for i, n in enumerate(names)}
    assert sorted(duckdb_columns) == sorted(other), (
        f"columns differ: {list(duckdb_columns)} vs {list(other)}"
    )
    missing_keys = [k for k in keys if k not in duckdb_columns]
    assert not missing_keys, f"no key column(s) {missing_keys}"

    def by_key(
        cols: Mapping[str, Sequence[Any]], engine: str
    ) -> dict[tuple[Any, ...], dict[str, Any]]:
        out: dict[tuple[Any, ...], dict[str, Any]] = {}
        n = len(next(iter(cols.values()), []))
        for i in range(n):
            key = tuple(
                period_label(cols[k][i], grain) if k == "period" else cols[k][i] for k in keys
            )
            assert key not in out, f"{engine}: two rows for {key}"
            out[key] = {c: v[i] for c, v in cols.items() if c not in keys}
        return out

    left, right = by_key(duckdb_columns, "duckdb"), by_key(other, "spark")
    only_left = sorted(set(left) - set(right), key=repr)
    only_right = sorted(set(right) - set(left), key=repr)
    assert not only_left and not only_right, (
        f"rows only from duckdb: {only_left[:5]} ({len(only_left)}); "
        f"only from spark: {only_right[:5]} ({len(only_right)})"
    )
    diffs = [
        f"{key} {col}: duckdb {value!r}, spark {right[key][col]!r}"
        for key, row in sorted(left.items(), key=lambda kv: repr(kv[0]))
        for col, value in row.items()
        if not _same(value, right[key][col], rel)
    ]
    assert not diffs, f"{len(diffs)} value(s) differ:\n" + "\n".join(diffs[:20])
