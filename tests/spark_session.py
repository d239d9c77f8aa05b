"""The one SparkSession the Spark tests share per test process: local[2], few shuffle
partitions, no UI. Outside CI a machine without Java or pyspark skips the Spark tests; in CI
(CI set, as .ci/run does) they fail instead."""

from __future__ import annotations

import functools
import importlib.util
import os
import shutil
import sys
from typing import Any

import pytest

# What one action may bring back to the driver, for every Spark test: the engine collects only
# aggregates and the few rows the clustering guards and the review need, so a few MB are plenty
# (tests/test_engine_spark.py shows a record-level collect of its data would not fit).
MAX_RESULT = "2m"
# a broadcast join's small side passes through the driver: keep it below MAX_RESULT
BROADCAST = "1m"


def missing() -> str | None:
    """Why Spark cannot run here; None when it can."""
    if importlib.util.find_spec("pyspark") is None:
        return "pyspark is not installed (pip install 'crmclean[spark]')"
    if not (shutil.which("java") or os.environ.get("JAVA_HOME")):
        return "Java is not installed (make java)"
    return None


@functools.cache
def _session() -> Any:
    from pyspark.sql import SparkSession

    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    return (
        SparkSession.builder.master("local[2]")
        .appName("crmclean-tests")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.default.parallelism", "2")
        .config("spark.driver.maxResultSize", MAX_RESULT)
        .config("spark.sql.autoBroadcastJoinThreshold", BROADCAST)
        .getOrCreate()
    )


def spark_session() -> Any:
    reason = missing()
    if reason is not None:
        if os.environ.get("CI"):
            pytest.fail(f"the Spark tests need {reason}; CI must have it")
        pytest.skip(reason)
    return _session()
