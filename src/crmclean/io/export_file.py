"""Where `crmclean review --format csv --out FILE` may write its queue, and the write itself.

The export is a file a steward names by hand, so a slip of the keyboard must never cost data:
  - never (exit 3, no flag overrides it) the decisions file, a rule file or a file it reads,
    the run's input, the lock of the run folder, or any path inside a folder crmclean wrote
    (the next run replaces that folder as a whole, and its files are the run's record);
  - never a folder (exit 2) or something that is not a regular file, such as a FIFO or a
    device (exit 3: it could block, or be replaced by a file);
  - an existing file only with `--force` (exit 2 without): a filled-in export holds a
    steward's decisions until they are imported, so it is never taken for a stale one.
The write is atomic and follows no link (crmclean.io.atomic_file).
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable
from pathlib import Path

import polars as pl

from crmclean.errors import OutputError, UsageError
from crmclean.io.atomic_file import replace_file
from crmclean.io.lock import lock_path
from crmclean.io.output_guard import resolved
from crmclean.io.output_owner import crmclean_folder_holding
from crmclean.io.regular_file import special_kind
from crmclean.io.writers import csv_text

_HINT = "choose another --out file, or leave --out out to print the queue on stdout"


def check_export_target(
    output: Path,
    run_folder: Path,
    protected: Iterable[tuple[Path, str]],
    *,
    force: bool = False,
) -> None:
    """Refuse an --out the export may not replace; `protected` pairs a path with what it is
    ("the decisions file"). Called before any work is done."""
    try:
        target = resolved(output)
    except (OSError, RuntimeError):  # RuntimeError: a symlink loop (Python 3.11)
        raise OutputError(f"--out {output}: cannot be resolved (a symlink loop?)", _HINT) from None
    if target.is_dir():
        raise UsageError(f"--out {output}: is a folder", "give a file name such as queue.csv")
    found = _stat(output)
    for path, what in protected:
        if resolved(path) == target or _same_file(found, path):
            raise OutputError(
                f"--out {output}: is {what} ({path}); review never writes over it", _HINT
            )
    if target == lock_path(resolved(run_folder)):
        raise OutputError(f"--out {output}: is the lock file of {run_folder}", _HINT)
    run = resolved(run_folder)
    folder = run if run in target.parents else crmclean_folder_holding(output)
    if folder is not None:
        raise OutputError(
            f"--out {output}: lies inside {folder}, a folder crmclean wrote; the next "
            "command replaces it as a whole, so review never writes there",
            _HINT,
        )
    if found is None and not os.path.lexists(output):
        return
    kind = _kind(output)
    if kind is not None:
        raise OutputError(f"--out {output}: is {kind}, not a file review may replace", _HINT)
    if not force:
        raise UsageError(
            f"--out {output}: already exists",
            "pass --force to replace it; import a filled-in export first with --import",
        )


def write_export(frame: pl.DataFrame, output: Path, delimiter: str = ",") -> None:
    """The spreadsheet-safe CSV of `frame` into `output`, atomically and through no link, with
    a UTF-8 byte-order mark so that Excel reads its umlauts right."""
    replace_file(output, csv_text(frame, delimiter, bom=True))


def _stat(path: Path) -> os.stat_result | None:
    try:
        return path.stat()
    except OSError:
        return None


def _same_file(found: os.stat_result | None, path: Path) -> bool:
    """A hard link to a protected file is that file under another name."""
    other = _stat(path)
    return found is not None and other is not None and os.path.samestat(found, other)


def _kind(path: Path) -> str | None:
    """What stands at `path` when it is not a regular file (a dangling link counts as none)."""
    found = _stat(path)
    if found is None or stat.S_ISREG(found.st_mode):
        return None
    return special_kind(found.st_mode)
