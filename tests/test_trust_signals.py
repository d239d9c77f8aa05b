"""Ctrl-C and SIGTERM mid-run: exit 130 / 143, one line on stderr, `run_failed` in the JSON log,
no temp folder, no lock, previous outputs intact (issue 9, item 8). SIGKILL: test_run_kill.py."""

from __future__ import annotations

import json
import signal
import time
from collections.abc import Callable
from pathlib import Path

import polars as pl
import pytest

from run_fixtures import write_case
from test_run_kill import consistent, start, temp_has

SIGNALS = {
    "ctrl_c": (signal.SIGINT, 130, "interrupted"),
    "sigterm": (signal.SIGTERM, 143, "terminated"),
}


@pytest.fixture(scope="module")
def night1(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path, str]:
    folder = tmp_path_factory.mktemp("signals")
    data, rules = write_case(folder, n_people=3_000)
    out = folder / "out"
    first = start(data, rules, out)
    assert first.wait(timeout=300) == 0, first.stderr.read() if first.stderr else ""
    return data, rules, out, consistent(out)


@pytest.mark.parametrize("point", ["locked", "writing"])
@pytest.mark.parametrize("name", list(SIGNALS))
def test_signal_mid_run_exits_cleanly(
    night1: tuple[Path, Path, Path, str], name: str, point: str
) -> None:
    data, rules, out, old = night1
    folder = out.parent
    sig, code, word = SIGNALS[name]
    log = folder / f"{name}-{point}.jsonl"
    reached: Callable[[], bool] = (
        (folder / "out.lock").exists if point == "locked" else temp_has(folder, "golden.parquet")
    )
    proc = start(data, rules, out, "--log-json", str(log), "--previous", str(out))
    while not reached() and proc.poll() is None:
        time.sleep(0.001)
    assert proc.poll() is None, "the run ended before the signal"
    proc.send_signal(sig)
    proc.wait(timeout=120)
    err = proc.stderr.read().decode() if proc.stderr else ""
    assert proc.returncode == code, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and word in lines[0], err
    events = [json.loads(line) for line in log.read_text().splitlines()]
    assert events[-1]["event"] == "run_failed", events[-1]
    assert not list(folder.glob(".out.tmp-*")) and not list(folder.glob(".out.old-*"))
    assert not (folder / "out.lock").exists()
    assert consistent(out) == old  # same input: unchanged either way, and never half-written


@pytest.mark.parametrize("command", ["validate", "clean", "dedupe", "synth"])
@pytest.mark.parametrize("name", list(SIGNALS))
def test_signal_while_any_command_writes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, command: str, name: str
) -> None:
    """Ctrl-C anywhere: the signal handler raises while a table is written (deterministic,
    in-process); same exit code, one line, and no temp folder or lock left."""
    from typer.testing import CliRunner

    from crmclean.cli.main import app
    from crmclean.io.interrupts import interrupt

    sig, code, word = SIGNALS[name]
    data, rules = write_case(tmp_path)
    out = tmp_path / "out"
    args = ["--rows", "50"] if command == "synth" else [str(data), "--rules", str(rules)]
    real = pl.DataFrame.write_parquet

    def signalled(self: pl.DataFrame, file: object, *rest: object, **kw: object) -> None:
        real(self, file, *rest, **kw)  # type: ignore[arg-type]
        interrupt(sig)  # what the installed handler does when the signal arrives here

    monkeypatch.setattr(pl.DataFrame, "write_parquet", signalled)
    if command == "synth":
        args += ["--format", "parquet"]
    result = CliRunner().invoke(app, [command, *args, "--out", str(out)])
    assert result.exit_code == code, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and word in lines[0], lines
    assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["customers.csv", "rules.yaml"]


@pytest.mark.parametrize("command", ["run", "validate"])
@pytest.mark.parametrize("name", list(SIGNALS))
def test_signal_after_the_outputs_are_published_keeps_the_commands_exit_code(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, command: str, name: str
) -> None:
    """A real signal to this process right after the swap (deterministic, in-process): the
    outputs are complete and in place, so the exit code is the command's own, the JSON log ends
    with run_finished and stderr says the signal came late (review finding 7)."""
    import os

    from typer.testing import CliRunner

    from crmclean.cli.main import app
    from crmclean.io import writers

    sig, _, _ = SIGNALS[name]
    data, rules = write_case(tmp_path)
    out = tmp_path / "out"
    real = writers._swap_into_place

    def swap_then_signal(tmp: Path, target: Path, token: str) -> None:
        real(tmp, target, token)
        os.kill(os.getpid(), sig)  # delivered now; the handler runs at the next bytecode
        time.sleep(0.05)

    monkeypatch.setattr(writers, "_swap_into_place", swap_then_signal)
    log = tmp_path / "run.jsonl"
    extra = ["--log-json", str(log)] if command == "run" else []
    result = CliRunner().invoke(
        app, [command, str(data), "--rules", str(rules), "--out", str(out), "-q", *extra]
    )
    assert result.exit_code in (0, 1), result.stderr
    assert "arrived after the outputs were published" in result.stderr, result.stderr
    assert (out / ("manifest.json" if command == "run" else "validate.json")).is_file()
    assert not (tmp_path / "out.lock").exists() and not list(tmp_path.glob(".out.*"))
    if command == "run":
        events = [json.loads(line)["event"] for line in log.read_text().splitlines()]
        assert events[-1] == "run_finished", events


_STALLED_START = """\
import importlib.abc, pathlib, sys, time
from importlib.metadata import entry_points

ready = pathlib.Path(sys.argv[1])


class Stall(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name == "polars":  # the heavy imports of start-up: hold here until signalled
            ready.write_text("importing polars")
            time.sleep(600)
        return None


sys.meta_path.insert(0, Stall())
sys.argv = ["crmclean", "--version"]
entry_points(group="console_scripts")["crmclean"].load()()
"""


@pytest.mark.parametrize("name", list(SIGNALS))
def test_signal_during_start_up_is_one_line_and_the_documented_code(
    tmp_path: Path, name: str
) -> None:
    """The installed `crmclean` entry point, held while it imports polars (observable: a file
    appears), then signalled: exit 130 / 143 and one line, no traceback (review finding 8)."""
    import subprocess
    import sys

    sig, code, word = SIGNALS[name]
    ready = tmp_path / "ready"
    proc = subprocess.Popen(
        [sys.executable, "-c", _STALLED_START, str(ready)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 120
        while not ready.exists() and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.01)
        assert ready.exists(), proc.stderr.read().decode() if proc.stderr else ""
        proc.send_signal(sig)
        _, err_bytes = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    err = err_bytes.decode()
    assert proc.returncode == code, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and word in lines[0] and "Traceback" not in err, err
