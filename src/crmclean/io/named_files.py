"""Files a rule file names (`extends:`, `values_from:`): what they may be, and reading them safely.

A name is relative to the folder of the rule file that writes it, or absolute. After following
links it must be a regular file (never a device, FIFO, socket or folder) with a suffix of its
kind and a bounded size. Nothing here ever quotes a file's content in an error.
"""

from __future__ import annotations

import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path

from crmclean.errors import InputError, UsageError
from crmclean.io.regular_file import special_kind

MiB = 1024 * 1024


@dataclass(frozen=True)
class FileKind:
    """What a rule file may name for one purpose."""

    what: str  # "rule file", "reference file"
    suffixes: tuple[str, ...]
    max_bytes: int


RULE_FILE = FileKind("rule file", (".yaml", ".yml"), 1 * MiB)
REFERENCE_FILE = FileKind("reference file", (".csv", ".tsv", ".txt", ".parquet"), 64 * MiB)
DECISIONS_FILE = FileKind("decisions file", (".csv",), 256 * MiB)


class NamedFileProblem(Exception):
    """Why a named file is refused; `problem` and `hint` never hold the file's content."""

    def __init__(self, problem: str, hint: str | None = None, *, unreadable: bool = False) -> None:
        super().__init__(problem)
        self.problem = problem
        self.hint = hint
        self.unreadable = unreadable  # the OS refused (permissions, a folder): exit 3, not 2


def resolve_named(base: Path, name: str, kind: FileKind) -> Path:
    """The file `name` (relative to `base`) names, checked for its kind; raises NamedFileProblem."""
    if "\x00" in name or not name.strip():
        raise NamedFileProblem(f"{name!r} is not a file name")
    if is_url(name):
        raise NamedFileProblem(
            f"{kind.what} names a URL", "name a local file; crmclean reads no host"
        )
    target = Path(os.path.realpath(base / name))  # never raises, even on a link loop
    if target.suffix.lower() not in kind.suffixes:
        raise NamedFileProblem(
            f"{name} is not a {kind.what} ({', '.join(kind.suffixes)})",
            f"name a {' or '.join(kind.suffixes)} file",
        )
    check_regular(target, kind, name)
    return target


def check_regular(path: Path, kind: FileKind, shown: str | None = None) -> int:
    """Size of `path` if it is a regular file within the kind's bound (stat, never open)."""
    shown = shown or str(path)
    try:
        info = os.stat(path)
    except FileNotFoundError:
        raise NamedFileProblem(f"{shown} not found", "check the path") from None
    except OSError as exc:
        raise NamedFileProblem(f"{shown} cannot be read: {exc.strerror}", unreadable=True) from None
    _check_stat(info, kind, shown)
    return info.st_size


def read_bounded_text(path: Path, kind: FileKind, shown: str | None = None) -> str:
    """UTF-8 text of a regular file of at most kind.max_bytes.

    Opened non-blocking and checked with fstat, so a FIFO or device swapped in after a stat
    can neither hang the run nor feed it without end.
    """
    shown = shown or str(path)
    if not hasattr(os, "O_NONBLOCK"):  # Windows: no FIFOs to hang on, but stat first anyway
        check_regular(path, kind, shown)
    try:
        handle = open(path, "rb", opener=_open_nonblocking)  # noqa: SIM115 - closed below
    except FileNotFoundError:
        raise NamedFileProblem(f"{shown} not found", "check the path") from None
    except OSError as exc:
        raise NamedFileProblem(
            f"{shown} cannot be read: {exc.strerror or type(exc).__name__}",
            "check the file's permissions and the user crmclean runs as"
            if isinstance(exc, PermissionError)
            else "check the path",
            unreadable=True,
        ) from None
    with handle:
        _check_stat(os.fstat(handle.fileno()), kind, shown)
        data = handle.read(kind.max_bytes + 1)
    if len(data) > kind.max_bytes:
        raise NamedFileProblem(*_too_big(kind, shown))
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise NamedFileProblem(
            f"{shown} is not UTF-8 text (byte {exc.start})", "save it as UTF-8"
        ) from None


def _open_nonblocking(path: str, flags: int) -> int:
    extra = getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
    return os.open(path, flags | extra)


def _check_stat(info: os.stat_result, kind: FileKind, shown: str) -> None:
    if stat.S_ISDIR(info.st_mode):
        raise NamedFileProblem(f"{shown} is a folder, not a {kind.what}")
    if not stat.S_ISREG(info.st_mode):
        what = special_kind(info.st_mode, "something else")
        raise NamedFileProblem(f"{shown} is {what}, not a regular file", f"name a {kind.what}")
    if info.st_size > kind.max_bytes:
        raise NamedFileProblem(*_too_big(kind, shown))


def _too_big(kind: FileKind, shown: str) -> tuple[str, str]:
    return (
        f"{shown} is larger than {kind.max_bytes // MiB} MiB, the limit for a {kind.what}",
        "split it, or check that the right file is named",
    )


def checked_named_file(path: Path, kind: FileKind) -> Path:
    """`path` if it is a regular file of the kind within its bound. Otherwise a UsageError
    (exit 2: a wrong kind, a device, too large), or an InputError (exit 3) when the system
    refuses to read it (permissions).

    For files a rule file names that commands read with their own readers (decisions.csv).
    """
    try:
        return resolve_named(Path.cwd(), str(path), kind)
    except NamedFileProblem as exc:
        if exc.unreadable:
            raise InputError(exc.problem, exc.hint) from None
        raise UsageError(exc.problem, exc.hint) from None


def is_url(name: str) -> bool:
    """`http://...`, `s3://...`, `file://...`: a rule file names local files only."""
    return re.match(r"^[A-Za-z][A-Za-z0-9+.-]*://", name) is not None
