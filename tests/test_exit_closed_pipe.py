"""A closed stdout or stderr pipe (`crmclean ... | head -1`) ends a command with exit 141
(128 + SIGPIPE), silently, never with 1 ("data failed") or 3, and leaves no temp folder or lock;
unless the exit code was already decided (outputs published, an error or usage mistake being
reported): then that code stands, silently.

The reader end of the pipe is closed before the child starts, so every write the child makes
meets a closed pipe: deterministic, unlike a real `head` racing the writer.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from run_fixtures import write_case

CLI = shutil.which("crmclean", path=str(Path(sys.executable).parent)) or "crmclean"
ROOT = Path(__file__).resolve().parents[1]
SAMPLE = [
    str(ROOT / "sample_data" / "customers.csv"),
    "--rules",
    str(ROOT / "rules" / "company.yaml"),
]


def run_into_closed_pipe(
    args: list[str], stream: str, cwd: Path
) -> subprocess.CompletedProcess[str]:
    """Run crmclean with `stream` ("stdout" or "stderr") a pipe nobody reads any more."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        other = subprocess.PIPE
        return subprocess.run(
            [CLI, *args],
            stdout=write_end if stream == "stdout" else other,
            stderr=write_end if stream == "stderr" else other,
            stdin=subprocess.DEVNULL, check=False, text=True, timeout=300, cwd=cwd,
            env={**os.environ, "CRMCLEAN_SKIP_BROWSER": "1", "COLUMNS": "100"},
        )  # fmt: skip
    finally:
        os.close(write_end)


@pytest.mark.parametrize(
    "args",
    [
        ["clean", *SAMPLE, "--dry-run"],  # the reported case: a CSV on stdout
        ["validate", *SAMPLE],  # a table on stdout, data that fails (would be exit 1)
        ["validate", *SAMPLE, "--format", "json"],
        ["--help"],
    ],
    ids=["clean_dry_run", "validate_table", "validate_json", "help"],
)
def test_closed_stdout_pipe_exits_141_silently(args: list[str], tmp_path: Path) -> None:
    for _ in range(3):
        proc = run_into_closed_pipe(args, "stdout", tmp_path)
        assert proc.returncode == 141, (proc.returncode, proc.stderr)
        assert proc.stderr == "", proc.stderr  # no "Exception ignored", no traceback


def no_leftovers(folder: Path) -> list[str]:
    return [p.name for p in folder.iterdir() if p.name.startswith((".o.", "o.lock"))]


def test_closed_stderr_pipe_before_anything_is_decided_exits_141_and_leaves_no_lock(
    tmp_path: Path,
) -> None:
    """`--previous` naming no run makes `run` say so on stderr before any work: cut off
    there, it stops with 141, and a second night into the same --out runs normally."""
    data, rules = write_case(tmp_path / "case")
    args = ["run", str(data), "-r", str(rules), "--out", "o", "--previous", "o"]
    for _ in range(3):
        proc = run_into_closed_pipe(args, "stderr", tmp_path)
        assert proc.returncode == 141, proc.returncode
        assert no_leftovers(tmp_path) == []
        assert not (tmp_path / "o").exists()  # stopped before anything was published
    again = subprocess.run(
        [CLI, *args, "-q"], cwd=tmp_path, capture_output=True, text=True, check=False, timeout=300
    )
    assert again.returncode == 0, again.stderr


@pytest.mark.parametrize(("threshold", "verdict"), [("0%", 1), ("50%", 0)])
def test_closed_stderr_pipe_after_publishing_keeps_the_runs_own_code(
    tmp_path: Path, threshold: str, verdict: int
) -> None:
    """`run ... 2>&1 >/dev/null | head -1`: the closing `crmclean run: exit N` line goes to
    stderr after the outputs are swapped in; the reader going away then does not turn the
    verdict into 141. The summary itself is the result and goes to stdout."""
    data, rules = write_case(tmp_path / "case", threshold=threshold)
    args = ["run", str(data), "-r", str(rules), "--out", "o"]
    for _ in range(2):
        proc = run_into_closed_pipe(args, "stderr", tmp_path)
        assert proc.returncode == verdict, proc.returncode
        assert "golden records" in proc.stdout and "crmclean review o" in proc.stdout
        manifest = json.loads((tmp_path / "o" / "manifest.json").read_text(encoding="utf-8"))
        assert manifest["exit_code"] == verdict
        assert (tmp_path / "o" / "golden.parquet").is_file()
        assert no_leftovers(tmp_path) == []


def test_closed_stdout_pipe_after_validate_published_its_outputs_keeps_its_code(
    tmp_path: Path,
) -> None:
    """`validate --out` publishes the violations first, then prints the table."""
    proc = run_into_closed_pipe(["validate", *SAMPLE, "--out", "v"], "stdout", tmp_path)
    assert proc.returncode == 1, (proc.returncode, proc.stderr)
    assert proc.stderr == ""
    assert (tmp_path / "v" / "violations.parquet").is_file()


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (["validate", "missing.csv", *SAMPLE[1:]], 3),  # unreadable input
        (["validate", SAMPLE[0], "--rules", "bad.yaml"], 2),  # rule-file error
        (["validate", *SAMPLE, "--bogus"], 2),  # usage error (typer's own message)
        (["nonsense"], 2),
        (["validate", *SAMPLE, "-q"], 1),  # the quiet verdict line on stderr
    ],
    ids=["missing_input", "rule_file_error", "unknown_option", "unknown_command", "quiet_1"],
)
def test_closed_stderr_pipe_while_reporting_keeps_the_decided_code(
    args: list[str], code: int, tmp_path: Path
) -> None:
    """`crmclean validate missing.csv ... 2>&1 | true`: the message is what was cut off, not
    the outcome; the exit code stays the one the message reports."""
    (tmp_path / "bad.yaml").write_text("version: 1\ncolumns:\n  x: {nope: 1}\n", "utf-8")
    for _ in range(2):
        proc = run_into_closed_pipe(args, "stderr", tmp_path)
        assert proc.returncode == code, proc.returncode
        assert proc.stdout == ""


def test_log_json_to_a_closed_stdout_pipe_exits_141_not_3(tmp_path: Path) -> None:
    data, rules = write_case(tmp_path / "case")
    args = ["run", str(data), "-r", str(rules), "--out", "o", "--log-json", "-", "-q"]
    proc = run_into_closed_pipe(args, "stdout", tmp_path)
    assert proc.returncode == 141, (proc.returncode, proc.stderr)
    assert proc.stderr == ""


def test_a_signal_while_starting_with_stderr_a_closed_pipe_still_exits_130() -> None:
    # Between the console script's start and a command (or after it), the handler writes one
    # line to fd 2 and exits 130/143; a closed stderr pipe must not turn that into a traceback.
    read, write = os.pipe()
    os.close(read)  # the reader is gone before the child writes
    code = (
        "import signal\n"
        "from crmclean.cli import main\n"
        "main._outside_a_command(signal.SIGINT, None)\n"
    )
    try:
        done = subprocess.run(
            [sys.executable, "-c", code], stderr=write, stdout=subprocess.DEVNULL, check=False
        )
    finally:
        os.close(write)
    assert done.returncode == 130
