"""Where Spark reads and writes files: a table at a URI read by the session's own readers, and
a folder at a URI reached through Hadoop's FileSystem API (the same connectors and credentials
Spark's own reads use: hdfs://, s3a://, abfss://, file://). crmclean passes URIs unchanged.

The FileSystem API is the JVM's: a classic session (local, a cluster master, spark-submit,
Databricks) has it; a Spark Connect client does not, so a run folder at a URI needs a classic
session (a usage error otherwise), while reading a table works on both."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import polars as pl
from pyspark.errors import PySparkException
from pyspark.sql import SparkSession

from crmclean.errors import CrmcleanError, InputError, UsageError

# what Spark's CSV reader takes as crmclean's CSV reader does: a header, every column text
_CSV = {"header": "true", "inferSchema": "false", "mode": "FAILFAST", "multiLine": "true"}


def read_table_at(
    spark: SparkSession, uri: str, fmt: str, *, delimiter: str | None, encoding: str | None
) -> pl.DataFrame:
    """The table at `uri` (a file or a folder of part files) as text columns, in the driver:
    the clean, validate and golden steps still run there (docs/spark.md)."""
    try:
        if fmt == "csv":
            options = {**_CSV, "sep": delimiter or ",", "encoding": encoding or "UTF-8"}
            frame = spark.read.options(**options).csv(uri)
        else:
            frame = spark.read.parquet(uri)
        table = frame.toArrow()
    except (PySparkException, OSError) as exc:
        raise InputError(f"{uri}: Spark cannot read it ({_first_line(exc)})") from None
    read = pl.from_arrow(table)
    assert isinstance(read, pl.DataFrame)
    return read


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return (text.splitlines() or [type(exc).__name__])[0][:300]


class HadoopFolder:
    """One folder at a URI: its file names, and files copied in and out of it."""

    def __init__(self, spark: SparkSession, uri: str) -> None:
        jvm: Any = getattr(spark, "_jvm", None)
        jsc: Any = getattr(spark, "_jsc", None)
        if jvm is None or jsc is None:
            raise UsageError(
                f"{uri}: a run folder at a URI needs a classic Spark session, and this one is "
                "Spark Connect (no file system API)",
                "write --out to a local folder, or run with --spark-master instead of SPARK_REMOTE",
            )
        self.uri = uri.rstrip("/")
        self._jvm = jvm
        self._path = jvm.org.apache.hadoop.fs.Path
        conf = jsc.hadoopConfiguration()
        uri_class = jvm.java.net.URI
        with self._java(f"{uri}: cannot open its file system"):
            self._fs = jvm.org.apache.hadoop.fs.FileSystem.newInstance(uri_class(self.uri), conf)
            self._fs.setWriteChecksum(False)  # no .crc files beside the outputs

    @contextmanager
    def _java(self, what: str, error: type[CrmcleanError] = InputError) -> Iterator[None]:
        try:
            yield
        except Exception as exc:  # py4j's Py4JJavaError: the JVM's IOException and kin
            cause = getattr(exc, "java_exception", None)
            reason = str(cause.toString()) if cause is not None else _first_line(exc)
            raise error(f"{what} ({reason.splitlines()[0][:300]})") from None

    def _at(self, name: str | None = None) -> Any:
        return self._path(self.uri if name is None else f"{self.uri}/{name}")

    def names(self) -> list[str] | None:
        """The names of the files in the folder; None when there is no folder."""
        with self._java(f"{self.uri}: cannot list it"):
            if not self._fs.exists(self._at()):
                return None
            return sorted(str(s.getPath().getName()) for s in self._fs.listStatus(self._at()))

    def is_file(self, name: str) -> bool:
        with self._java(f"{self.uri}/{name}: cannot read it"):
            return bool(self._fs.isFile(self._at(name)))

    def fetch(self, name: str, to: Path) -> None:
        """Copy the file `name` to the local path `to`."""
        with self._java(f"{self.uri}/{name}: cannot read it"):
            self._fs.copyToLocalFile(False, self._at(name), self._path(str(to)), True)

    def close(self) -> None:
        self._fs.close()


@contextmanager
def hadoop_folder(spark: SparkSession, uri: str) -> Iterator[HadoopFolder]:
    folder = HadoopFolder(spark, uri)
    try:
        yield folder
    finally:
        folder.close()
