"""What crmclean itself wrote into an output folder, so replacing the folder deletes nothing else.

The `.crmclean-output` marker's first line names the command (`written by crmclean run`); the
lines after it list every file that command published. A folder is replaced only when each of
its entries is one of those, the marker, a file `crmclean report` rebuilds in place, or a name
the run's manifest lists; anything else (a steward's notes, a nested run folder, another tool's
files) is somebody's data and the command stops with exit 3 instead of deleting it.
"""

from __future__ import annotations

import json
import os
import re
import stat
from collections.abc import Iterable
from pathlib import Path

from crmclean.io.regular_file import small_text
from crmclean.io.run_folder import MANIFEST, MARKER

# `crmclean report` rebuilds these inside any output folder (crmclean.io.run_outputs)
REPORT_FILES = ("report.html", "report.json")
# Folders written before the marker listed its files: the names each command wrote then. A
# one-line marker vouches only for the names of the command it names (`clean` never wrote
# `customers.csv`; a user's file of that name in a clean folder is theirs).
_VALIDATE = ("violations.parquet", "violations.csv", "validate.json")
_CLEAN = ("clean.parquet", "clean.csv", "changes.parquet", "clean.json")
_DEDUPE = ("pairs.parquet", "clusters.parquet", "review.parquet", "model.json", "dedupe.json")
_RUN = (
    "quarantine.parquet", "crosswalk.parquet", "golden.parquet", "golden.csv",
    "lineage.parquet", "changes-since-previous.parquet", MANIFEST,
)  # fmt: skip
_SYNTH = (
    "customers.csv", "customers.parquet", "truth.csv", "entities.csv", "defects.csv",
    "differences.csv", "synth.json",
)  # fmt: skip
_LEGACY_FILES: dict[str, frozenset[str]] = {
    "validate": frozenset(_VALIDATE),
    "clean": frozenset(_CLEAN),
    "dedupe": frozenset({*_DEDUPE, "clean.parquet"}),
    "run": frozenset({*_VALIDATE, *_CLEAN, *_DEDUPE, *_RUN}),
    "synth": frozenset(_SYNTH),
}
_SHOWN = 5  # entries named in the refusal; the rest are counted


# A temp folder's marker while its command is still writing (io/writers.py). It is rewritten
# with the published list before the swap, so an `out` never carries it; a killed command's
# temp folder does, and may hold any of the command's files, named as they are published.
_IN_PROGRESS = "being written by crmclean"
# the marker is written here first and renamed into place, so it is never seen half-written
STAGED_MARKER = f"{MARKER}.new"
_OUTPUT_NAME = re.compile(r"[a-z][a-z0-9_-]*\.(?:parquet|csv|json|html|xlsx)")


def in_progress_text(command: str) -> str:
    """The marker of a temp folder `command` is writing into."""
    return f"{_IN_PROGRESS} {command}\n"


def holds_only_unfinished_output(folder: Path) -> bool:
    """True when `folder` is a temp folder a command was killed in while writing: its
    in-progress marker (or, killed before that was in place, only the marker being staged)
    and plain files named like crmclean's outputs, nothing else."""
    names = set(os.listdir(folder))
    if MARKER in names:
        text = small_text(folder / MARKER)
        if not (isinstance(text, str) and text.startswith(_IN_PROGRESS)):
            return False
    elif names != {STAGED_MARKER}:
        return False
    for name in names - {MARKER, STAGED_MARKER}:
        path = folder / name
        if path.is_symlink() or not path.is_file():
            return False
        if not (_OUTPUT_NAME.fullmatch(name) or _REPORT_LEFTOVER.fullmatch(name)):
            return False
    return True


def marker_text(command: str, names: Iterable[str]) -> str:
    """The marker of a folder `command` wrote, listing the files it published."""
    listed = sorted(name for name in names if name != MARKER)
    return "".join(f"{line}\n" for line in (f"written by crmclean {command}", *listed))


def unexpected_entries(folder: Path) -> list[str]:
    """The entries of `folder` crmclean did not write, sorted (folders end in `/`); all of
    them when the folder has no marker."""
    entries = sorted(folder.iterdir(), key=lambda p: p.name)
    own = _own_names(folder)
    return [_shown(path) for path in entries if not _is_own(path, own)]


def written_by_crmclean(folder: Path) -> bool:
    """True when `folder` carries a marker crmclean wrote (its first line names the command)."""
    return _marker_lines(folder / MARKER) is not None


def describe_unexpected(names: list[str]) -> str:
    """`a, b/, c` or `a, b, c, d, e and 3 more`."""
    shown = ", ".join(names[:_SHOWN])
    rest = len(names) - _SHOWN
    return f"{shown} and {rest} more" if rest > 0 else shown


def _own_names(folder: Path) -> frozenset[str]:
    lines = _marker_lines(folder / MARKER)
    if lines is None:
        return frozenset()
    listed = {line for line in lines[1:] if line}
    if not listed:  # a marker from before the listing: the names its command wrote then
        command = lines[0].removeprefix("written by crmclean").strip()
        listed = set(_LEGACY_FILES.get(command, frozenset()))
    return frozenset({MARKER, *REPORT_FILES, *listed, *_manifest_outputs(folder)})


_REPORT_LEFTOVER = re.compile(
    r"\.(?:"
    + "|".join(re.escape(name) for name in sorted(REPORT_FILES))
    + r")\.tmp(?:-[0-9a-f]{8})?"
)


def _is_own(path: Path, own: frozenset[str]) -> bool:
    if _is_folder(path):
        return False  # crmclean writes no folders into its outputs
    name = path.name
    if name in own:
        return True
    # a report rebuild killed mid-write leaves `.report.html.tmp-<8 hex>` (io/atomic_file.py;
    # `.report.html.tmp` from crmclean before it)
    return _REPORT_LEFTOVER.fullmatch(name) is not None


def marker_problem(folder: Path) -> str | None:
    """Why `folder`'s marker vouches for nothing (None when it is a marker crmclean wrote)."""
    marker = folder / MARKER
    text = small_text(marker)
    if isinstance(text, str) and text.startswith("written by crmclean"):
        return None
    if not isinstance(text, str):
        return text.problem
    return "was not written by crmclean (its first line does not name a crmclean command)"


def _marker_lines(marker: Path) -> list[str] | None:
    """The marker's lines; None when there is no marker crmclean could have written."""
    text = small_text(marker)
    if not isinstance(text, str):
        return None
    lines = text.splitlines()
    return lines if lines and lines[0].startswith("written by crmclean") else None


def manifest_says_run(folder: Path) -> bool:
    """True when `folder`'s manifest.json is a small JSON file of a `crmclean run`."""
    return _manifest(folder).get("command") == "run"


def _manifest(folder: Path) -> dict[str, object]:
    text = small_text(folder / MANIFEST)
    if not isinstance(text, str):
        return {}
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        return {}
    return data if isinstance(data, dict) else {}


def _manifest_outputs(folder: Path) -> list[str]:
    """The files a run's manifest lists (`outputs`); none when it is missing, unreadable, not
    a regular file or too large to be one crmclean wrote."""
    listed = _manifest(folder).get("outputs")
    if not isinstance(listed, list):
        return []
    return [name for name in listed if isinstance(name, str) and "/" not in name]


def _is_folder(path: Path) -> bool:
    try:
        return stat.S_ISDIR(path.lstat().st_mode)
    except OSError:
        return False


def _shown(path: Path) -> str:
    return f"{path.name}/" if _is_folder(path) else path.name
