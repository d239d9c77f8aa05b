"""Run one benchmarked process alone and measure its own wall clock and peak RSS.

Why a launcher: Linux carries the high-water RSS of a forked child's old memory image into
its ru_maxrss at exec, so a child forked straight from run_all.py (which holds the data and
polars) would report at least run_all's size. A fresh, small Python forks the tool instead
and reports the tool's os.wait4 figures in a JSON file.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

LAUNCHER = """
import json, os, sys, time
result_path, argv = sys.argv[1], sys.argv[2:]
start = time.perf_counter()
pid = os.fork()
if pid == 0:
    try:
        os.execvp(argv[0], argv)
    finally:
        os._exit(127)
_, status, usage = os.wait4(pid, 0)
code = os.waitstatus_to_exitcode(status)
with open(result_path, "w") as f:
    json.dump({"wall_s": time.perf_counter() - start, "maxrss_kb": usage.ru_maxrss,
               "cpu_s": usage.ru_utime + usage.ru_stime, "exit_code": code}, f)
sys.exit(code if code >= 0 else 128 - code)
"""


@dataclass
class Outcome:
    tool: str
    status: str  # ok | failed | over_budget | skipped
    wall_s: float | None = None
    peak_rss_mb: float | None = None
    cpu_s: float | None = None  # user + system of the tool's process (all its threads)
    # the summed RSS of the tool's whole process group, sampled every ~0.5 s: with a JVM (the
    # spark engine) and its Python workers beside the tool, ru_maxrss sees only the largest one
    group_peak_rss_mb: float | None = None
    exit_code: int | None = None
    command: str = ""
    error: str | None = None
    detail: dict[str, Any] = field(default_factory=dict)
    scores: dict[str, Any] | None = None


def group_rss_mb(pgid: int) -> float:
    """Resident memory of every process in a process group, summed (for the memory guard)."""
    page_mb = os.sysconf("SC_PAGE_SIZE") / 1024**2
    total = 0.0
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        with contextlib.suppress(OSError, ValueError, IndexError):
            fields = (proc / "stat").read_text().rsplit(")", 1)[1].split()
            if int(fields[2]) == pgid:
                total += int((proc / "statm").read_text().split()[1]) * page_mb
    return total


def run_measured(
    argv: list[str],
    log_stem: Path,
    *,
    cwd: Path,
    budget_s: float,
    mem_limit_mb: float,
    ok_exit_codes: tuple[int, ...] = (0,),
    samples: list[tuple[float, float]] | None = None,
) -> Outcome:
    """Run `argv` with stdout/stderr to `<log_stem>.out/.err`; stop it past time or memory.
    `samples` collects (unix time, MB) of the process group's RSS twice a second."""
    log_stem.parent.mkdir(parents=True, exist_ok=True)
    out_path, err_path = log_stem.with_suffix(".out"), log_stem.with_suffix(".err")
    result_path = log_stem.with_suffix(".measure.json")
    result_path.unlink(missing_ok=True)
    stopped: str | None = None
    sampled_peak = 0.0
    with out_path.open("wb") as out, err_path.open("wb") as err:
        start = time.perf_counter()
        proc = subprocess.Popen(
            [sys.executable, "-I", "-c", LAUNCHER, str(result_path), *argv],
            stdout=out,
            stderr=err,
            cwd=cwd,
            start_new_session=True,
        )
        polls = 0
        while proc.poll() is None:
            polls += 1
            if polls % 10 == 0:
                now_mb = group_rss_mb(proc.pid)
                sampled_peak = max(sampled_peak, now_mb)
                if samples is not None:
                    samples.append((time.time(), now_mb))
            if stopped is None and time.perf_counter() - start > budget_s:
                stopped = f"stopped after the {budget_s:.0f} s time budget"
            elif stopped is None and sampled_peak > mem_limit_mb:
                stopped = f"stopped above the {mem_limit_mb:.0f} MB memory limit"
            if stopped is not None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
            time.sleep(0.05)
        wall = time.perf_counter() - start

    measured = json.loads(result_path.read_text()) if result_path.exists() else {}
    outcome = Outcome(
        tool=log_stem.name,
        status="ok",
        wall_s=round(measured.get("wall_s", wall), 2),
        peak_rss_mb=round(measured["maxrss_kb"] / 1024 if measured else sampled_peak, 1),
        group_peak_rss_mb=round(sampled_peak, 1),
        exit_code=measured.get("exit_code", proc.returncode),
        cpu_s=round(measured["cpu_s"], 1) if "cpu_s" in measured else None,
        command=" ".join(argv).replace(f"{cwd}/", ""),
    )
    lines = out_path.read_text(errors="replace").strip().splitlines()
    if lines and lines[-1].startswith("{"):
        with contextlib.suppress(json.JSONDecodeError):
            outcome.detail = json.loads(lines[-1])
    err_text = err_path.read_text(errors="replace")
    if stopped is not None:
        outcome.status, outcome.error = "over_budget", stopped
    elif outcome.exit_code not in ok_exit_codes or "Traceback (most recent call last)" in err_text:
        tail = " | ".join(err_text.strip().splitlines()[-6:])
        outcome.status, outcome.error = "failed", f"exit {outcome.exit_code}: {tail}"
    return outcome
