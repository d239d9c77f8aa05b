"""Write outputs so a reader never sees half a run: everything goes into a temp folder beside
`--out` and is swapped into place at the end. Writers never touch input files.

Temp folders are `.<name>.tmp-<token>` and `.<name>.old-<token>`, the token being the one the
lock record of this command holds (crmclean.io.lock), so the next holder knows them for sure.
Crash windows of the swap (POSIX rename is atomic, a swap of two folders is two renames):
  1. after the old `out` is renamed aside and before the new folder is renamed in: `out` is
     missing; both `.<name>.old-<token>` (previous run) and `.<name>.tmp-<token>` (this run,
     complete) exist beside it; the next command renames the old one back (claim_target);
  2. after the swap, before the old folder is deleted: `out` is complete and a stale
     `.<name>.old-<token>` folder is left over, which the next command removes.
A crash while writing leaves only a `.<name>.tmp-<token>` folder, its marker saying `being written
by crmclean <command>` (rewritten with the published files' list just before the swap); the
previous `out` is untouched.
Only folders the dead holder's lock record names, holding nothing but crmclean's own files, are
ever removed; anything merely named like them is somebody's.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import asdict, is_dataclass
from datetime import date, datetime
from enum import Enum
from pathlib import Path
from typing import Any

import polars as pl

from crmclean.errors import OutputError
from crmclean.io.interrupts import outputs_published, signals_deferred
from crmclean.io.lock import Lock, output_lock
from crmclean.io.output_guard import guard_output, real_out
from crmclean.io.own_files import (
    STAGED_MARKER,
    describe_unexpected,
    holds_only_unfinished_output,
    in_progress_text,
    manifest_says_run,
    marker_problem,
    marker_text,
    unexpected_entries,
    written_by_crmclean,
)

# MARKER: written into every output folder; an existing folder is only replaced if crmclean
# made it (it says which command wrote it, so a run's folder is known even if files are lost)
from crmclean.io.run_folder import MARKER as RUN_FOLDER_MARKER
from crmclean.io.run_folder import holds_run
from crmclean.io.spreadsheet import is_e164, neutralise, neutralise_text

MARKER = RUN_FOLDER_MARKER


@contextmanager
def atomic_output_dir(
    out: Path,
    protect: Sequence[Path | str | None] = (),
    command: str = "run",
    previous: Path | None = None,
    lock: Lock | None = None,
) -> Iterator[Path]:
    """Yield a temp folder beside `out`; on success it replaces `out`, on error it is removed.

    `protect` lists what the command read (guard_output: `out` may not hold any of it);
    `previous` is the previous run's folder (`run --previous`). Only `run` may replace a folder
    a run wrote (golden ids live there). The lock on `out` is taken here unless the caller
    already holds it (`lock`, after claim_target); a dead run's leftovers are cleared under it.
    """
    guard_output(out, protect, previous)
    out = real_out(out)
    with _held(out, command, lock) as held:
        tmp = out.parent / f".{out.name}.tmp-{held.token}"
        try:
            try:
                out.parent.mkdir(parents=True, exist_ok=True)
                tmp.mkdir()  # not mkdtemp: its 0700 mode would leak into the published folder
            except OSError as exc:
                raise OutputError(
                    f"{out}: cannot create the output folder: {exc.strerror}"
                ) from None
            marker = tmp / MARKER
            _write_marker(marker, in_progress_text(command))
            yield tmp
            # the marker lists what was published: the next command replaces only those files
            listed = marker_text(command, os.listdir(tmp))
            _write_marker(marker, listed)
            # a file saved into `out` while this command wrote is somebody's: keep it, exit 3
            check_target(out, command)
        except OutputError as exc:  # name the file as it would have been published, not tmp
            shutil.rmtree(tmp, ignore_errors=True)
            raise OutputError(exc.message.replace(str(tmp), str(out)), exc.hint) from None
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        with signals_deferred():
            _swap_into_place(tmp, out, held.token)
            outputs_published()  # a signal from now on cannot undo the swap: exit with our code


@contextmanager
def _held(out: Path, command: str, lock: Lock | None) -> Iterator[Lock]:
    if lock is not None:
        check_target(out, command)
        yield lock
        return
    with output_lock(out, command) as taken:
        claim_target(out, command, taken)
        yield taken


def claim_target(out: Path, command: str, lock: Lock) -> None:
    """Under a freshly taken lock: put back the outputs a dead run had moved aside, refuse an
    `out` holding anything crmclean did not write (check_target), and only then remove the dead
    runs' temp folders: those the lock records name (`token`, and the tokens a run killed
    before clearing them had taken over) and that hold nothing but crmclean's own files. A
    folder merely named like one (`.out.old-20261206`) is never touched.
    """
    out = real_out(out)
    for token in lock.inherited:
        old = out.parent / f".{out.name}.old-{token}"
        if not os.path.lexists(out) and _real_folder(old):
            os.rename(old, out)  # killed between the two renames of the swap: the previous outputs
    check_target(out, command)
    for token in lock.inherited:
        for leftover in (
            out.parent / f".{out.name}.old-{token}",
            out.parent / f".{out.name}.tmp-{token}",
        ):
            if _real_folder(leftover) and _only_own(leftover):
                shutil.rmtree(leftover, ignore_errors=True)


def _write_marker(marker: Path, text: str) -> None:
    """Stage the marker beside itself and rename it into place: a command killed meanwhile
    leaves the old marker (or the staged one) whole, never a half-written one."""
    staged = marker.with_name(STAGED_MARKER)

    def action() -> None:
        staged.write_text(text, encoding="utf-8")
        os.replace(staged, marker)

    _write(action, marker)


def _real_folder(path: Path) -> bool:
    return path.is_dir() and not path.is_symlink()


def _only_own(folder: Path) -> bool:
    """A folder crmclean wrote (its marker) holding nothing else, an unfinished one (killed while
    writing: any of its command's files), or an empty one (killed right after making it)."""
    if not os.listdir(folder) or holds_only_unfinished_output(folder):
        return True
    return written_by_crmclean(folder) and not unexpected_entries(folder)


def check_target(out: Path, command: str) -> None:
    """Refuse (exit 3) an `out` whose replacement would delete something crmclean did not
    write: a file in its place, a run's golden ids (only `run` replaces those), or any entry
    the folder's marker does not list (crmclean.io.own_files). Called under the lock."""
    out = real_out(out)
    if out.exists() and not out.is_dir():
        raise OutputError(f"{out}: exists and is a file, not a folder", "choose another --out")
    if not out.is_dir():
        return
    if command != "run" and holds_run(out):
        raise OutputError(
            f"{out}: holds the outputs of `crmclean run` (golden ids); {command} will not "
            "replace them",
            f"choose another --out for {command}",
        )
    foreign = unexpected_entries(out)
    if not foreign:
        return
    problem = marker_problem(out)
    is_run = manifest_says_run(out)
    if problem is not None and (is_run or problem != "is missing"):
        raise OutputError(
            f"{out}: {'holds a run (manifest.json) but ' if is_run else ''}its {MARKER} "
            f"marker {problem}, so crmclean cannot tell its own files from others'; {command} "
            "will not replace the folder",
            "restore the marker from a backup, or move the files away and choose another --out",
        )
    count = f"{len(foreign)} entr{'y' if len(foreign) == 1 else 'ies'}"
    what = (
        f"holds {count} crmclean did not write"
        if problem is None
        else "is a folder crmclean did not write and it is not empty"
    )
    raise OutputError(
        f"{out}: {what} ({describe_unexpected(foreign)}); {command} replaces its --out "
        "folder as a whole and would delete them",
        "choose another --out, or move or remove those entries first",
    )


def _swap_into_place(tmp: Path, out: Path, token: str) -> None:
    aside = out.parent / f".{out.name}.old-{token}"
    try:
        if out.exists() or out.is_symlink():
            os.rename(out, aside)
        try:
            os.rename(tmp, out)
        except OSError:
            if aside.exists():
                os.rename(aside, out)  # put the previous run back
            raise
    except OSError as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        raise OutputError(f"{out}: cannot replace the output folder: {exc.strerror}") from None
    if aside.is_symlink():
        aside.unlink()
    elif aside.is_dir():
        _discard_aside(aside, out)


def _discard_aside(aside: Path, out: Path) -> None:
    """The previous outputs, moved aside: delete crmclean's own files only. Anything saved into
    the folder after the last check (a steward's notes, in the instant before the swap) moves
    into the new `out` where it was saved; if a new output took its name it stays in `aside`,
    which is then kept (no marker, no token: nothing of crmclean's ever deletes it)."""
    with suppress(OSError):
        kept = {name.rstrip("/") for name in unexpected_entries(aside)}
        for name in sorted(kept):
            if not os.path.lexists(out / name):
                with suppress(OSError):
                    os.rename(aside / name, out / name)
        # the marker goes last: killed in between, the rest is still known as crmclean's
        for name in sorted(os.listdir(aside), key=lambda name: name == MARKER):
            if name not in kept:
                (aside / name).unlink()  # crmclean writes no folders into its outputs
        aside.rmdir()  # fails, keeping them, while anything of somebody's is left inside


def write_parquet(frame: pl.DataFrame, path: Path) -> None:
    _write(lambda: frame.write_parquet(path), path)


BOM = "\ufeff".encode()  # the UTF-8 byte-order mark


def write_csv(
    frame: pl.DataFrame,
    path: Path,
    spreadsheet_safe: bool = True,
    delimiter: str = ",",
    bom: bool = False,
) -> None:
    """UTF-8 CSV; with spreadsheet_safe, formula-like cells are neutralised and E.164 quoted.

    `bom` starts the file with a UTF-8 byte-order mark (Excel reads UTF-8 only with one); a `;`
    delimiter is what Excel expects in a German locale."""
    if not spreadsheet_safe:
        _write(lambda: frame.write_csv(path, separator=delimiter), path)
        return
    text = [name for name, dtype in frame.schema.items() if dtype == pl.String]
    # polars quotes whole columns or nothing: quote cell by cell ourselves, vectorised
    safe = frame.with_columns(
        _quoted(neutralise(pl.col(name)), delimiter).alias(name) for name in text
    )
    header = delimiter.join(_quote_text(name, delimiter) for name in frame.columns)
    _write(lambda: _write_prequoted(safe, header, path, delimiter, bom), path)


def csv_text(frame: pl.DataFrame, delimiter: str = ",", bom: bool = False) -> str:
    """The text write_csv writes (spreadsheet-safe), for printing to standard output."""
    with tempfile.TemporaryDirectory() as folder:
        target = Path(folder) / "review.csv"
        write_csv(frame, target, delimiter=delimiter, bom=bom)
        return target.read_text(encoding="utf-8")


def _quoted(value: pl.Expr, delimiter: str = ",") -> pl.Expr:
    special = value.str.contains(f'[{re.escape(delimiter)}"\\r\\n]') | is_e164(value)
    escaped = pl.lit('"') + value.str.replace_all('"', '""', literal=True) + pl.lit('"')
    return pl.when(special).then(escaped).otherwise(value)


def _quote_text(value: str, delimiter: str = ",") -> str:
    value = neutralise_text(value)
    if any(ch in value for ch in f'{delimiter}"\r\n'):
        return '"' + value.replace('"', '""') + '"'
    return value


def _write_prequoted(
    frame: pl.DataFrame, header: str, path: Path, delimiter: str = ",", bom: bool = False
) -> None:
    with path.open("wb") as handle:
        handle.write((BOM if bom else b"") + header.encode() + b"\n")
        frame.write_csv(handle, include_header=False, quote_style="never", separator=delimiter)


def write_json(obj: Any, path: Path) -> None:
    """Stable JSON: sorted keys, two-space indent, UTF-8, newline at the end."""
    text = json.dumps(obj, sort_keys=True, indent=2, ensure_ascii=False, default=_plain)
    _write(lambda: path.write_text(text + "\n", encoding="utf-8"), path)


def _plain(value: Any) -> Any:
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, set | frozenset | tuple):
        return sorted(value) if isinstance(value, set | frozenset) else list(value)
    if is_dataclass(value) and not isinstance(value, type):
        return asdict(value)
    raise TypeError(f"cannot write {type(value).__name__} as JSON")


def _write(action: Callable[[], object], path: Path) -> None:
    try:
        action()
    except (OSError, pl.exceptions.PolarsError) as exc:
        raise OutputError(f"{path}: cannot write: {_reason(exc)}") from None


def _reason(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return (str(exc).splitlines() or [type(exc).__name__])[0]
