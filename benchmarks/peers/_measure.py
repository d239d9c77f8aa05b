"""Shared by the peer scripts: wall clock, peak RSS and the one JSON result line.

Runs under the benchmark virtualenv (.bench-venv), so it uses the standard library only.
"""

from __future__ import annotations

import json
import resource
import sys
import time
from typing import Any


class Stopwatch:
    """Named stage timings, so a slow peer shows where its time went."""

    def __init__(self) -> None:
        self.start = time.perf_counter()
        self._last = self.start
        self.stages: dict[str, float] = {}

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.stages[name] = round(now - self._last, 3)
        self._last = now

    def total(self) -> float:
        return round(time.perf_counter() - self.start, 3)


def peak_rss_mb() -> float:
    # Linux reports ru_maxrss in KiB.
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def emit(result: dict[str, Any]) -> None:
    """Print the result as the last line of stdout; run_all.py reads that line."""
    sys.stdout.write(json.dumps(result) + "\n")
    sys.stdout.flush()
