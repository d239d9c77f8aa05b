"""A command replaces its --out folder only when everything in it is crmclean's own: files the
previous command listed in its marker (or a run's manifest) and report files. Anything else
(notes, a nested run folder, another tool's files) is refused with exit 3 and kept."""

from __future__ import annotations

from pathlib import Path

import pytest

from crmclean.io.writers import MARKER
from run_fixtures import crmclean, fingerprint, write_case


@pytest.fixture
def case(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    monkeypatch.chdir(tmp_path)
    return write_case(tmp_path / "case")


def test_run_never_deletes_a_nested_run_folder_or_notes_in_its_out(
    case: tuple[Path, Path], tmp_path: Path
) -> None:
    """The reported session: a run into `run`, one into `run/sub`, notes beside; the next run
    into `run` stops (exit 3, one line naming both) and deletes nothing."""
    data, rules = case
    assert crmclean("run", data, "-r", rules, "--out", "run", "-q")[0] == 0
    assert crmclean("run", data, "-r", rules, "--out", "run/sub", "-q")[0] == 0
    (tmp_path / "run" / "notes.txt").write_text("my notes\n")
    before = fingerprint(tmp_path / "run")
    code, err = crmclean("run", data, "-r", rules, "--out", "run", "-q")
    assert code == 3, err
    assert len(err) == 1 and "notes.txt, sub/" in err[0] and "another --out" in err[0], err
    assert "Traceback" not in err[0]
    assert fingerprint(tmp_path / "run") == before
    assert not list(tmp_path.glob(".run.*")), "no temp folder or lock left behind"


@pytest.mark.parametrize("command", ["validate", "clean", "dedupe", "run", "synth"])
def test_every_command_refuses_to_replace_a_folder_holding_foreign_entries(
    case: tuple[Path, Path], tmp_path: Path, command: str
) -> None:
    """Each command over its own earlier output, once a foreign file and a foreign folder are
    added: exit 3, all kept; without them, it replaces its own folder as before."""
    data, rules = case
    args = ["synth", "--rows", "40", "-q"] if command == "synth" else [command, data, "-r", rules]
    first, _ = crmclean(*args, "--out", "o")
    assert first in (0, 1)
    assert crmclean(*args, "--out", "o")[0] == first  # its own files: replaced
    (tmp_path / "o" / "other-tool").mkdir()
    (tmp_path / "o" / "other-tool" / "data.bin").write_text("x")
    (tmp_path / "o" / "notes.txt").write_text("my notes\n")
    before = fingerprint(tmp_path / "o")
    code, err = crmclean(*args, "--out", "o")
    assert code == 3, err
    assert "2 entries crmclean did not write (notes.txt, other-tool/)" in err[-1], err
    assert fingerprint(tmp_path / "o") == before


def test_cron_recipe_and_report_rebuilds_keep_working_night_after_night(
    case: tuple[Path, Path], tmp_path: Path
) -> None:
    """`--out out --previous out` each night, with `crmclean report out` in between."""
    data, rules = case
    for _ in range(3):
        code, err = crmclean("run", data, "-r", rules, "--out", "out", "--previous", "out", "-q")
        assert code == 0, err
        code, err = crmclean("report", "out", "-q")
        assert code == 0, err
    assert (tmp_path / "out" / "report.html").is_file()
    marker = (tmp_path / "out" / MARKER).read_text().splitlines()
    assert marker[0] == "written by crmclean run" and "crosswalk.parquet" in marker


def test_a_report_rebuild_killed_mid_write_does_not_block_the_next_night(
    case: tuple[Path, Path], tmp_path: Path
) -> None:
    """`report` writes `.report.html.tmp-<8 hex>` beside its target (io/atomic_file.py); a
    SIGKILL mid-write leaves it, and the next night's run takes it as crmclean's own leftover,
    while a file merely named like one with other characters stays foreign."""
    data, rules = case
    assert crmclean("run", data, "-r", rules, "--out", "out", "-q")[0] == 0
    (tmp_path / "out" / ".report.html.tmp-0a1b2c3d").write_text("<html>half")
    code, err = crmclean("run", data, "-r", rules, "--out", "out", "--previous", "out", "-q")
    assert code == 0, err
    assert not (tmp_path / "out" / ".report.html.tmp-0a1b2c3d").exists()
    (tmp_path / "out" / ".report.html.tmp-notes.txt").write_text("mine")
    code, err = crmclean("run", data, "-r", rules, "--out", "out", "--previous", "out", "-q")
    assert code == 3 and ".report.html.tmp-notes.txt" in " ".join(err), err
    assert (tmp_path / "out" / ".report.html.tmp-notes.txt").read_text() == "mine"


def test_folder_from_before_the_listing_is_still_replaced_but_foreign_files_are_not(
    case: tuple[Path, Path], tmp_path: Path
) -> None:
    """A marker of one line (older crmclean): the names crmclean wrote then are its own."""
    data, rules = case
    assert crmclean("validate", data, "-r", rules, "--out", "v")[0] == 0
    (tmp_path / "v" / MARKER).write_text("written by crmclean validate\n")
    assert crmclean("validate", data, "-r", rules, "--out", "v")[0] == 0
    (tmp_path / "v" / MARKER).write_text("written by crmclean validate\n")
    (tmp_path / "v" / "thesis.docx").write_text("years of work")
    code, err = crmclean("validate", data, "-r", rules, "--out", "v")
    assert code == 3 and "thesis.docx" in err[-1], err
    assert (tmp_path / "v" / "thesis.docx").read_text() == "years of work"
