"""A command killed while writing leaves a temp folder the next command on that --out removes,
whatever the dead command had written and however many runs died in a row before it."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from crmclean.io.lock import output_lock
from crmclean.io.writers import atomic_output_dir

# write a file no old crmclean wrote, then die by SIGKILL inside the temp folder
_KILLED_WHILE_WRITING = """
import os, signal, sys
from pathlib import Path
from crmclean.io.lock import output_lock
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


def _dead_run(tmp_path: Path, token: str, files: dict[str, str]) -> Path:
    """The lock file a run killed by SIGKILL leaves (its record, no OS lock) and its temp
    folder, holding `files` (name: text)."""
    record = {"token": token, "pid": 2**22 + 1, "host": "h", "command": "run", "started": "x"}
    (tmp_path / "out.lock").write_text(json.dumps(record))
    folder = tmp_path / f".out.tmp-{token}"
    folder.mkdir()
    for name, text in files.items():
        (folder / name).write_text(text)
    return folder


@pytest.mark.parametrize(
    "files",
    [
        {},  # killed right after making the folder
        {".crmclean-output.new": ""},  # killed while staging its first marker
        {".crmclean-output.new": "being written by crmclean run\n"},
        {
            ".crmclean-output": "being written by crmclean run\n",
            ".crmclean-output.new": "written by crmclean run\ngolden.parquet\n",  # the last one
            "golden.parquet": "PAR1",
        },
    ],
)
def test_a_run_killed_while_writing_its_marker_is_cleared(
    tmp_path: Path, files: dict[str, str]
) -> None:
    _dead_run(tmp_path, "0f1e2d3c", files)
    _publish(tmp_path / "out")
    assert _leftovers(tmp_path) == []


@pytest.mark.parametrize(
    "files",
    [
        {".crmclean-output.new": "", "notes.txt": "mine"},  # only outputs' names are ours
        {".crmclean-output": "", "golden.parquet": "PAR1"},  # never written by crmclean now
        {".crmclean-output": "my notes\n", "golden.parquet": "PAR1"},
    ],
)
def test_a_dead_runs_folder_not_looking_like_crmclean_wrote_it_is_kept(
    tmp_path: Path, files: dict[str, str]
) -> None:
    folder = _dead_run(tmp_path, "0f1e2d3c", files)
    _publish(tmp_path / "out")
    assert {p.name: p.read_text() for p in folder.iterdir()} == files


def test_the_lock_record_is_written_over_the_dead_ones_in_one_write(tmp_path: Path) -> None:
    """No truncate first (killed in between, the dead runs' tokens would be lost): the new
    record is padded to the old one's length and still reads as JSON."""
    tokens = [f"{n:08x}" for n in range(20)]
    record = {"token": "0f1e2d3c", "inherited": tokens, "pid": 2**22 + 1, "host": "h" * 300}
    (tmp_path / "out.lock").write_text(json.dumps({**record, "started": "x"}))
    with output_lock(tmp_path / "out", "run") as lock:
        assert lock.inherited == ("0f1e2d3c", *tokens)
        raw = (tmp_path / "out.lock").read_bytes()
        assert json.loads(raw)["token"] == lock.token
