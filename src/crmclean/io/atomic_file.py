"""Replace one file atomically and without following links: the new content goes into a temp
file beside it, created exclusively under a fresh name (O_CREAT|O_EXCL|O_NOFOLLOW), and is then
renamed over the target.

Why not `open(tmp, "w")`: a symlink or a hard link planted at a predictable temp name would make
the write land in whatever it points to (`crmclean report` once wrote its HTML through
`.report.html.tmp` into a victim file). O_EXCL refuses any existing name, links included, so the
bytes always go into a new inode of our own; the rename replaces the target's name (a symlink
there is replaced, never written through; a hard link's other names keep the old content).
"""

from __future__ import annotations

import contextlib
import os
import uuid
from pathlib import Path

from crmclean.errors import OutputError

_FLAGS = (
    os.O_WRONLY
    | os.O_CREAT
    | os.O_EXCL
    | getattr(os, "O_NOFOLLOW", 0)
    | getattr(os, "O_CLOEXEC", 0)
    | getattr(os, "O_BINARY", 0)
)
_ATTEMPTS = 5  # a taken name is skipped; 5 collisions of 32 random bits are foul play


def temp_name(path: Path) -> Path:
    """`.<name>.tmp-<8 hex digits>` beside `path`: hidden, unique, ours only once created."""
    return path.parent / f".{path.name}.tmp-{uuid.uuid4().hex[:8]}"


def replace_file(path: Path, text: str) -> None:
    """Write `text` (UTF-8) to `path` atomically: a reader sees the old file or the new one.

    An OSError (disk full, read-only folder, a folder at `path`) is an OutputError (exit 3)
    naming `path`; the temp file is removed on any error or interrupt.
    """
    data = text.encode("utf-8")
    tmp, fd = _create(path)
    try:
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)  # removes our name only; never follows a link
        if isinstance(exc, OSError):
            raise _cannot_write(path, exc) from None
        raise


def _create(path: Path) -> tuple[Path, int]:
    for _ in range(_ATTEMPTS):
        tmp = temp_name(path)
        try:
            return tmp, os.open(tmp, _FLAGS, 0o666)  # the umask applies, as for any new file
        except FileExistsError:
            continue  # a name somebody else holds (even a dangling symlink): never reuse it
        except OSError as exc:
            raise _cannot_write(path, exc) from None
    raise OutputError(
        f"{path}: cannot write: {_ATTEMPTS} fresh temp names beside it were already taken",
        f"check who creates files named .{path.name}.tmp-* in {path.parent}",
    )


def _cannot_write(path: Path, exc: OSError) -> OutputError:
    return OutputError(f"{path}: cannot write: {exc.strerror or exc}")
