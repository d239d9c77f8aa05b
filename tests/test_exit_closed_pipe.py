"""A closed stdout or stderr pipe (`crmclean ... | head -1`) ends a command with exit 141
(128 + SIGPIPE), silently, never with 1 ("data failed") or 3, and leaves no temp folder or lock.

The reader end of the pipe is closed before the child starts, so every write the child makes
meets a closed pipe: deterministic, unlike a real `head` racing the writer.
"""

from __future__ import annotations

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


def test_closed_stderr_pipe_exits_141_and_leaves_no_temp_folder_or_lock(tmp_path: Path) -> None:
    """`run` writes its progress and summary to stderr: cut off, it stops with 141, and a
    second night into the same --out runs normally."""
    data, rules = write_case(tmp_path / "case")
    args = ["run", str(data), "-r", str(rules), "--out", "o"]
    for _ in range(3):
        proc = run_into_closed_pipe(args, "stderr", tmp_path)
        assert proc.returncode == 141, proc.returncode
        assert not [p.name for p in tmp_path.iterdir() if p.name.startswith((".o.", "o.lock"))]
    again = subprocess.run(
        [CLI, *args, "-q"], cwd=tmp_path, capture_output=True, text=True, check=False, timeout=300
    )
    assert again.returncode == 0, again.stderr


def test_log_json_to_a_closed_stdout_pipe_exits_141_not_3(tmp_path: Path) -> None:
    data, rules = write_case(tmp_path / "case")
    args = ["run", str(data), "-r", str(rules), "--out", "o", "--log-json", "-", "-q"]
    proc = run_into_closed_pipe(args, "stdout", tmp_path)
    assert proc.returncode == 141, (proc.returncode, proc.stderr)
    assert proc.stderr == ""
