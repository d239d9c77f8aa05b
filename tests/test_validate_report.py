"""Report renderers of validate, and docs that stay true to the code."""

from __future__ import annotations

import io
import json
import re
from datetime import UTC, datetime
from pathlib import Path

import polars as pl
from rich.console import Console
from typer.testing import CliRunner

from crmclean.cli.main import app
from crmclean.config import load_rules
from crmclean.core.checks import checks
from crmclean.core.validation import validate
from crmclean.io.readers import read_table
from crmclean.report import validate_console

REPO = Path(__file__).resolve().parents[1]
NOW = datetime(2025, 6, 1, tzinfo=UTC)


def _result(tmp_path: Path) -> object:
    rules = tmp_path / "r.yaml"
    rules.write_text(
        "columns:\n  x: {checks: [not_null, {type: length, max: 1, severity: warn}]}\n"
    )
    data = pl.DataFrame({"record_id": ["1", "2"], "x": ["a", None]})
    return validate(data, load_rules(rules).rules, now=NOW)


def test_terminal_table_is_rich_and_coloured(tmp_path: Path) -> None:
    out = io.StringIO()
    console = Console(file=out, force_terminal=True, width=160, color_system="standard")
    validate_console.render(_result(tmp_path), console)  # type: ignore[arg-type]
    text = out.getvalue()
    assert "\x1b[" in text and "┃" in text  # colour codes and box drawing
    assert "x.not_null" in text and "score" in text


def test_no_color_keeps_the_table_but_drops_colour(tmp_path: Path) -> None:
    out = io.StringIO()
    console = Console(file=out, force_terminal=True, width=160, no_color=True)
    validate_console.render(_result(tmp_path), console)  # type: ignore[arg-type]
    assert "x.not_null" in out.getvalue()
    assert not re.search(r"\x1b\[3[0-9]m", out.getvalue())


def test_cli_json_equals_the_python_api(tmp_path: Path) -> None:
    data = tmp_path / "d.csv"
    data.write_text("customer_id,email\nA,a@example.com\nB,broken\nB,\n", encoding="utf-8")
    rules = tmp_path / "r.yaml"
    rules.write_text(
        "dataset: {id_column: customer_id}\n"
        "columns:\n  customer_id: {unique: true}\n  email: {checks: [email_valid, not_null]}\n"
    )
    result = CliRunner().invoke(app, ["validate", str(data), "-r", str(rules), "-f", "json"])
    report = json.loads(result.stdout)
    loaded = load_rules(rules)
    frame = read_table(data, id_column="customer_id").frame
    api = validate(frame, loaded.rules)
    cli_rows = [{k: v for k, v in r.items() if k != "samples"} for r in report["results"]]
    api_rows = [{**r.to_dict(), "share": round(r.share, 6)} for r in api.results]
    assert cli_rows == api_rows
    assert report["score"] == api.score
    assert report["summary"]["exit_code"] == api.exit_code() == result.exit_code == 1


def test_check_reference_documents_every_check_type() -> None:
    text = (REPO / "docs" / "validate.md").read_text(encoding="utf-8")
    documented = set(re.findall(r"^\*\*([a-z_]+)\*\*", text, flags=re.MULTILINE))
    assert documented == set(checks.names())
    for alias in checks.aliases():
        assert f"`{alias}`" in text, alias


def test_json_report_doc_lists_every_field(tmp_path: Path) -> None:
    data = tmp_path / "d.csv"
    data.write_text("a\n1\n", encoding="utf-8")
    rules = tmp_path / "r.yaml"
    rules.write_text("columns:\n  a: {checks: [not_null]}\n")
    result = CliRunner().invoke(app, ["validate", str(data), "-r", str(rules), "-f", "json"])
    report = json.loads(result.stdout)
    doc = (REPO / "docs" / "json-report.md").read_text(encoding="utf-8")
    for key in report:
        assert f"`{key}`" in doc, key
    for key in report["results"][0]:
        assert f"`results[].{key}`" in doc, key
    for key in report["summary"]:
        assert f"`summary.{key}`" in doc, key


def test_every_yaml_example_in_the_docs_is_a_valid_rule_file() -> None:
    import yaml

    from crmclean.config.yaml_source import RuleFileLoader  # reads keys as written (`on:`)
    from crmclean.core.rules.rule_file import RuleFile

    text = (REPO / "docs" / "validate.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```yaml\n(.*?)```", text, flags=re.DOTALL)
    assert len(blocks) >= 15
    for block in blocks:
        data = yaml.load(block, Loader=RuleFileLoader)
        if isinstance(data, list):  # a check list as written under a column
            data = {"columns": {"value": {"checks": data}}}
        RuleFile.model_validate(data)
