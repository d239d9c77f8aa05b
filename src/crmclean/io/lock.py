"""One run per output folder: an exclusive lock file beside `--out`.

The lock is an OS lock on `<out>.lock` (`flock` on POSIX, `msvcrt.locking` on Windows), so the
kernel releases it when the holder dies, even by SIGKILL. A file left behind by a dead run is
taken over only if it is empty or holds a holder record (pid, host, started); any other
file at `<out>.lock` (a `poetry.lock` beside `--out poetry`) is refused, never emptied.

The lock file is created with O_EXCL and opened with O_NOFOLLOW: a symlink (or a hard link, a
FIFO, anything but a plain file of our own) at `<out>.lock` is refused, so a root cron job can
never be made to write through it. The OS lock module is imported when a lock is taken, never at
import time, so every command (even `--help`) starts on any platform.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import socket
import stat
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeGuard

from crmclean.errors import OutputError
from crmclean.io.interrupts import signals_deferred
from crmclean.io.output_guard import real_out, resolved


class OutputLocked(OutputError):
    """Another live run holds the lock on this output folder."""


@dataclass(frozen=True)
class Lock:
    path: Path
    stale_holder: dict[str, object] | None  # the dead run whose lock file we took over
    # names this holder's temp folders (`.<out>.tmp-<token>`, `.<out>.old-<token>`): the next
    # holder removes a dead run's folders only when its lock record names them
    token: str
    # the dead runs' tokens this holder took over (also in its own record until it ends, so a
    # run killed before clearing them passes them on)
    inherited: tuple[str, ...] = ()


_INHERITED_CAP = 32  # a chain of runs each killed before clearing its predecessors' folders


def _is_token(value: object) -> TypeGuard[str]:
    return (
        isinstance(value, str) and len(value) == 8 and all(ch in "0123456789abcdef" for ch in value)
    )


def dead_tokens(stale: dict[str, object] | None) -> tuple[str, ...]:
    """The tokens of a dead holder's record: its own, then those it had taken over."""
    if not stale:
        return ()
    passed = stale.get("inherited")
    tokens = [stale.get("token"), *(passed if isinstance(passed, list) else [])]
    return tuple(dict.fromkeys(t for t in tokens if _is_token(t)))[:_INHERITED_CAP]


_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_NONBLOCK = getattr(os, "O_NONBLOCK", 0)  # a FIFO planted at <out>.lock must not hang open()
_BINARY = getattr(os, "O_BINARY", 0)


def lock_path(out: Path) -> Path:
    out = Path(out)
    return out.parent / f"{out.name}.lock"


def _holder(fd: int) -> dict[str, object] | None:
    try:
        os.lseek(fd, 0, os.SEEK_SET)
        raw = os.read(fd, 4096)
    except OSError:  # Windows: the locked byte of a live holder cannot be read
        return None
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


def _try_lock(fd: int) -> bool:
    """Take the OS lock without waiting; False if another process holds it."""
    if sys.platform == "win32":
        import msvcrt

        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True
    import fcntl

    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def _open(path: Path) -> int:
    """Create the lock file exclusively, or open an existing one without following links."""
    flags = os.O_RDWR | _NOFOLLOW | _NONBLOCK | _BINARY
    try:
        return os.open(path, flags | os.O_CREAT | os.O_EXCL, 0o644)
    except FileExistsError:
        pass
    if path.is_symlink():  # O_NOFOLLOW is missing on Windows; say it plainly everywhere
        raise _refused(path, "is a symbolic link")
    try:
        return os.open(path, flags)
    except FileNotFoundError:
        return -1  # removed by its holder in between: create it again
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise _refused(path, "is a symbolic link") from None
        raise


def _refused(path: Path, what: str) -> OutputError:
    return OutputError(
        f"{path}: {what}, not a lock file crmclean made; refusing to write through it",
        "remove it by hand after checking where it points",
    )


def _check_plain(fd: int, path: Path) -> None:
    info = os.fstat(fd)
    problem = None
    if not stat.S_ISREG(info.st_mode):
        problem = "is not a regular file"
    elif info.st_nlink != 1:
        problem = f"has {info.st_nlink} hard links"
    if problem:
        os.close(fd)
        raise _refused(path, problem)


def _acquire(path: Path, out: Path) -> int:
    while True:
        try:
            fd = _open(path)
        except OSError as exc:
            raise OutputError(f"{path}: cannot create the lock file: {exc.strerror}") from None
        if fd < 0:
            continue
        _check_plain(fd, path)
        if not _try_lock(fd):
            holder = _holder(fd)
            os.close(fd)
            raise OutputLocked(
                f"{_describe(holder)} is writing to {out}",
                f"wait for it to finish; the lock is {path}",
            )
        # the file may have been removed by the previous holder between open and lock
        try:
            same = os.path.samestat(os.fstat(fd), os.stat(path, follow_symlinks=False))
        except FileNotFoundError:
            same = False
        if same:
            _refuse_foreign(fd, path)
            return fd
        os.close(fd)


_HOLDER_KEYS = {"pid", "host", "started"}  # `command` came later: older holders lack it


def _refuse_foreign(fd: int, path: Path) -> None:
    """Take over only a lock file crmclean wrote: empty (a run killed between creating and
    writing it) or a holder record; any other file at `<out>.lock` is someone's, never emptied."""
    try:
        os.lseek(fd, 0, os.SEEK_SET)
        raw = os.read(fd, 4097)
    except OSError:
        raw = b"?"
    if not raw:
        return
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        data = None
    if isinstance(data, dict) and data.keys() >= _HOLDER_KEYS:
        return
    os.close(fd)
    raise OutputError(
        f"{path}: is a file crmclean did not write, where the lock of this --out goes; "
        "refusing to replace it",
        "move that file away or choose another --out",
    )


def _release(fd: int, path: Path) -> None:
    if sys.platform == "win32":  # an open file cannot be removed on Windows
        os.close(fd)
        with contextlib.suppress(OSError):
            path.unlink()
        return
    # POSIX: unlink while still holding the lock, so nobody locks a file about to vanish
    with contextlib.suppress(FileNotFoundError):
        path.unlink()
    os.close(fd)


@contextlib.contextmanager
def output_lock(out: Path, command: str = "run") -> Iterator[Lock]:
    """Hold the lock on `out` for the duration of the block; raise OutputLocked if taken.

    The lock file is removed whenever the block ends, by an error, Ctrl-C or SIGTERM (the CLI
    turns SIGTERM into an exception); only SIGKILL leaves it, to be taken over next time.
    """
    path = lock_path(real_out(out))  # one lock however --out is spelled
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(
            f"{out}: cannot create the output folder: {_blocked_by(path.parent) or exc.strerror}"
        ) from None
    fd = -1
    try:
        # a signal arriving while the file is made waits until `finally` will remove it
        with signals_deferred():
            fd = _acquire(path, out)
            stale = _holder(fd)
            token = uuid.uuid4().hex[:8]
            inherited = dead_tokens(stale)
            _write_holder(fd, path, command, token, inherited)
        yield Lock(path, stale, token, inherited)
    finally:
        if fd >= 0:
            _release(fd, path)


def _blocked_by(folder: Path) -> str | None:
    """`/dev/full/x`: mkdir says "File exists"; the real problem is a file where a folder goes."""
    for ancestor in (folder, *folder.parents):
        if ancestor.exists():
            return None if ancestor.is_dir() else f"{ancestor} is not a folder"
    return None


def _write_holder(
    fd: int, path: Path, command: str, token: str, inherited: tuple[str, ...] = ()
) -> None:
    info: dict[str, object] = {
        "token": token,
        "inherited": list(inherited),
        "pid": os.getpid(),
        "host": socket.gethostname(),
        "command": command,
        "started": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    record = json.dumps(info).encode("utf-8")
    try:
        # one write over the dead holder's record, padded with blanks to its length (JSON
        # allows them): killed before it, the old record still names the dead run's folders;
        # a truncate first would lose them if killed in between
        old = os.fstat(fd).st_size
        os.lseek(fd, 0, os.SEEK_SET)
        os.write(fd, record.ljust(old, b" "))
        os.fsync(fd)
    except OSError as exc:  # disk full, quota, read-only: the caller removes the empty file
        raise OutputError(f"{path}: cannot write the lock file: {exc.strerror or exc}") from None


@contextlib.contextmanager
def folder_lock(folder: Path, command: str) -> Iterator[Lock | None]:
    """The lock of `folder` while a command rebuilds files inside it (a symlink to the folder is
    fine: the lock is the one of the folder it points to); nothing to hold if it is no folder,
    and the command's reader says so."""
    if not folder.is_dir():
        yield None
        return
    with output_lock(resolved(folder), command) as lock:
        yield lock
