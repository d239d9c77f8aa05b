"""Replacing --out deletes nothing of anybody else's, at any moment (attacker review 2: findings
1, 2, 6, 7, 8 and 11): a file saved into --out while a run writes, folders beside --out merely
named like crmclean's temp folders, a FIFO or an endless file where the marker or manifest goes,
an old one-line marker, a run folder whose marker was lost."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from crmclean.cli import run_cmd
from crmclean.io import writers
from crmclean.io.writers import MARKER
from run_fixtures import crmclean, fingerprint, write_case


def temp_folders(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if ".tmp-" in p.name or ".old-" in p.name)


@pytest.fixture
def case(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    monkeypatch.chdir(tmp_path)
    data, rules = write_case(tmp_path / "case")
    code, err = crmclean("run", data, "-r", rules, "--out", "out", "-q")
    assert code == 0, err
    return data, rules


def nightly(case: tuple[Path, Path]) -> tuple[int, list[str]]:
    data, rules = case
    return crmclean("run", data, "-r", rules, "--out", "out", "--previous", "out", "-q")


def test_a_file_saved_into_out_while_the_run_writes_is_kept_and_the_run_stops(
    case: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Finding 1: a steward saves notes into out/ while the nightly run writes its outputs. The
    run checks out/ again before the swap: exit 3 naming the file; notes and the previous
    outputs stay as they were, no temp folder is left."""
    out = tmp_path / "out"
    before = fingerprint(out, links=False)
    real = run_cmd._write_outputs

    def write_then_steward_saves(tmp: Path, *rest: object) -> object:
        written = real(tmp, *rest)  # type: ignore[arg-type]
        (out / "notes.txt").write_text("steward notes\n")
        return written

    monkeypatch.setattr(run_cmd, "_write_outputs", write_then_steward_saves)
    code, err = nightly(case)
    assert code == 3, err
    assert len(err) == 1 and "notes.txt" in err[0] and "Traceback" not in err[0], err
    assert (out / "notes.txt").read_text() == "steward notes\n"
    assert {k: v for k, v in fingerprint(out, links=False).items() if k != "notes.txt"} == before
    assert temp_folders(tmp_path) == []


def test_a_file_saved_into_out_in_the_instant_before_the_swap_moves_into_the_new_outputs(
    case: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Finding 1, the last window: the notes arrive after the final check, before the old folder
    is moved aside. They are not deleted with the old outputs but moved into the new out/,
    where they were saved; the next night refuses the folder until they are moved away."""
    out = tmp_path / "out"
    old_manifest = (out / "manifest.json").read_text()
    real = writers.check_target

    def check_then_steward_saves(target: Path, command: str) -> None:
        real(target, command)
        if list(tmp_path.glob(".out.tmp-*/manifest.json")):  # the final check, before the swap
            (out / "notes.txt").write_text("steward notes\n")

    monkeypatch.setattr(writers, "check_target", check_then_steward_saves)
    code, err = nightly(case)
    assert code == 0, err
    assert (out / "notes.txt").read_text() == "steward notes\n"
    assert (out / "manifest.json").read_text() != old_manifest  # the new outputs are in place
    assert temp_folders(tmp_path) == []
    monkeypatch.setattr(writers, "check_target", real)
    code, err = nightly(case)
    assert code == 3 and "notes.txt" in err[-1], err
    assert (out / "notes.txt").read_text() == "steward notes\n"


@pytest.mark.parametrize("refused", [False, True])
def test_folders_beside_out_named_like_its_temp_folders_are_never_deleted(
    case: tuple[Path, Path], tmp_path: Path, refused: bool
) -> None:
    """Finding 2: a backup `.out.old-20261206` (a date is 8 hex digits), one with notes, and a
    `.out.tmp-20261205` of somebody's survive a run, and a refused run too; only the folders a
    dead run's lock record names are crmclean's to clear."""
    out = tmp_path / "out"
    backup = tmp_path / ".out.old-20261206"
    shutil.copytree(out, backup)
    noted = tmp_path / ".out.old-20261207"
    shutil.copytree(out, noted)
    (noted / "steward-notes.txt").write_text("mine\n")
    theirs = tmp_path / ".out.tmp-20261205"
    theirs.mkdir()
    (theirs / "notes").write_text("mine\n")
    kept = {p: fingerprint(p, links=False) for p in (backup, noted, theirs)}
    if refused:
        (out / "notes.txt").write_text("mine\n")
    code, err = nightly(case)
    assert code == (3 if refused else 0), err
    for folder, files in kept.items():
        assert fingerprint(folder, links=False) == files, folder.name


def test_a_fifo_at_manifest_json_is_refused_without_hanging(tmp_path: Path) -> None:
    """Finding 6: a FIFO where out/manifest.json goes made `run` block forever on open while it
    held the lock. Now: exit 3, one line naming the FIFO, lock released."""
    data, rules = write_case(tmp_path / "case")
    out = tmp_path / "out"
    cli = [sys.executable, "-m", "crmclean.cli.main", "run", str(data), "-r", str(rules)]
    args = [*cli, "--out", str(out), "--previous", str(out), "-q"]
    env = {**os.environ, "NO_COLOR": "1"}
    assert (
        subprocess.run(args, check=False, env=env, capture_output=True, timeout=300).returncode == 0
    )
    (out / "manifest.json").unlink()
    os.mkfifo(out / "manifest.json")
    try:
        done = subprocess.run(
            args, check=False, env=env, capture_output=True, text=True, timeout=120
        )
    except subprocess.TimeoutExpired:
        pytest.fail("run hung on a FIFO at manifest.json")
    err = done.stderr.strip().splitlines()
    assert done.returncode == 3, err
    assert len(err) == 1 and "manifest.json" in err[0] and "FIFO" in err[0], err
    assert not (tmp_path / "out.lock").exists()


def test_an_endless_manifest_or_marker_is_refused_not_read(
    case: tuple[Path, Path], tmp_path: Path
) -> None:
    """Finding 7: /dev/zero behind out/manifest.json, or a 6 GB marker, gave "unexpected
    MemoryError". Both are checked by type and size before a byte is read: exit 3, one line."""
    data, rules = case
    out = tmp_path / "out"
    (out / "manifest.json").unlink()
    os.symlink("/dev/zero", out / "manifest.json")
    code, err = nightly(case)
    assert code == 3 and len(err) == 1 and "manifest.json" in err[0], err
    assert "MemoryError" not in err[0]

    assert crmclean("validate", data, "-r", rules, "--out", "v", "-q")[0] == 0
    with (tmp_path / "v" / MARKER).open("r+b") as marker:
        marker.truncate(6 << 30)  # sparse: no disk used
    code, err = crmclean("validate", data, "-r", rules, "--out", "v", "-q")
    assert code == 3 and len(err) == 1, err
    assert f"{MARKER} marker is larger than" in err[0] and "MemoryError" not in err[0], err


def test_an_old_one_line_marker_vouches_only_for_its_own_commands_files(
    case: tuple[Path, Path], tmp_path: Path
) -> None:
    """Finding 8: a `clean` folder from before the listing (one-line marker) never held a
    customers.csv or truth.csv; a user's files of those names are theirs and are kept."""
    data, rules = case
    assert crmclean("clean", data, "-r", rules, "--out", "c", "-q")[0] == 0
    (tmp_path / "c" / MARKER).write_text("written by crmclean clean\n")
    assert crmclean("clean", data, "-r", rules, "--out", "c", "-q")[0] == 0  # its own names
    (tmp_path / "c" / MARKER).write_text("written by crmclean clean\n")
    (tmp_path / "c" / "customers.csv").write_text("the only copy\n")
    (tmp_path / "c" / "truth.csv").write_text("labels\n")
    code, err = crmclean("clean", data, "-r", rules, "--out", "c", "-q")
    assert code == 3 and len(err) == 1, err
    assert "2 entries crmclean did not write (customers.csv, truth.csv)" in err[0], err
    assert (tmp_path / "c" / "customers.csv").read_text() == "the only copy\n"


@pytest.mark.parametrize("damage", ["overwritten", "symlink"])
def test_a_run_folder_whose_marker_is_damaged_is_named_as_a_run(
    case: tuple[Path, Path], tmp_path: Path, damage: str
) -> None:
    """Finding 11: the refusal names what is wrong (the marker of a run folder), not "a folder
    crmclean did not write" with its 19 entries."""
    marker = tmp_path / "out" / MARKER
    marker.unlink()
    if damage == "symlink":
        (tmp_path / "elsewhere").write_text("written by crmclean run\n")
        os.symlink(tmp_path / "elsewhere", marker)
    else:
        marker.write_text("hello\n")
    before = fingerprint(tmp_path / "out", links=False)
    code, err = nightly(case)
    assert code == 3 and len(err) == 1, err
    problem = "is a symbolic link" if damage == "symlink" else "was not written by crmclean"
    assert f"holds a run (manifest.json) but its {MARKER} marker {problem}" in err[0], err
    assert "did not write (" not in err[0], err
    assert fingerprint(tmp_path / "out", links=False) == before
    assert json.loads((tmp_path / "out" / "manifest.json").read_text())["command"] == "run"
