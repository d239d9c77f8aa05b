"""`run --out` and `--previous` at a URI Spark writes and reads (hdfs://, s3a://, file://):
the run works on local copies and publishes its folder back, manifest.json last
(crmclean.io.spark_files). Only the spark engine reaches such URIs."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from crmclean.engines import start_spark
from crmclean.errors import UsageError
from crmclean.io.spark_files import StagedRun, staged_run
from crmclean.io.storage_uri import StorageUri, storage_uri


def uri_targets(out: str, previous: str | None) -> tuple[StorageUri | None, StorageUri | None]:
    """--out and --previous when they are URIs only Spark reaches (None: a local folder, or
    for --previous also a database URL)."""
    out_uri = storage_uri(out)
    if out_uri is not None:
        # publishing by copying up could not keep the local guarantees (a steward's file saved
        # meanwhile, a run killed while copying, the input inside --out, the folder's lock):
        # refused until it can (an attacker's review; docs/spark.md)
        raise UsageError(
            f"--out {out_uri.shown}: crmclean does not publish a run to a URI yet (copying up "
            "cannot keep the previous run whole if it is killed, nor files saved there meanwhile)",
            "give a local --out folder and copy it up with your platform's tools afterwards",
        )
    return None, storage_uri(previous) if previous is not None else None


@contextmanager
def staged_uris(
    out: StorageUri | None, previous: StorageUri | None, engine: str, master: str | None
) -> Iterator[StagedRun | None]:
    """Local copies of the run folders at the URIs (None when neither is one); exit 2 unless
    the run is on the spark engine."""
    if out is None and previous is None:
        yield None
        return
    if engine != "spark":
        option, uri = ("--out", out) if out is not None else ("--previous", previous)
        assert uri is not None
        raise UsageError(
            f"{option} {uri.shown}: a URI only Spark writes and reads, and this run is on the "
            f"{engine} engine",
            "add --engine spark (docs/spark.md), or give a local folder",
        )
    start_spark(master)
    with staged_run(out, previous, master) as staged:
        yield staged
