"""The Spark session an engine runs in: the one already active (spark-submit, a notebook, the
tests' session), Spark Connect when SPARK_REMOTE is set, else a new one on `--spark-master`
(local[*] by default). Starting one locally needs Java: a missing one is a usage error that says
what to install, not a JVM stack trace."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

from pyspark.sql import SparkSession

from crmclean.errors import UsageError

DEFAULT_MASTER = "local[*]"


def _java() -> bool:
    home = os.environ.get("JAVA_HOME")
    return bool(shutil.which("java") or (home and Path(home, "bin", "java").exists()))


def session(master: str | None = None) -> SparkSession:
    if os.environ.get("SPARK_REMOTE"):  # Spark Connect: the server runs the work
        return SparkSession.builder.appName("crmclean").getOrCreate()
    active = SparkSession.getActiveSession()
    if active is not None and master is None:
        return active
    if not _java():
        raise UsageError(
            "--engine spark: Java was not found (no java on PATH, JAVA_HOME unset)",
            hint="install Java 17 or newer (Debian: apt-get install openjdk-17-jre-headless), "
            "or set SPARK_REMOTE to a Spark Connect server",
        )
    # the Python workers that run the rapidfuzz UDFs: this interpreter, which has crmclean
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    builder = (
        SparkSession.builder.appName("crmclean")
        .master(master or DEFAULT_MASTER)
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.log.level", "ERROR")  # crmclean says what went wrong, in one line
    )
    return builder.getOrCreate()
