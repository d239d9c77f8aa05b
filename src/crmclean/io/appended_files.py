"""Files written part by part: a table too large to hold at once (`crmclean synth -n 10000000`)
goes out one frame at a time, CSV appended under one header and Parquet as parts joined into
one file at the end by a streaming copy. Written inside an atomic output folder, so a failure
leaves nothing behind."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import IO

import polars as pl

from crmclean.errors import OutputError


def _failed(path: Path, exc: BaseException) -> OutputError:
    reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else None
    reason = reason or (str(exc).splitlines() or [type(exc).__name__])[0]
    return OutputError(f"{path}: cannot write: {reason}")


class AppendedCsv:
    """A raw UTF-8 CSV (not spreadsheet-safe: input for crmclean): the first frame's header,
    then every frame's rows."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._handle: IO[bytes] | None = None

    def append(self, frame: pl.DataFrame) -> None:
        try:
            first = self._handle is None
            if self._handle is None:
                self._handle = self.path.open("wb")
            frame.write_csv(self._handle, include_header=first)
        except (OSError, pl.exceptions.PolarsError) as exc:
            raise _failed(self.path, exc) from None

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None


class AppendedParquet:
    """One Parquet file from frames of the same schema: each a part file in a folder beside
    it, copied into `path` by polars' streaming engine when closed (the parts removed)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._parts = path.with_name(path.name + ".parts")
        self._count = 0

    def append(self, frame: pl.DataFrame) -> None:
        try:
            self._parts.mkdir(exist_ok=True)
            frame.write_parquet(self._parts / f"{self._count:06d}.parquet")
        except (OSError, pl.exceptions.PolarsError) as exc:
            raise _failed(self.path, exc) from None
        self._count += 1

    def close(self) -> None:
        if not self._count:
            return
        try:
            parts = sorted(self._parts.glob("*.parquet"))
            pl.scan_parquet(parts).sink_parquet(self.path)
        except (OSError, pl.exceptions.PolarsError) as exc:
            raise _failed(self.path, exc) from None
        finally:
            shutil.rmtree(self._parts, ignore_errors=True)
        self._count = 0
