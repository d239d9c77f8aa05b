"""Files crmclean writes outside a fresh output folder never cost anyone data: `crmclean report`
writes through no link planted at its temp names and only into folders crmclean wrote, and
`review --out` never replaces the decisions file, a rule file, the run's input, a run's
files or (without --force) any other existing file."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import crmclean.io.atomic_file
from crmclean.cli.main import app
from run_fixtures import write_case

runner = CliRunner()
VICTIM = "VICTIM: a file of somebody else\n"
HEADER = "record_id_l,record_id_r,decision,decided_by,decided_at,note\n"
posix_only = pytest.mark.skipif(os.name == "nt", reason="symbolic and hard links")


@pytest.fixture()
def case(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path, Path]:
    monkeypatch.chdir(tmp_path)
    data, rules = write_case(tmp_path)
    out = tmp_path / "out"
    result = runner.invoke(app, ["run", str(data), "--rules", str(rules), "--out", str(out), "-q"])
    assert result.exit_code == 0, result.stderr
    (tmp_path / "decisions.csv").write_text(HEADER, encoding="utf-8")  # the rules name it
    return data, rules, out


def contents(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


@posix_only
def test_report_never_writes_through_a_link_at_its_temp_file_names(
    case: tuple[Path, Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The attack: a symlink at out/.report.html.tmp, a hard link at out/.report.json.tmp; even
    the fresh temp name, if guessed, is created exclusively and so never written through."""
    _, _, out = case
    victim = tmp_path / "victim.txt"
    victim.write_text(VICTIM)
    (out / ".report.html.tmp").symlink_to(victim)
    os.link(victim, out / ".report.json.tmp")

    class Guessed:  # the first temp name tried is one the attacker planted as a link
        values = iter(["abcdef01" * 4, "abcdef01" * 4, "12345678" * 4, "23456789" * 4])

        @classmethod
        def uuid4(cls) -> Any:
            return type("U", (), {"hex": next(cls.values)})()

    (out / ".report.json.tmp-abcdef01").symlink_to(victim)
    monkeypatch.setattr(crmclean.io.atomic_file, "uuid", Guessed)

    result = runner.invoke(app, ["report", str(out), "-q"])
    assert result.exit_code == 0, result.output
    assert victim.read_text() == VICTIM
    assert (out / "report.json").read_text().startswith("{")
    assert "<html" in (out / "report.html").read_text()
    assert (out / ".report.json.tmp-abcdef01").is_symlink()  # left alone, not followed
    assert not [p for p in out.iterdir() if p.name.startswith(".report.html.tmp-")]


def test_report_refuses_a_folder_crmclean_did_not_write(tmp_path: Path) -> None:
    web = tmp_path / "web"
    web.mkdir()
    (web / "report.html").write_text("<h1>mine</h1>\n")
    (web / "report.json").write_text('{"mine": true}\n')
    (web / "package.json").write_text("{}\n")
    (web / "manifest.json").write_text('{"name": "a web app"}\n')  # a PWA's, not a run's
    (web / "validate.json").write_text("{}\n")
    before = contents(web)
    result = runner.invoke(app, ["report", str(web)])
    assert result.exit_code == 3, result.output
    line = result.stderr.strip()
    assert len(line.splitlines()) == 1, line
    assert f"{web}: is not a folder crmclean wrote" in line
    assert "pass the --out folder of a crmclean validate or run" in line
    assert contents(web) == before
    (web / ".crmclean-output").write_text("some other tool\n")  # not crmclean's first line
    result = runner.invoke(app, ["report", str(web)])
    assert result.exit_code == 3 and "is not a folder crmclean wrote" in result.stderr
    assert {k: v for k, v in contents(web).items() if k != ".crmclean-output"} == before


def test_review_export_never_replaces_decisions_rules_input_or_a_runs_files(
    case: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    data, rules, out = case
    marker = out / ".crmclean-output"
    protected = [
        (tmp_path / "decisions.csv", "is the decisions file"),
        (rules, "is a rule file"),
        (data, "is the run's input"),
        (Path("customers.csv"), "is the run's input"),  # another spelling of it
        (out / "golden.csv", "a folder crmclean wrote"),
        (marker, "a folder crmclean wrote"),
        (out / "new.csv", "a folder crmclean wrote"),
    ]
    before = {p: p.read_bytes() for p, _ in protected if p.exists()}
    for path, reason in protected:
        for force in ([], ["--force"]):
            args = ["review", str(out), "--format", "csv", "--out", str(path), *force]
            result = runner.invoke(app, args)
            assert result.exit_code == 3, (path, result.output)
            assert reason in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert {p: p.read_bytes() for p, _ in protected if p.exists()} == before
    assert not (out / "new.csv").exists()


@posix_only
def test_review_export_replaces_an_existing_file_only_with_force_and_follows_no_link(
    case: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    _, _, out = case
    notes = tmp_path / "notes.csv"
    notes.write_text(VICTIM)
    result = runner.invoke(app, ["review", str(out), "--format", "csv", "--out", str(notes)])
    assert result.exit_code == 2, result.output
    assert "already exists" in result.stderr and "--force" in result.stderr
    assert notes.read_text() == VICTIM

    link = tmp_path / "queue.csv"
    link.symlink_to(notes)  # --force replaces the link, never what it points to
    args = ["review", str(out), "--format", "csv", "--out", str(link), "--force"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert notes.read_text() == VICTIM
    assert not link.is_symlink()
    assert link.read_text(encoding="utf-8-sig").startswith("record_id_l,record_id_r")
    assert not [p for p in tmp_path.iterdir() if ".tmp-" in p.name]

    hard = tmp_path / "hard.csv"
    os.link(notes, hard)  # a hard link: the new export is a new file, the other name untouched
    args = ["review", str(out), "--format", "csv", "--out", str(hard), "--force"]
    assert runner.invoke(app, args).exit_code == 0
    assert notes.read_text() == VICTIM and hard.read_text(encoding="utf-8-sig").startswith(
        "record_id_l"
    )
