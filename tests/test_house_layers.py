"""The house keeps its shape: the CLI touches no file itself (io/ does), and what that move
fixed at the edge stays fixed."""

from __future__ import annotations

import ast
import os
import tomllib
from pathlib import Path

import pytest
from typer.testing import CliRunner

import crmclean.cli
from crmclean.cli.main import app

CLI = Path(crmclean.cli.__file__).parent
# Path and polars calls that read, write or stat a file; run folders, decisions files, logs,
# locks and reference files all have a reader/writer under crmclean/io/.
FILE_METHODS = {
    "exists", "is_file", "is_dir", "is_symlink", "mkdir", "iterdir", "glob", "rglob", "stat",
    "read_text", "write_text", "read_bytes", "write_bytes", "unlink", "rename", "touch", "rmdir",
}  # fmt: skip
POLARS_FILE = ("read_", "scan_", "write_", "sink_")
FRAME_WRITERS = {"write_csv", "write_parquet", "write_json", "write_ndjson", "write_excel"}


def _file_call(func: ast.expr) -> str | None:
    if isinstance(func, ast.Name):
        return "open()" if func.id == "open" else None
    if not isinstance(func, ast.Attribute):
        return None
    owner = func.value.id if isinstance(func.value, ast.Name) else None
    name = f"{owner or ''}.{func.attr}()"
    if owner == "shutil" or (owner == "json" and func.attr in ("load", "dump")):
        return name
    if owner == "pl":
        return name if func.attr.startswith(POLARS_FILE) else None
    if func.attr in FILE_METHODS or func.attr in FRAME_WRITERS:
        return name
    return None


def _file_calls(path: Path) -> list[str]:
    calls = [
        n for n in ast.walk(ast.parse(path.read_text(encoding="utf-8"))) if isinstance(n, ast.Call)
    ]
    return [f"{path.name}:{n.lineno} {what}" for n in calls if (what := _file_call(n.func))]


def test_the_cli_reads_and_writes_no_file_itself() -> None:
    found = [call for module in sorted(CLI.glob("*.py")) for call in _file_calls(module)]
    assert found == [], "file access belongs in crmclean/io/: " + ", ".join(found)


@pytest.mark.skipif(os.name == "nt", reason="symbolic links")
def test_report_on_a_symlink_loop_is_exit_3_naming_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the CLI resolved the folder itself before asking io: a loop was an "unexpected
    # RuntimeError ... this is a crmclean bug"
    monkeypatch.chdir(tmp_path)
    (tmp_path / "a").symlink_to("b")
    (tmp_path / "b").symlink_to("a")
    result = CliRunner().invoke(app, ["report", "a"])
    assert result.exit_code == 3, result.output
    assert "a: not a folder of run outputs" in result.stderr
    assert "unexpected" not in result.stderr and "Traceback" not in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a", "b"]


def test_every_command_module_is_in_the_independence_contract() -> None:
    # the contract names the command modules one by one: a new `<name>_cmd.py` must join it
    pyproject = tomllib.loads((CLI.parents[2] / "pyproject.toml").read_text(encoding="utf-8"))
    contracts = pyproject["tool"]["importlinter"]["contracts"]
    (independent,) = [c["modules"] for c in contracts if c["type"] == "independence"]
    commands = sorted(f"crmclean.cli.{p.stem}" for p in CLI.glob("*_cmd.py"))
    assert sorted(independent) == commands
