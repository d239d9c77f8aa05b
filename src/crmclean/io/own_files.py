"""What crmclean itself wrote into an output folder, so replacing the folder deletes nothing else.

The `.crmclean-output` marker's first line names the command (`written by crmclean run`); the
lines after it list every file that command published. A folder is replaced only when each of
its entries is one of those, the marker, a file `crmclean report` rebuilds in place, or a name
the run's manifest lists; anything else (a steward's notes, a nested run folder, another tool's
files) is somebody's data and the command stops with exit 3 instead of deleting it.
"""

from __future__ import annotations

import json
import stat
from collections.abc import Iterable
from pathlib import Path

from crmclean.io.run_folder import MANIFEST, MARKER

# `crmclean report` rebuilds these inside any output folder (crmclean.io.run_outputs)
REPORT_FILES = ("report.html", "report.json")
# Folders written before the marker listed its files: every name a command wrote then.
_LEGACY_FILES = frozenset(
    {
        "violations.parquet", "violations.csv", "validate.json",
        "clean.parquet", "clean.csv", "changes.parquet", "clean.json",
        "pairs.parquet", "clusters.parquet", "review.parquet", "model.json", "dedupe.json",
        "quarantine.parquet", "crosswalk.parquet", "golden.parquet", "golden.csv",
        "lineage.parquet", "changes-since-previous.parquet", MANIFEST,
        "customers.csv", "customers.parquet", "truth.csv", "entities.csv", "defects.csv",
        "differences.csv", "synth.json",
    }
)  # fmt: skip
_SHOWN = 5  # entries named in the refusal; the rest are counted


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
    if not listed:  # a marker from before the listing: the names crmclean wrote then
        listed = set(_LEGACY_FILES)
    return frozenset({MARKER, *REPORT_FILES, *listed, *_manifest_outputs(folder)})


def _is_own(path: Path, own: frozenset[str]) -> bool:
    if _is_folder(path):
        return False  # crmclean writes no folders into its outputs
    name = path.name
    if name in own:
        return True
    # a report rebuild killed mid-write leaves `.report.html.tmp` (write_report_file)
    return name.startswith(".") and name.endswith(".tmp") and name[1:-4] in REPORT_FILES


def _marker_lines(marker: Path) -> list[str] | None:
    """The marker's lines; None when there is no readable marker file."""
    try:
        if not stat.S_ISREG(marker.lstat().st_mode):
            return None
        text = marker.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    lines = text.splitlines()
    return lines if lines and lines[0].startswith("written by crmclean") else None


def _manifest_outputs(folder: Path) -> list[str]:
    """The files a run's manifest lists (`outputs`); none when it is missing or unreadable."""
    try:
        data = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return []
    listed = data.get("outputs") if isinstance(data, dict) else None
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
