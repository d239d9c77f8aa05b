"""Every file crmclean reads is a regular file it may read: checked by stat before any open.

A FIFO or a character device (`/dev/zero`, `/dev/stdin`, a terminal) would make `open()` block
or a read never end; a directory or a missing file deserves its own message. Each refusal is an
InputError (exit 3) naming the file and what it is. Standard input (`-`) is refused on purpose:
crmclean reads an input more than once (sniffing, fingerprint, reading), so it needs a file.
"""

from __future__ import annotations

import errno
import os
import stat
from dataclasses import dataclass
from pathlib import Path

from crmclean.errors import InputError

STDIN = "-"
# A marker lists a few dozen names and a manifest a few kilobytes: anything larger (a 6 GB
# file, `/dev/zero` behind a link) is not one crmclean wrote and is never read whole.
SMALL_FILE_BYTES = 1 << 20
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_NONBLOCK = getattr(os, "O_NONBLOCK", 0)  # a FIFO at manifest.json must not hang open()

_KINDS = (
    (stat.S_ISFIFO, "a named pipe (FIFO)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


def require_regular_file(path: Path, what: str = "file") -> os.stat_result:
    """The file's stat when it is a regular file this process can open for reading.

    The open is non-blocking and checked again with fstat, so a file swapped for a FIFO between
    the stat and the open cannot make it hang either.
    """
    path = Path(path)
    if str(path) == STDIN:
        raise InputError(
            f"{STDIN}: reading the {what} from standard input is not supported",
            "save it to a file and pass the file's path",
        )
    try:
        found = path.stat()
    except FileNotFoundError:
        # a relative path is read from the working folder: say which one it is
        where = "" if path.is_absolute() else f"; the working folder is {Path.cwd()}"
        raise InputError(f"{path}: {what} not found", f"check the path{where}") from None
    except OSError as exc:
        raise _unreadable(path, exc) from None
    if stat.S_ISDIR(found.st_mode):
        raise InputError(f"{path}: is a directory, not a {what}", "name the file inside it")
    _refuse_special(path, found.st_mode, what)
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError as exc:
        raise _unreadable(path, exc) from None
    try:
        _refuse_special(path, os.fstat(fd).st_mode, what)
    finally:
        os.close(fd)
    return found


def is_present(path: Path, what: str = "file") -> bool:
    """For optional files (a previous run's golden.parquet): False when absent, True when a
    readable regular file, and an InputError when something else stands at the path."""
    if not os.path.lexists(path):
        return False
    require_regular_file(path, what)
    return True


def read_text(path: Path, what: str = "file") -> str:
    """The UTF-8 text of a regular file; undecodable bytes are an InputError."""
    require_regular_file(path, what)
    try:
        return Path(path).read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(
            f"{path}: is not UTF-8 text (byte {exc.start})", "re-save it as UTF-8"
        ) from None
    except OSError as exc:
        raise _unreadable(path, exc) from None


def special_kind(mode: int, otherwise: str = "not a regular file") -> str:
    """What stands at a path that is not a regular file ("a named pipe (FIFO)", ...)."""
    return next((name for test, name in _KINDS if test(mode)), otherwise)


def _refuse_special(path: Path, mode: int, what: str) -> None:
    if stat.S_ISREG(mode):
        return
    kind = special_kind(mode)
    raise InputError(
        f"{path}: is {kind}, not a regular {what}",
        "crmclean reads regular files only; copy the data into a file first",
    )


def _unreadable(path: Path, exc: OSError) -> InputError:
    if exc.errno in (errno.EACCES, errno.EPERM):
        return InputError(
            f"{path}: cannot be read: permission denied",
            "check the file's permissions and the user crmclean runs as",
        )
    reason = exc.strerror or type(exc).__name__
    return InputError(f"{path}: cannot be read: {reason}", "check the path and the disk")


@dataclass(frozen=True)
class Unread:
    """Why a small file crmclean wrote itself was not read (missing, a link, too large)."""

    problem: str


def small_text(path: Path, limit: int = SMALL_FILE_BYTES) -> str | Unread:
    """The text of a regular file of at most `limit` bytes, read without following a link or
    blocking on a FIFO; an Unread saying what stands there otherwise."""
    try:
        fd = os.open(path, os.O_RDONLY | _NOFOLLOW | _NONBLOCK)
    except FileNotFoundError:
        return Unread("is missing")
    except OSError as exc:
        if exc.errno == errno.ELOOP or path.is_symlink():
            return Unread("is a symbolic link")
        return Unread(f"cannot be read ({exc.strerror})")
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            return Unread(f"is {special_kind(info.st_mode)}")
        if info.st_size > limit:
            return Unread(f"is larger than {limit // 1024} KiB")
        raw = os.read(fd, limit + 1)
    except OSError as exc:
        return Unread(f"cannot be read ({exc.strerror})")
    finally:
        os.close(fd)
    if len(raw) > limit:
        return Unread(f"is larger than {limit // 1024} KiB")
    return raw.decode("utf-8", errors="replace")
