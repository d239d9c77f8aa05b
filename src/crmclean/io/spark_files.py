"""Inputs and run folders at a URI Spark reaches (crmclean.io.storage_uri), for `--engine spark`.

The input is read by the Spark session (CSV or Parquet, a file or a folder of part files). A run
folder at a URI is published the way an object store allows (there is no rename to swap a
folder atomically): the run is written to a local staging folder as any run is, then copied up
file by file with manifest.json last, after the old manifest was removed first. A reader trusts
only a folder whose manifest is there and whose listed outputs all are, so a run that died while
copying leaves a folder every reader refuses (exit 3), never a mix it would take for a run.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from crmclean.errors import InputError, UsageError
from crmclean.io.own_files import REPORT_FILES
from crmclean.io.readers import ReadInfo, ReadResult, frame_table
from crmclean.io.run_folder import MANIFEST, MARKER
from crmclean.io.storage_uri import StorageUri

_PARQUET = (".parquet", ".parq", ".pq")
_CSV = (".csv", ".csv.gz", ".txt", ".tsv")
_HINT = (
    "the run that wrote it did not finish copying (its manifest.json is written last) or a "
    "file was removed since: run it again, or restore the folder"
)


def _spark(master: str | None) -> Any:
    from crmclean.engines.spark_engine.session import session

    return session(master)


def uri_format(uri: StorageUri) -> str:
    """csv or parquet, from the name (a folder ending in / is a Parquet dataset)."""
    name = uri.text.lower().rstrip("/")
    if name.endswith(_PARQUET) or uri.text.endswith("/"):
        return "parquet"
    if name.endswith(_CSV):
        return "csv"
    raise UsageError(
        f"{uri.shown}: Spark reads CSV (.csv, .txt, .tsv) and Parquet (.parquet, or a folder "
        "ending in /) here",
        "name the file with its format's extension",
    )


def read_spark_input(
    uri: StorageUri,
    *,
    id_column: str | None = None,
    encoding: str | None = None,
    delimiter: str | None = None,
    master: str | None = None,
) -> ReadResult:
    """The table at `uri`, read by Spark, as `read_table` gives a file: text columns and a
    record_id (the id column's value; repeated ids are exit 3 as for a file)."""
    from crmclean.engines.spark_engine.storage import read_table_at

    fmt = uri_format(uri)
    frame = read_table_at(_spark(master), uri.text, fmt, delimiter=delimiter, encoding=encoding)
    read = frame_table(frame, id_column=id_column, name=uri.shown)
    text = fmt == "csv"
    info = ReadInfo(
        uri.shown,
        fmt,
        (encoding or "utf-8") if text else None,
        (delimiter or ",") if text else None,
        read.info.rows,
        read.info.columns,
        0,
        "",  # the bytes never pass through crmclean: no fingerprint
    )
    return ReadResult(read.frame, info, read.locate)


@dataclass(frozen=True)
class StagedRun:
    """The local folders a run at a URI works in: `out` (the URI's last complete run copied
    down, if any; the new run is written here; None: --out is local) and `previous`
    (--previous's run; None: none, or a local one)."""

    out: Path | None
    previous: Path | None


@contextmanager
def staged_run(
    out: StorageUri | None, previous: StorageUri | None, master: str | None
) -> Iterator[StagedRun]:
    """Local copies of the run folders at `out` and `previous` (each checked complete first),
    removed again when the block ends."""
    from crmclean.engines.spark_engine.storage import hadoop_folder

    spark = _spark(master)
    root = Path(tempfile.mkdtemp(prefix="crmclean-uri-"))
    try:
        local_out = root / "out" if out is not None else None
        if out is not None and local_out is not None:
            with hadoop_folder(spark, out.text) as folder:
                _fetch_run(folder, out, local_out, required=False, replaced=True)
        local_previous: Path | None = None
        same = out is not None and previous is not None and _same(out, previous)
        if same:
            local_previous = local_out
        elif previous is not None:
            local_previous = root / "previous"
            with hadoop_folder(spark, previous.text) as folder:
                _fetch_run(folder, previous, local_previous, required=True)
        yield StagedRun(local_out, local_previous)
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _same(one: StorageUri, other: StorageUri) -> bool:
    return one.text.rstrip("/") == other.text.rstrip("/")


def _fetch_run(
    folder: Any, uri: StorageUri, local: Path, *, required: bool, replaced: bool = False
) -> None:
    """Copy the complete run at `uri` into `local`; nothing when there is no folder (unless
    `required`); exit 3 for a folder without a complete manifest, and for a folder the run
    will replace (`replaced`) that holds files the run did not write."""
    names = folder.names() or []
    if not names:
        if required:
            raise InputError(
                f"{uri.shown}: no manifest.json of a previous run",
                "pass the --out of an earlier `crmclean run`",
            )
        return
    if MANIFEST not in names:
        raise InputError(
            f"{uri.shown}: holds files but no {MANIFEST} of a complete crmclean run", _HINT
        )
    local.mkdir(parents=True)
    folder.fetch(MANIFEST, local / MANIFEST)
    try:
        manifest = json.loads((local / MANIFEST).read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"{uri.shown}: {MANIFEST} is not readable JSON ({exc})", _HINT) from None
    listed = manifest.get("outputs") if isinstance(manifest, dict) else None
    if not isinstance(listed, list) or manifest.get("command") != "run":
        raise InputError(f"{uri.shown}: {MANIFEST} is not the manifest of a `crmclean run`")
    wanted = [str(n) for n in listed if n != MANIFEST]
    lost = [n for n in wanted if n not in names]
    if lost:
        shown = ", ".join(lost[:5]) + (f" and {len(lost) - 5} more" if len(lost) > 5 else "")
        raise InputError(
            f"{uri.shown}: holds an incomplete run: {MANIFEST} lists outputs that are missing "
            f"({shown})",
            _HINT,
        )
    foreign = sorted(set(names) - {*wanted, MANIFEST, MARKER, *REPORT_FILES})
    if replaced and foreign:
        shown = ", ".join(foreign[:5]) + (
            f" and {len(foreign) - 5} more" if len(foreign) > 5 else ""
        )
        raise InputError(
            f"{uri.shown}: holds files crmclean did not write ({shown}); run would replace the "
            "folder",
            "give an --out of its own to the run, or move those files",
        )
    for name in [*wanted, *([MARKER] if MARKER in names else [])]:
        folder.fetch(name, local / name)
