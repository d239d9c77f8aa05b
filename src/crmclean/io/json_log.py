"""The `--log-json` file: one JSON object per line, appended only where it cannot harm anything.

The file is opened only once the command knows everything it reads and writes, and only if it
is none of them: not an input, rule file, file a rule file extends, decisions or reference file,
and not inside `--out` or `--previous`. It must be absent, empty or already a crmclean JSON log
(its first line a JSON object with `ts` and `event`), and a regular file: it is opened without
following a symbolic link and without blocking, so a FIFO, a device or a link is refused (exit
3). `-` writes the lines to standard output. Lines logged before the file is opened wait in
memory; a command that fails before that still logs, if the file passes the checks known then.
"""

from __future__ import annotations

import contextlib
import json
import os
import stat
import sys
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from crmclean.errors import OutputError
from crmclean.io.env_values import scrub_text
from crmclean.io.output_guard import resolved

STDOUT = "-"
_FLAGS = (
    os.O_RDWR  # read back the first line; O_APPEND puts every write at the end
    | os.O_APPEND
    | os.O_CREAT
    | getattr(os, "O_NOFOLLOW", 0)
    | getattr(os, "O_NONBLOCK", 0)
    | getattr(os, "O_BINARY", 0)
)
_HINT = "pass a --log-json file of its own (e.g. logs/crmclean.jsonl), outside --out"


class JsonLog:
    """One JSON object per line (ts, level, event, pid, fields), appended and flushed."""

    def __init__(
        self,
        path: Path | None,
        reads: Iterable[Path | str | None] = (),
        folders: Iterable[Path | str | None] = (),
    ) -> None:
        self._path = path
        self._reads = list(reads)
        self._folders = list(folders)
        self._handle: IO[str] | None = None
        self._waiting: list[str] = []
        self._closed = path is None

    def open(
        self, reads: Iterable[Path | str | None] = (), folders: Iterable[Path | str | None] = ()
    ) -> None:
        """Check the target against everything the command reads and writes, then open it."""
        if self._closed or self._handle is not None or self._path is None:
            return
        self._reads += list(reads)
        self._folders += list(folders)
        self._handle = _open(self._path, self._reads, self._folders)
        waiting, self._waiting = self._waiting, []
        for line in waiting:
            self._write(line)

    def event(self, event: str, level: str = "info", **fields: Any) -> None:
        if self._closed:
            return
        record = {
            "ts": datetime.now(UTC).isoformat(timespec="milliseconds"),
            "level": level,
            "event": event,
            "pid": os.getpid(),
            **fields,
        }
        line = json.dumps(record, default=str, ensure_ascii=False) + "\n"
        if self._handle is None:
            self._waiting.append(line)
        else:
            self._write(line)

    def _write(self, line: str) -> None:
        assert self._handle is not None
        try:
            self._handle.write(scrub_text(line))  # no rule file's ${env.X} value
            self._handle.flush()
        except BrokenPipeError:  # `--log-json -` into a closed pipe: exit 141, not a write error
            self.close()
            raise
        except OSError as exc:  # disk full: say which file, and stop logging
            self.close()
            raise OutputError(f"{self._path}: cannot write the log: {exc.strerror}") from None

    def close(self) -> None:
        """Write what waits (if the target passes the checks known so far) and close."""
        if self._closed:
            return
        if self._handle is None and self._waiting:
            with contextlib.suppress(OutputError):  # the command already fails for a reason
                self.open()
        self._closed = True
        if self._handle is not None:
            handle, self._handle = self._handle, None
            with contextlib.suppress(OSError):
                if handle is not sys.stdout:
                    handle.close()


def _open(path: Path, reads: list[Path | str | None], folders: list[Path | str | None]) -> IO[str]:
    if str(path) == STDOUT:
        return sys.stdout
    target = resolved(path)
    for given in reads:
        if given is not None and str(given) != STDOUT and resolved(given) == target:
            raise OutputError(f"--log-json {path} is the file {given} this command reads", _HINT)
    for folder in folders:
        if folder is not None and resolved(folder) in (target, *target.parents):
            raise OutputError(f"--log-json {path} lies inside the output folder {folder}", _HINT)
    try:
        fd = os.open(path, _FLAGS, 0o644)
    except OSError as exc:
        what = "is a symbolic link" if Path(path).is_symlink() else exc.strerror
        raise OutputError(f"{path}: cannot write the log: {what}", _HINT) from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise OutputError(f"{path}: cannot write the log: not a regular file", _HINT)
        if info.st_size and not _is_log(fd):
            raise OutputError(
                f"{path}: cannot write the log: the file holds something else than a crmclean "
                "JSON log; appending would change it",
                _HINT,
            )
        os.set_blocking(fd, True)
        return os.fdopen(fd, "a", encoding="utf-8")
    except BaseException:
        os.close(fd)
        raise


def _is_log(fd: int) -> bool:
    """True when the file's first line is a crmclean log record."""
    os.lseek(fd, 0, os.SEEK_SET)
    first = os.read(fd, 65536).split(b"\n", 1)[0]
    try:
        record = json.loads(first.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        return False
    return isinstance(record, dict) and "ts" in record and "event" in record
