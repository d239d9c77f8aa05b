"""`crmclean rules check|schema` and the CLI's error boundary."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from crmclean.cli.main import app

runner = CliRunner()


def test_version() -> None:
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.stdout.startswith("crmclean ")


def test_rules_check_ok(tmp_path: Path) -> None:
    path = tmp_path / "r.yaml"
    path.write_text("columns:\n  email: {pii: true, checks: [not_null]}\n")
    result = runner.invoke(app, ["rules", "check", str(path)])
    assert result.exit_code == 0, result.output
    assert "ok" in result.stderr


def test_rules_check_error_is_one_line_per_problem_exit_2(tmp_path: Path) -> None:
    path = tmp_path / "r.yaml"
    path.write_text("dataset:\n  id_colum: x\n  default_region: ZZ\n")
    result = runner.invoke(app, ["rules", "check", str(path)])
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 2
    assert all(line.startswith(f"crmclean: error: {path}:") for line in lines)
    assert "Traceback" not in result.output


def test_schema_is_json_schema_of_the_rule_file() -> None:
    result = runner.invoke(app, ["rules", "schema"])
    assert result.exit_code == 0
    schema = json.loads(result.stdout)
    assert schema["title"] == "crmclean rule file"
    assert {"dataset", "columns", "checks"} <= set(schema["properties"])
    assert schema["additionalProperties"] is False


def test_an_unexpected_error_is_one_line_without_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from crmclean.cli import rules_cmd

    def boom(path: Path) -> None:
        raise KeyError("matching")

    monkeypatch.setattr(rules_cmd, "load_rules", boom)
    result = runner.invoke(app, ["rules", "check", str(tmp_path / "r.yaml")])
    assert result.exit_code == 3
    assert "Traceback" not in result.output
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("crmclean: error: unexpected KeyError") and "--debug" in line


def test_usage_errors_keep_exit_2() -> None:
    result = runner.invoke(app, ["rules", "check"])
    assert result.exit_code == 2
