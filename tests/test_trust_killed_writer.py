"""A command killed while writing leaves a temp folder the next command on that --out removes,
whatever the dead command had written and however many runs died in a row before it."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from crmclean.io.writers import atomic_output_dir

# write a file no old crmclean wrote, then die by SIGKILL inside the temp folder
_KILLED_WHILE_WRITING = """
import os, signal, sys
from pathlib import Path
from crmclean.io.writers import atomic_output_dir
with atomic_output_dir(Path(sys.argv[1])) as tmp:
    for name in sys.argv[2:]:
        (tmp / name).write_bytes(b"PAR1 half")
    os.kill(os.getpid(), signal.SIGKILL)
"""
# take the lock over from a dead run, then die before clearing its folders
_KILLED_HOLDING_THE_LOCK = """
import os, signal, sys
from pathlib import Path
from crmclean.io.lock import output_lock
with output_lock(Path(sys.argv[1]), "run"):
    os.kill(os.getpid(), signal.SIGKILL)
"""


def _killed(script: str, *args: str) -> None:
    done = subprocess.run([sys.executable, "-c", script, *args], check=False, timeout=120)
    assert done.returncode == -signal.SIGKILL


def _leftovers(parent: Path) -> list[str]:
    return sorted(p.name for p in parent.iterdir() if ".tmp-" in p.name or ".old-" in p.name)


def _publish(out: Path, *more: str) -> None:
    with atomic_output_dir(out) as tmp:
        for name in ("golden.parquet", *more):
            (tmp / name).write_bytes(b"PAR1 new")


@pytest.mark.parametrize(
    "written",
    [
        ("golden.parquet",),
        ("golden.parquet", "match_index.parquet", "term_counts.parquet", "history.json"),
        ("unmatched_movements.parquet", ".report.html.tmp-0a1b2c3d"),
    ],
)
def test_a_run_killed_while_writing_any_output_is_cleared_by_the_next(
    tmp_path: Path, written: tuple[str, ...]
) -> None:
    out = tmp_path / "out"
    _killed(_KILLED_WHILE_WRITING, str(out), *written)
    assert len(_leftovers(tmp_path)) == 1
    _publish(out)
    assert _leftovers(tmp_path) == []
    assert (out / "golden.parquet").read_bytes() == b"PAR1 new"


def test_runs_killed_in_a_row_before_clearing_pass_the_dead_runs_folders_on(
    tmp_path: Path,
) -> None:
    out = tmp_path / "out"
    _killed(_KILLED_WHILE_WRITING, str(out), "golden.parquet", "match_index.parquet")
    first = _leftovers(tmp_path)
    for _ in range(3):  # each takes over the lock and dies before clearing anything
        _killed(_KILLED_HOLDING_THE_LOCK, str(out))
    record = json.loads((tmp_path / "out.lock").read_text())
    assert first[0].rsplit("-", 1)[1] in record["inherited"]
    assert _leftovers(tmp_path) == first
    _publish(out)
    assert _leftovers(tmp_path) == []
    assert not (tmp_path / "out.lock").exists()


def test_a_killed_runs_folder_holding_anything_else_is_kept(tmp_path: Path) -> None:
    """Only plain files named like outputs: a folder or a steward's notes saved into the dead
    run's temp folder keep it (and what it holds) on disk."""
    out = tmp_path / "out"
    _killed(_KILLED_WHILE_WRITING, str(out), "golden.parquet")
    tmp = tmp_path / _leftovers(tmp_path)[0]
    (tmp / "Notes from Anna.txt").write_text("mine\n")
    _publish(out)
    assert (tmp / "Notes from Anna.txt").read_text() == "mine\n"


def test_the_previous_outputs_marker_is_removed_last(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Killed while deleting the previous outputs (moved aside), the files left are still
    listed by their marker, so the next command knows them for crmclean's."""
    out = tmp_path / "out"
    _publish(out, "lineage.parquet", "crosswalk.parquet", "a.json", "z.json")
    removed: list[str] = []
    unlink = Path.unlink

    def recording(self: Path, missing_ok: bool = False) -> None:
        if ".old-" in self.parent.name:  # the previous outputs, moved aside
            removed.append(self.name)
        unlink(self, missing_ok=missing_ok)

    monkeypatch.setattr(Path, "unlink", recording)
    _publish(out)
    assert removed and removed[-1] == ".crmclean-output", removed
