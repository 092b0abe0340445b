"""Fixtures shared by the whole suite."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from pyspark.sql import SparkSession


@pytest.fixture(scope="session")
def spark(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SparkSession]:
    """One local Spark session for every Spark test (starting one takes seconds); see
    tests/spark_support.py. Imported here, so that the rest of the suite does not load it."""
    from tests.spark_support import spark_session

    with spark_session(tmp_path_factory.mktemp("spark")) as session:
        yield session
