"""The DuckDB engine's working folder (customer data on disk): made with an owner file naming
the process, removed by `close`, and, when a killed run (`kill -9`, power loss) left one behind,
removed by the next engine that starts beside it once its owner is gone."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from pathlib import Path

PREFIX = "crmclean-duckdb-"
OWNER = "owner.pid"
# what an engine folder holds; a folder holding anything else is left alone
KNOWN = {OWNER, "matching.duckdb", "matching.duckdb.wal", "spill"}


def make(root: Path | None) -> Path:
    """A fresh working folder under `root` (the system's temp folder if None)."""
    folder = Path(tempfile.mkdtemp(prefix=PREFIX, dir=root))
    (folder / OWNER).write_text(str(os.getpid()), encoding="ascii")
    remove_orphans(folder.parent, keep=folder)
    return folder


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's live process
        return True
    return True


def remove_orphans(root: Path, keep: Path) -> list[Path]:
    """Engine folders in `root` whose owning process has ended; returns those removed."""
    removed = []
    for folder in root.glob(PREFIX + "*"):
        if folder == keep or folder.is_symlink() or not folder.is_dir():
            continue
        owner = folder / OWNER
        try:
            pid = int(owner.read_text(encoding="ascii").strip())
            names = {p.name for p in folder.iterdir()}
        except (OSError, ValueError):
            continue  # not ours, or not readable: never guess
        if pid == os.getpid() or _alive(pid) or not names <= KNOWN:
            continue
        with contextlib.suppress(OSError):
            shutil.rmtree(folder)
            removed.append(folder)
    return removed
