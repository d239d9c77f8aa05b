"""One run per output folder: an exclusive lock file beside `--out`.

The lock is an `flock` on `<out>.lock`, so the kernel releases it when the holder dies, even by
SIGKILL; a file left behind by a dead run is taken over. The file names the holder for the
message a second run prints.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from crmclean.errors import OutputError


class OutputLocked(OutputError):
    """Another live run holds the lock on this output folder."""


@dataclass(frozen=True)
class Lock:
    path: Path
    stale_holder: dict[str, object] | None  # the dead run whose lock file we took over


def lock_path(out: Path) -> Path:
    out = Path(out)
    return out.parent / f"{out.name}.lock"


def _holder(fd: int) -> dict[str, object] | None:
    os.lseek(fd, 0, os.SEEK_SET)
    raw = os.read(fd, 4096)
    try:
        data = json.loads(raw.decode("utf-8")) if raw else None
    except (UnicodeDecodeError, json.JSONDecodeError):
        return {"unreadable": raw[:80].decode("utf-8", "replace")}
    return data if isinstance(data, dict) else None


def _describe(holder: dict[str, object] | None) -> str:
    if not holder:
        return "another crmclean run"
    return (
        f"another crmclean run (pid {holder.get('pid')} on {holder.get('host')}, "
        f"started {holder.get('started')})"
    )


@contextlib.contextmanager
def output_lock(out: Path, command: str = "run") -> Iterator[Lock]:
    """Hold the lock on `out` for the duration of the block; raise OutputLocked if taken."""
    path = lock_path(out)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"cannot create {path.parent}: {exc.strerror}") from None
    while True:
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise OutputError(f"cannot create lock file {path}: {exc.strerror}") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _holder(fd)
            os.close(fd)
            raise OutputLocked(
                f"{_describe(holder)} is writing to {out}",
                f"wait for it to finish; the lock is {path}",
            ) from None
        # the file may have been removed by the previous holder between open and flock
        try:
            same = os.path.samestat(os.fstat(fd), os.stat(path))
        except FileNotFoundError:
            same = False
        if same:
            break
        os.close(fd)
    stale = _holder(fd)
    info = {
        "pid": os.getpid(),
        "host": socket.gethostname(),
        "command": command,
        "started": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    os.ftruncate(fd, 0)
    os.lseek(fd, 0, os.SEEK_SET)
    os.write(fd, json.dumps(info).encode("utf-8"))
    os.fsync(fd)
    try:
        yield Lock(path, stale)
    finally:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
        os.close(fd)
