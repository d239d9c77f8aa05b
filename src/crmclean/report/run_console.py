"""What `crmclean run` shows on the terminal: step progress (terminals only) and the summary."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

RUN_STEPS = ("read", "clean", "validate", "dedupe", "golden", "write")
EXIT_WORDS = {0: "ok", 1: "data failed an error-severity rule", 2: "usage", 3: "unreadable"}


class StepProgress:
    """A bar over the run's steps; a no-op unless the console is an interactive terminal."""

    def __init__(self, console: Console, steps: Sequence[str] = RUN_STEPS) -> None:
        self._enabled = console.is_terminal and not console.is_dumb_terminal
        self._progress = Progress(
            SpinnerColumn(),
            TextColumn("{task.description:<12}"),
            BarColumn(bar_width=30),
            TextColumn("{task.completed}/{task.total} steps"),
            TimeElapsedColumn(),
            console=console,
            transient=True,
        )
        self._task = self._progress.add_task("starting", total=len(steps))
        self._steps = list(steps)

    def step(self, name: str) -> None:
        if not self._enabled:
            return
        done = self._steps.index(name) if name in self._steps else 0
        self._progress.update(self._task, description=f"{name} ...", completed=done)

    @contextlib.contextmanager
    def running(self) -> Iterator[StepProgress]:
        if not self._enabled:
            yield self
            return
        with self._progress:
            yield self


def run_summary(manifest: Mapping[str, Any], out: Path | str) -> Table:
    """The figures a steward checks after a night: rows in and out, golden records, timings."""
    rows = manifest.get("rows", {})
    table = Table(title=f"crmclean run -> {out}", show_header=False, title_justify="left")
    table.add_column("what", style="bold")
    table.add_column("value", justify="right")
    table.add_row("input rows", f"{rows.get('input', 0):,}")
    table.add_row("quarantined", f"{rows.get('quarantined', 0):,}")
    table.add_row("matched into golden records", f"{rows.get('matched', 0):,}")
    table.add_row("golden records", f"{rows.get('golden', 0):,}")
    table.add_row("pairs waiting for review", f"{rows.get('review', 0):,}")
    changes = manifest.get("changes_since_previous") or {}
    if changes:
        table.add_row("changes since previous", ", ".join(f"{v} {k}" for k, v in changes.items()))
    elif manifest.get("previous"):  # --previous took effect and every golden record stayed
        table.add_row("changes since previous", "none")
    table.add_row("rule violations", f"{rows.get('violations', 0):,}")
    step = manifest.get("incremental") or {}
    if manifest.get("run_mode") == "incremental":  # docs/nightly.md
        table.add_row(
            "incremental",
            f"{step.get('new', 0):,} new, {step.get('changed', 0):,} changed, "
            f"{step.get('deleted', 0):,} deleted; {step.get('clusters_touched', 0):,} clusters "
            "touched",
        )
    elif step.get("fallback_reason"):
        table.add_row("incremental", escape(f"full run instead: {step['fallback_reason']}"))
    moves = manifest.get("movements") or {}
    if moves:  # a rollup: section ran (docs/value.md)
        table.add_row(
            "movements on golden records",
            f"{moves.get('matched', 0):,} of {moves.get('rows', 0):,} "
            f"({moves.get('unmatched', 0):,} in unmatched_movements)",
        )
        if moves.get("key_accounts") is not None:
            table.add_row("key accounts", f"{moves['key_accounts']:,}")
    timings = manifest.get("steps", {})
    if timings:
        steps = ", ".join(f"{k} {v:.1f}s" for k, v in timings.items())
        table.add_row("time", f"{_total_seconds(manifest, timings):.1f}s in all: {steps}")
    code = int(manifest.get("exit_code", 0))
    table.add_row("exit", f"{code} ({EXIT_WORDS.get(code, '?')})")
    return table


def _total_seconds(manifest: Mapping[str, Any], timings: Mapping[str, float]) -> float:
    """The whole run by its start and end (which the steps leave gaps between), else the steps."""
    try:
        started = datetime.fromisoformat(str(manifest["started_at"]))
        finished = datetime.fromisoformat(str(manifest["finished_at"]))
    except (KeyError, ValueError):
        return float(sum(timings.values()))
    return max((finished - started).total_seconds(), float(sum(timings.values())))


def where_lines(out: Path | str, report: Path | str | None, files: Sequence[str]) -> list[str]:
    lines = [f"outputs: {str(out).rstrip('/')}/ ({', '.join(files)})"]
    if report is not None:
        lines.append(f"report:  {report}")
    lines.append(f"review:  crmclean review {out}")
    return lines
