"""The exit-code contract for inputs and options: an unreadable file is exit 3 (not a usage
error), and every command refuses a --format it does not know with exit 2."""

from __future__ import annotations

import builtins
import io
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from crmclean.cli.main import app

runner = CliRunner()

DATA = "customer_id,country\nC1,DE\nC2,FR\n"
RULES = """\
dataset: {id_column: customer_id}
columns:
  country:
    checks: [{type: allowed_values, values_from: countries.csv, column: code}]
"""


@pytest.fixture
def case(tmp_path: Path) -> tuple[Path, Path, Path]:
    data = tmp_path / "customers.csv"
    data.write_text(DATA, encoding="utf-8")
    rules = tmp_path / "rules.yaml"
    rules.write_text(RULES, encoding="utf-8")
    reference = tmp_path / "countries.csv"
    reference.write_text("code\nDE\nFR\n", encoding="utf-8")
    return data, rules, reference


def deny(monkeypatch: pytest.MonkeyPatch, denied: Path) -> None:
    """Opening `denied` fails as it does without read permission (tests may run as root)."""
    real_open = builtins.open
    real_io_open = io.open

    def refuse(file: Any, *args: Any, **kwargs: Any) -> Any:
        if str(file) == str(denied):
            raise PermissionError(13, "Permission denied", str(file))
        return real_open(file, *args, **kwargs)

    def refuse_io(file: Any, *args: Any, **kwargs: Any) -> Any:
        if str(file) == str(denied):
            raise PermissionError(13, "Permission denied", str(file))
        return real_io_open(file, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", refuse)
    monkeypatch.setattr(io, "open", refuse_io)


@pytest.mark.parametrize("which", ["rules", "reference"])
@pytest.mark.parametrize("command", ["validate", "clean", "run"])
def test_an_unreadable_rule_or_reference_file_is_exit_3(
    case: tuple[Path, Path, Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    which: str,
    command: str,
) -> None:
    data, rules, reference = case
    denied = rules if which == "rules" else reference
    deny(monkeypatch, denied)
    args = [command, str(data), "--rules", str(rules)]
    if command != "validate":
        args += ["--out", str(tmp_path / "out")]
    result = runner.invoke(app, args)
    assert result.exit_code == 3, result.stderr
    assert "Permission denied" in result.stderr and str(denied) in result.stderr
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.output


@pytest.mark.parametrize(
    "args",
    [
        ["validate", "x.csv", "--rules", "r.yaml", "--format", "xml"],
        ["profile", "x.csv", "--format", "xml"],
        ["dedupe", "x.csv", "--rules", "r.yaml", "--out", "o", "--format", "xml"],
        ["explain", "out", "A", "B", "--format", "xml"],
        ["evaluate", "clusters.parquet", "--truth", "t.csv", "--format", "yaml"],
        ["review", "out", "--format", "xml"],
        ["synth", "--format", "xml"],
    ],
    ids=lambda args: args[0],
)
def test_every_command_refuses_an_unknown_format(args: list[str], tmp_path: Path) -> None:
    result = runner.invoke(app, args)
    assert result.exit_code == 2, result.output
    assert "--format" in result.output and "is not one of" in result.output
    # one plain sentence naming the option, not click's usage block with "Value error, "
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("crmclean: error: --format: "), lines
    assert "Value error" not in result.stderr and f"crmclean {args[0]} --help" in lines[0]
