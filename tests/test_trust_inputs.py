"""Issue 9, item 8 (inputs): crmclean reads regular files only, and says so in one line (exit 3).

A FIFO or a character device used to hang `open()` (and ignore Ctrl-C) or be called "empty";
these tests run the CLI in a child process with a timeout, so a hang fails instead of blocking.
Standard input (`-`) is refused on purpose (docs/loading.md). An unreadable file is exit 3.
"""

from __future__ import annotations

import errno
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from crmclean.cli.main import app
from run_fixtures import write_case

runner = CliRunner()
TIMEOUT = 60  # far above the second these take; a hang in open() fails the test, not the suite


def crmclean(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "crmclean.cli.main", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        stdin=subprocess.DEVNULL,
        cwd=cwd,
        check=False,
    )


def fifo(path: Path) -> Path:
    os.mkfifo(path)
    return path


def one_line_exit_3(done: subprocess.CompletedProcess[str], *needles: str) -> None:
    assert done.returncode == 3, done.stderr
    assert done.stderr.count("\n") == 1, done.stderr
    assert done.stderr.startswith("crmclean: error: ")
    assert "Traceback" not in done.stderr
    for needle in needles:
        assert needle in done.stderr, done.stderr


@pytest.fixture
def case(tmp_path: Path) -> tuple[Path, Path]:
    return write_case(tmp_path / "case", n_people=20)


@pytest.mark.parametrize(
    ("command", "suffix"),
    [
        ("profile", ".csv"),
        ("validate", ".csv"),
        ("clean", ".parquet"),
        ("dedupe", ".ndjson"),
        ("run", ".xlsx"),
    ],
)
def test_fifo_input_is_refused(
    case: tuple[Path, Path], tmp_path: Path, command: str, suffix: str
) -> None:
    _, rules = case
    pipe = fifo(tmp_path / f"customers{suffix}")
    args: list[str | Path] = [command, pipe]
    if command != "profile":
        args += ["--rules", rules]
    if command in ("clean", "dedupe", "run"):
        args += ["--out", tmp_path / "out"]
    done = crmclean(*args)
    one_line_exit_3(done, f"{pipe}: is a named pipe (FIFO), not a regular file")
    assert not (tmp_path / "out").exists()


def test_character_device_input_is_refused_not_called_empty(case: tuple[Path, Path]) -> None:
    _, rules = case
    done = crmclean("validate", "/dev/zero", "--rules", rules)
    one_line_exit_3(done, "/dev/zero: is a character device, not a regular file")
    assert "empty" not in done.stderr


def test_symlink_to_a_fifo_is_refused(tmp_path: Path) -> None:
    link = tmp_path / "customers.csv"
    link.symlink_to(fifo(tmp_path / "pipe"))
    one_line_exit_3(crmclean("profile", link), "is a named pipe (FIFO)")


def test_stdin_dash_reads_the_data_from_standard_input(case: tuple[Path, Path]) -> None:
    data, rules = case
    piped = subprocess.run(
        [
            sys.executable,
            "-m",
            "crmclean.cli.main",
            "validate",
            "-",
            "-r",
            str(rules),
            "-f",
            "json",
        ],
        input=data.read_bytes(),
        capture_output=True,
        timeout=TIMEOUT,
        check=False,
    )
    from_file = crmclean("validate", data, "--rules", rules, "-f", "json")
    assert piped.returncode == from_file.returncode, piped.stderr
    document = json.loads(piped.stdout)
    assert document["input"]["path"] == "-"
    assert document["input"]["rows"] == json.loads(from_file.stdout)["input"]["rows"]


def test_empty_standard_input_names_it_not_a_temp_file(case: tuple[Path, Path]) -> None:
    _, rules = case
    done = crmclean("validate", "-", "--rules", rules)  # stdin: nothing piped in
    one_line_exit_3(done, "- (standard input): is empty (0 bytes)")
    assert "crmclean-stdin-" not in done.stderr


def test_fifo_truth_file_in_evaluate_is_refused(tmp_path: Path) -> None:
    clusters = tmp_path / "clusters.csv"
    clusters.write_text("record_id,cluster_id\n1,a\n2,a\n", encoding="utf-8")
    truth = fifo(tmp_path / "truth.csv")
    one_line_exit_3(crmclean("evaluate", clusters, "--truth", truth), f"{truth}: is a named pipe")


def test_fifo_decisions_file_is_refused(case: tuple[Path, Path], tmp_path: Path) -> None:
    data, rules = case
    pipe = fifo(rules.parent / "decisions.csv")  # the rule file's matching.decisions
    for command in ("dedupe", "run"):
        done = crmclean(command, data, "--rules", rules, "--out", tmp_path / f"out-{command}")
        one_line_exit_3(done, f"{pipe}: is a named pipe (FIFO), not a regular")


@pytest.mark.parametrize("artefact", ["crosswalk.parquet", "golden.parquet", "manifest.json"])
def test_fifo_in_previous_run_folder_is_refused(
    case: tuple[Path, Path], tmp_path: Path, artefact: str
) -> None:
    data, rules = case
    previous = tmp_path / "night1"
    first = runner.invoke(app, ["run", str(data), "--rules", str(rules), "--out", str(previous)])
    assert first.exit_code in (0, 1), first.stderr
    (previous / artefact).unlink()
    fifo(previous / artefact)
    done = crmclean(
        "run", data, "--rules", rules, "--previous", previous, "--out", tmp_path / "night2"
    )
    one_line_exit_3(done, f"{previous / artefact}: is a named pipe (FIFO)")
    assert not (tmp_path / "night2").exists()


def test_fifo_reference_file_of_values_from_is_refused(tmp_path: Path) -> None:
    data = tmp_path / "customers.csv"
    data.write_text("id,country\n1,DE\n", encoding="utf-8")
    pipe = fifo(tmp_path / "countries.csv")
    rules = tmp_path / "rules.yaml"
    rules.write_text(
        "version: 1\ndataset: {id_column: id}\ncolumns:\n  country:\n    checks:\n"
        "      - {type: allowed_values, values_from: countries.csv, column: code}\n",
        encoding="utf-8",
    )
    done = crmclean("validate", data, "--rules", rules)
    assert done.returncode in (2, 3), done.stderr
    assert done.stderr.count("\n") == 1 and "named pipe" in done.stderr, done.stderr
    assert str(pipe.name) in done.stderr


def _denied(monkeypatch: pytest.MonkeyPatch, denied: Path) -> None:
    """Make opening `denied` fail as it does for a user without read permission (we run as root,
    whom chmod does not stop)."""
    real_open = os.open

    def fake_open(path: object, flags: int, *args: object, **kwargs: object) -> int:
        if Path(os.fsdecode(path)).resolve() == denied.resolve():  # type: ignore[arg-type]
            raise PermissionError(errno.EACCES, "Permission denied", str(path))
        return real_open(path, flags, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "open", fake_open)


def test_unreadable_input_is_exit_3_not_a_usage_error(
    case: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    data, rules = case
    _denied(monkeypatch, data)
    result = runner.invoke(app, ["validate", str(data), "--rules", str(rules)])
    assert result.exit_code == 3, result.stderr
    assert result.stderr == (
        f"crmclean: error: {data}: cannot be read: permission denied "
        "(check the file's permissions and the user crmclean runs as)\n"
    )


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their mode")
def test_unreadable_input_by_mode_is_exit_3(case: tuple[Path, Path]) -> None:
    data, rules = case
    data.chmod(0)
    one_line_exit_3(crmclean("validate", data, "--rules", rules), "permission denied")


def test_fifo_in_run_folder_is_refused_by_review_and_explain(
    case: tuple[Path, Path], tmp_path: Path
) -> None:
    data, rules = case
    out = tmp_path / "out"
    first = runner.invoke(app, ["run", str(data), "--rules", str(rules), "--out", str(out)])
    assert first.exit_code in (0, 1), first.stderr
    pipe = fifo(rules.parent / "decisions.csv")  # where review appends decisions
    one_line_exit_3(crmclean("review", out, "--format", "csv"), f"{pipe}: is a named pipe")
    pipe.unlink()
    (out / "clusters.parquet").unlink()
    clusters = fifo(out / "clusters.parquet")
    done = crmclean("explain", out, "C00001", "C00002")
    one_line_exit_3(done, f"{clusters}: is a named pipe")


def test_proc_file_input_is_not_called_empty(case: tuple[Path, Path]) -> None:
    """/proc files are regular by stat and report 0 bytes yet have content: say so, not "empty
    (0 bytes)" (review finding 12)."""
    if not Path("/proc/self/status").exists():
        pytest.skip("no /proc on this system")
    _, rules = case
    done = crmclean("validate", "/proc/self/status", "--rules", rules)
    one_line_exit_3(done, "/proc/self/status: reports 0 bytes but has content")
    assert "is empty" not in done.stderr
