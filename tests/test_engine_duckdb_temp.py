"""The DuckDB engine's working folder holds customer data: a run killed with -9 leaves it behind,
and the next engine beside it removes it once its owner process is gone (never a live one's,
never a folder holding anything else)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("duckdb")

from crmclean.engines.duckdb_engine import DuckDBEngine
from crmclean.engines.duckdb_engine.temp_folder import OWNER, PREFIX


def _dead_pid() -> int:
    done = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        check=True,
        capture_output=True,
        text=True,
    )
    return int(done.stdout)


def test_an_orphaned_engine_folder_is_removed_by_the_next_engine(tmp_path: Path) -> None:
    orphan = tmp_path / (PREFIX + "orphan")
    (orphan / "spill").mkdir(parents=True)
    (orphan / OWNER).write_text(str(_dead_pid()))
    (orphan / "matching.duckdb").write_bytes(b"customer data")
    live = tmp_path / (PREFIX + "live")
    live.mkdir()
    (live / OWNER).write_text("1")  # pid 1 is always alive
    foreign = tmp_path / (PREFIX + "foreign")
    foreign.mkdir()
    (foreign / OWNER).write_text(str(_dead_pid()))
    (foreign / "notes.txt").write_text("a user's file")
    engine = DuckDBEngine(temp_root=tmp_path)
    try:
        assert not orphan.exists()
        assert live.exists() and foreign.exists()
    finally:
        engine.close()
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([live.name, foreign.name])
