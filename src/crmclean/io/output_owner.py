"""Is a folder one crmclean wrote? Asked before a command writes into a folder it did not just
create: `crmclean report DIR` rebuilds report.html/report.json there, and `review --out`
must never land in one.

The proof is the `.crmclean-output` marker whose first line is `written by crmclean <command>`,
or a run's `manifest.json` (read as crmclean.summaries.RunManifest). Both are read as regular
files only and capped: a FIFO, a device or a huge file there proves nothing and never hangs.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

from crmclean.errors import OutputError
from crmclean.io.output_guard import resolved
from crmclean.io.regular_file import small_text
from crmclean.io.run_folder import MANIFEST, MARKER
from crmclean.summaries import RunManifest, SummaryError

_MARKER_LINE = re.compile(r"written by crmclean [a-z][a-z-]*")
_MARKER_CAP = 64 * 1024  # a marker lists file names: a few hundred bytes
_MANIFEST_CAP = 4 * 1024 * 1024  # a manifest is a few kilobytes


def written_by(folder: Path) -> str | None:
    """What shows that crmclean wrote `folder` ("its .crmclean-output marker (written by
    crmclean run)", "a run manifest.json"), or None."""
    first = _first_line(folder / MARKER)
    if first is not None and _MARKER_LINE.fullmatch(first):
        return f"its {MARKER} marker ({first})"
    if _is_run_manifest(folder / MANIFEST):
        return f"a run {MANIFEST}"
    return None


def require_written_by_crmclean(folder: Path, command: str, writes: str) -> None:
    """Refuse (exit 3) to write `writes` into a folder crmclean did not write."""
    if written_by(folder) is not None:
        return
    raise OutputError(
        f"{folder}: is not a folder crmclean wrote (no {MARKER} marker naming a command, no run "
        f"{MANIFEST}); {command} would replace {writes} in it",
        "pass the --out folder of a crmclean validate or run",
    )


def crmclean_folder_holding(path: Path) -> Path | None:
    """The nearest folder above `path` (its real location) that crmclean wrote, or None. Any
    `.crmclean-output` entry counts here, even a damaged one: such a folder is replaced as a
    whole by the next run, so nothing else may be written into it."""
    for folder in resolved(path).parents:
        if os.path.lexists(folder / MARKER) or written_by(folder) is not None:
            return folder
    return None


def _first_line(marker: Path) -> str | None:
    text = small_text(marker, _MARKER_CAP)
    if not isinstance(text, str):
        return None
    lines = text.splitlines()
    return lines[0] if lines else None


def _is_run_manifest(path: Path) -> bool:
    text = small_text(path, _MANIFEST_CAP)
    if not isinstance(text, str):
        return False
    try:
        RunManifest.from_dict(json.loads(text))
    except (ValueError, TypeError, SummaryError):
        return False  # json.JSONDecodeError and SummaryError are ValueErrors
    return True
