"""The lock never writes through a link and loads on every platform (issue 9, item 3); a full
disk or a read-only output is exit 3 naming the file, with nothing left behind (item 4)."""

from __future__ import annotations

import errno
import json
import os
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest

from run_fixtures import crmclean, write_case


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if ".tmp-" in p.name or p.suffix == ".lock")


@pytest.mark.parametrize("command", ["run", "validate"])
def test_symlink_at_the_lock_path_is_refused_and_its_target_untouched(
    tmp_path: Path, command: str
) -> None:
    """A root cron job must not truncate what `<out>.lock` points at."""
    data, rules = write_case(tmp_path)
    victim = tmp_path / "victim.conf"
    victim.write_text("precious\n")
    os.symlink(victim, tmp_path / "out.lock")
    code, err = crmclean(command, data, "--rules", rules, "--out", tmp_path / "out")
    assert code == 3, err
    assert "out.lock: is a symbolic link" in err[-1], err
    assert victim.read_text() == "precious\n"
    assert (tmp_path / "out.lock").is_symlink() and not (tmp_path / "out").exists()


def test_dangling_symlink_at_the_lock_path_creates_nothing(tmp_path: Path) -> None:
    data, rules = write_case(tmp_path)
    os.symlink(tmp_path / "created-by-attacker", tmp_path / "out.lock")
    code, err = crmclean("run", data, "--rules", rules, "--out", tmp_path / "out")
    assert code == 3 and "symbolic link" in err[-1], err
    assert not (tmp_path / "created-by-attacker").exists()


def test_hard_link_at_the_lock_path_is_refused(tmp_path: Path) -> None:
    data, rules = write_case(tmp_path)
    victim = tmp_path / "victim.conf"
    victim.write_text("precious\n")
    os.link(victim, tmp_path / "out.lock")
    code, err = crmclean("run", data, "--rules", rules, "--out", tmp_path / "out")
    assert code == 3 and "hard links" in err[-1], err
    assert victim.read_text() == "precious\n"


def test_help_and_version_work_without_fcntl() -> None:
    """Windows has no fcntl: no command may import it at start."""
    script = (
        "import sys; sys.modules['fcntl'] = None\n"
        "from crmclean.cli.main import app\n"
        "for args in (['--help'], ['run', '--help'], ['--version']):\n"
        "    try:\n"
        "        app(args)\n"
        "    except SystemExit as exc:\n"
        "        assert exc.code in (0, None), (args, exc.code)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    assert "Usage" in done.stdout and "crmclean" in done.stdout


def test_disk_full_on_the_lock_names_it_and_leaves_no_empty_lock(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ENOSPC when the lock file is written: exit 3 naming it, not "a crmclean bug"."""
    data, rules = write_case(tmp_path)

    def full(fd: int, data: bytes) -> int:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "write", full)
    code, err = crmclean("run", data, "--rules", rules, "--out", tmp_path / "out")
    monkeypatch.undo()
    assert code == 3, err
    assert len(err) == 1 and "out.lock" in err[0] and "No space left on device" in err[0], err
    assert "bug" not in err[0]
    assert leftovers(tmp_path) == [] and not (tmp_path / "out").exists()


@pytest.mark.parametrize("command", ["run", "validate", "clean", "dedupe"])
@pytest.mark.parametrize("error", [errno.ENOSPC, errno.EACCES, errno.EROFS])
def test_unwritable_output_names_the_file_and_leaves_nothing_behind(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, command: str, error: int
) -> None:
    """The disk fills (or turns read-only) while the tables are written: exit 3 naming the
    file, no temp folder, no lock, and the previous outputs are untouched."""
    data, rules = write_case(tmp_path)
    out = tmp_path / "out"
    assert crmclean(command, data, "--rules", rules, "--out", out, "-q")[0] in (0, 1)
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    real = pl.DataFrame.write_parquet

    def failing(self: pl.DataFrame, file: object, *args: object, **kwargs: object) -> None:
        if ".tmp-" in Path(str(file)).parent.name:  # writing the new outputs: the disk is full
            raise OSError(error, os.strerror(error), str(file))
        real(self, file, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(pl.DataFrame, "write_parquet", failing)
    code, err = crmclean(command, data, "--rules", rules, "--out", out, "-q")
    monkeypatch.undo()
    assert code == 3, err
    assert len(err) == 1 and ".parquet: cannot write: " + os.strerror(error) in err[0], err
    # the file is named where it would have been published, not by the temp folder's name
    assert f"{out.resolve()}/" in err[0] and ".tmp-" not in err[0], err
    assert leftovers(tmp_path) == []
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before


def test_disk_full_on_the_json_log_names_it(tmp_path: Path) -> None:
    """/dev/full answers every write with ENOSPC, as a full disk does."""
    if not Path("/dev/full").exists():
        pytest.skip("no /dev/full on this system")
    data, rules = write_case(tmp_path)
    out = tmp_path / "out"
    code, err = crmclean("run", data, "--rules", rules, "--out", out, "--log-json", "/dev/full")
    assert code == 3, err
    assert len(err) == 1 and err[0].startswith("crmclean: error: /dev/full: cannot write"), err
    assert "bug" not in err[0]
    assert leftovers(tmp_path) == [] and not out.exists()


def test_lock_names_its_holder(tmp_path: Path) -> None:
    """The lock file still says who holds it (for the second run's message)."""
    from crmclean.io.lock import lock_path, output_lock

    with output_lock(tmp_path / "out", "validate"):
        holder = json.loads(lock_path(tmp_path / "out").read_text())
    assert holder["command"] == "validate" and holder["pid"] == os.getpid()
    assert not lock_path(tmp_path / "out").exists()


@pytest.mark.parametrize("command", ["run", "validate"])
def test_a_file_at_the_lock_path_that_crmclean_did_not_write_is_kept(
    tmp_path: Path, command: str
) -> None:
    """`--out poetry` beside a poetry.lock: exit 3 naming it, the file untouched (review
    finding 2); an empty file or a holder record of a dead run is still taken over."""
    data, rules = write_case(tmp_path)
    foreign = tmp_path / "poetry.lock"
    foreign.write_text('[[package]]\nname = "x"\n')
    code, err = crmclean(command, data, "--rules", rules, "--out", tmp_path / "poetry", "-q")
    assert code == 3, err
    assert len(err) == 1 and "poetry.lock" in err[0] and "did not write" in err[0], err
    assert foreign.read_text() == '[[package]]\nname = "x"\n'
    assert not (tmp_path / "poetry").exists()
    dead = {"pid": 999999, "host": "h", "command": command, "started": "2026-01-01T00:00:00"}
    for left in ("", json.dumps(dead)):
        (tmp_path / "out.lock").write_text(left)
        code, err = crmclean(command, data, "--rules", rules, "--out", tmp_path / "out", "-q")
        assert code in (0, 1), err
        assert not (tmp_path / "out.lock").exists()


@pytest.mark.parametrize("command", ["run", "validate"])
def test_a_symlinked_out_is_refused_and_shares_the_lock_of_its_target(
    tmp_path: Path, command: str
) -> None:
    """`--out outl` (a link to `out`) while a run holds `out`: exit 3 naming the link; the link
    and the folder it points to stay as they were (review finding 3)."""
    from crmclean.io.lock import output_lock

    data, rules = write_case(tmp_path)
    out = tmp_path / "out"
    assert crmclean(command, data, "--rules", rules, "--out", out, "-q")[0] in (0, 1)
    os.symlink(out, tmp_path / "outl")
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    with output_lock(out, command):  # a run writing to `out` right now
        code, err = crmclean(command, data, "--rules", rules, "--out", tmp_path / "outl", "-q")
    assert code == 3, err
    assert len(err) == 1 and "outl is a symbolic link" in err[0], err
    assert (tmp_path / "outl").is_symlink()
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    code, err = crmclean(command, data, "--rules", rules, "--out", tmp_path / "outl", "-q")
    assert code == 3 and (tmp_path / "outl").is_symlink(), err
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize("out_name", ["o*", "[o]ther", "o?her"])
def test_glob_characters_in_out_never_touch_another_jobs_folders(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, out_name: str
) -> None:
    """`--out 'o*'` must not clear `.other.tmp-1234abcd` (another job's temp) nor rename
    `.other.old-5678abcd` (review finding 6); its own leftovers are still cleared."""
    monkeypatch.chdir(tmp_path)
    data, rules = write_case(tmp_path / "case")
    others = [tmp_path / ".other.tmp-1234abcd", tmp_path / ".other.old-5678abcd"]
    for folder in others:
        folder.mkdir()
        (folder / "golden.parquet").write_text("another job's\n")
    own = tmp_path / f".{out_name}.tmp-0badf00d"
    own.mkdir()  # a run killed right after making its temp folder; its lock record names it
    holder = {"pid": 1, "host": "h", "started": "2026-12-06T02:15:00+00:00", "token": "0badf00d"}
    (tmp_path / f"{out_name}.lock").write_text(json.dumps(holder))
    code, err = crmclean("validate", data, "--rules", rules, "--out", out_name, "-q")
    assert code in (0, 1), err
    for folder in others:
        assert (folder / "golden.parquet").read_text() == "another job's\n"
    assert not own.exists()
    assert (tmp_path / out_name / "validate.json").is_file()
    # a run into that folder reads it back as the previous run (no glob in any read either)
    for _ in range(2):
        code, err = crmclean("run", data, "-r", rules, "--out", out_name, "--previous", out_name)
        assert code in (0, 1), err


def test_out_under_a_file_says_the_file_is_not_a_folder(tmp_path: Path) -> None:
    """`--out /dev/full/x` (or `--out notes.txt/x`): the problem is a file where a folder
    goes, not "File exists" (review finding 12)."""
    data, rules = write_case(tmp_path)
    (tmp_path / "notes.txt").write_text("x\n")
    code, err = crmclean("validate", data, "--rules", rules, "--out", tmp_path / "notes.txt" / "x")
    assert code == 3, err
    assert len(err) == 1 and f"{tmp_path / 'notes.txt'} is not a folder" in err[0], err
    assert "File exists" not in err[0]
