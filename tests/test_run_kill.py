"""A nightly run killed with SIGKILL at any moment leaves the previous outputs intact."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import polars as pl

from run_fixtures import customers, write_case

CLI = [sys.executable, "-m", "crmclean.cli.main", "run"]


def start(data: Path, rules: Path, out: Path, *extra: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [*CLI, str(data), "--rules", str(rules), "--out", str(out), "--quiet", *extra],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env={**os.environ, "NO_COLOR": "1"},
    )


def consistent(out: Path) -> str:
    """The input fingerprint of the run whose outputs are in `out`, after checking they agree."""
    manifest = json.loads((out / "manifest.json").read_text())
    golden = pl.read_parquet(out / "golden.parquet")
    crosswalk = pl.read_parquet(out / "crosswalk.parquet")
    assert golden.height == manifest["rows"]["golden"]
    assert crosswalk.height == manifest["rows"]["matched"]
    return str(manifest["inputs"][0]["sha256"])


def temp_has(folder: Path, name: str) -> Callable[[], bool]:
    """True once a temp folder that did not exist yet (not a killed run's) holds `name`."""
    stale = set(folder.glob(".out.tmp-*"))
    return lambda: any((t / name).exists() for t in set(folder.glob(".out.tmp-*")) - stale)


def test_sigkill_at_any_point_leaves_previous_outputs_readable(tmp_path: Path) -> None:
    data, rules = write_case(tmp_path, n_people=3_000)
    out = tmp_path / "out"
    first = start(data, rules, out)
    assert first.wait(timeout=300) == 0, first.stderr.read() if first.stderr else ""
    old = consistent(out)
    night2 = tmp_path / "night2.csv"
    customers(3_000, seed=2).write_csv(night2)

    # kill points observed on disk: the run holds the lock (reading, matching), has opened its
    # temp folder, is writing tables, has written its manifest (the swap comes next)
    points: dict[str, Callable[[], Callable[[], bool]]] = {
        "locked": lambda: (tmp_path / "out.lock").exists,
        "temp folder": lambda: temp_has(tmp_path, ".crmclean-output"),
        "writing": lambda: temp_has(tmp_path, "golden.parquet"),
        "manifest written": lambda: temp_has(tmp_path, "manifest.json"),
    }
    killed_mid_run = 0
    for name, point in points.items():
        reached = point()
        proc = start(night2, rules, out)
        while not reached() and proc.poll() is None:
            time.sleep(0.001)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=60)
        seen = consistent(out)  # never half-written
        if proc.returncode == -signal.SIGKILL and name != "manifest written":
            assert seen == old, name
            killed_mid_run += 1
    assert killed_mid_run >= 2

    # the next run takes over the dead run's lock and clears its temp folders
    final = start(night2, rules, out)
    assert final.wait(timeout=300) == 0, final.stderr.read() if final.stderr else ""
    assert consistent(out) != old
    assert not list(tmp_path.glob(".out.tmp-*")) and not list(tmp_path.glob(".out.old-*"))
    assert not (tmp_path / "out.lock").exists()
