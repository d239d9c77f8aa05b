"""The README's examples run: every `crmclean ...` line in its sh blocks, in order, in a copy of
the repository's sample data and rules, exits with the code the README states (`# exit N`)."""

from __future__ import annotations

import re
import shlex
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from crmclean.cli.main import app

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
runner = CliRunner()


def readme_commands() -> list[tuple[list[str], str | None, int, bool]]:
    """(argv, stdout redirect, expected exit code, interactive) for each documented command."""
    text = README.read_text(encoding="utf-8")
    commands = []
    for block in re.findall(r"```sh\n(.*?)```", text, flags=re.S):
        for line in block.splitlines():
            if not line.startswith("crmclean "):
                continue
            command, _, comment = line.partition("#")
            expected = re.search(r"exit (\d)", comment)
            interactive = "y match" in comment
            words = shlex.split(command)[1:]
            redirect = None
            if ">" in words:
                at = words.index(">")
                words, redirect = words[:at], words[at + 1]
            commands.append(
                (words, redirect, int(expected.group(1)) if expected else 0, interactive)
            )
    return commands


def test_readme_documents_the_two_setup_commands_first() -> None:
    text = README.read_text(encoding="utf-8")
    first_block = re.search(r"```sh\n(.*?)```", text, flags=re.S)
    assert first_block is not None
    lines = [ln.split("#")[0].strip() for ln in first_block.group(1).strip().splitlines()]
    assert lines == ["make demo", "make test"]


def test_every_command_has_a_readme_section() -> None:
    text = README.read_text(encoding="utf-8")
    result = runner.invoke(app, ["--help"])
    commands = result.stdout.split("Commands:", 1)[1]
    names = re.findall(r"^  (\w+)\s", commands, flags=re.M)
    assert len(names) >= 10
    for name in names:
        assert f"crmclean {name}" in text, name


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_readme_examples_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    shutil.copytree(ROOT / "sample_data", tmp_path / "sample_data")
    shutil.copytree(ROOT / "rules", tmp_path / "rules")
    monkeypatch.chdir(tmp_path)
    ran = 0
    for words, redirect, expected, interactive in readme_commands():
        if interactive:  # needs a terminal; tests/test_review.py drives it under a pty
            continue
        result = runner.invoke(app, words)
        assert result.exit_code == expected, (words, result.output[-2000:])
        assert "Traceback" not in result.output
        if redirect:
            Path(redirect).write_text(result.stdout, encoding="utf-8")
        ran += 1
    assert ran >= 15
    assert (tmp_path / "out" / "report.html").is_file()
    assert (tmp_path / "crmclean.schema.json").stat().st_size > 1000


def test_every_promise_in_what_crmclean_never_does_names_a_test_that_exists() -> None:
    text = README.read_text(encoding="utf-8")
    section = text.split("## What crmclean never does", 1)[1].split("\n## ", 1)[0]
    promises = [p for p in section.split("\n- ") if p.startswith("**")]
    assert len(promises) >= 6
    for promise in promises:
        cited = re.findall(r"`(tests/[\w/]+\.py)::(\w+)`", promise)
        assert cited, f"a promise without a named test: {promise[:80]}"
        for path, name in cited:
            source = (ROOT / path).read_text(encoding="utf-8")
            assert re.search(rf"^def {name}\(", source, flags=re.M), f"{path}::{name} is gone"


def test_readme_and_docs_never_say_standard_input_is_refused() -> None:
    """The tour pipes a file into `crmclean validate -`: no page may still call `-` refused."""
    pages = [README, *(ROOT / "docs").glob("*.md")]
    for page in pages:
        text = " ".join(page.read_text(encoding="utf-8").split())
        assert not re.search(r"`-`[^.;]{0,40}(is )?refused", text), page.name
        assert "(`-`) is refused" not in text, page.name
