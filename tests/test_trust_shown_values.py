"""Issue 9, item 11: a huge field is never copied whole into what a person reads.

Shown values (reports, console tables, messages, review) are cut to 200 characters followed by
"… (N chars)"; violations.parquet/.csv and changes.parquet keep the whole value (masked per
policy): they are data for downstream tools, not something to read.
"""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from crmclean.cli.main import app

runner = CliRunner()
SHOWN_CHARS = 200  # crmclean.core.masking.SHOWN_CHARS
LENGTH = 300_001  # big enough to tell a cut value from a copied one, small enough to be quick
BIG = "Z" + "x" * (LENGTH - 1)
MARK = f"… ({LENGTH} chars)"
RULES = """\
version: 1
dataset: {id_column: id}
columns:
  note:
    checks: [{type: length, max: 50}]
    standardise: [trim]
  city: {}
"""


@pytest.fixture
def case(tmp_path: Path) -> tuple[Path, Path]:
    data = tmp_path / "customers.csv"
    data.write_text(f"id,note,city\n1,{BIG},Bonn\n2,short,Köln\n", encoding="utf-8")
    rules = tmp_path / "rules.yaml"
    rules.write_text(RULES, encoding="utf-8")
    return data, rules


def test_cap_value_keeps_short_values_and_cuts_long_ones() -> None:
    from crmclean.core.masking import SHOWN_CHARS as LIMIT
    from crmclean.core.masking import cap_value

    assert LIMIT == SHOWN_CHARS
    assert cap_value("x" * SHOWN_CHARS) == "x" * SHOWN_CHARS
    assert cap_value(BIG) == BIG[:SHOWN_CHARS] + MARK
    assert cap_value(None) is None


def test_huge_field_is_capped_in_reports_but_kept_in_violations(
    case: tuple[Path, Path], tmp_path: Path
) -> None:
    data, rules = case
    for command in ("validate", "run"):
        out = tmp_path / command
        args = [command, str(data), "--rules", str(rules), "--out", str(out), "--show-values"]
        result = runner.invoke(app, args)
        assert result.exit_code == 1, result.stderr
        for name in ("report.html", "report.json", "validate.json"):
            text = (out / name).read_text(encoding="utf-8")
            assert len(text) < LENGTH, (command, name, len(text))
            assert BIG[: SHOWN_CHARS + 1] not in text, (command, name)
        assert MARK in (out / "report.html").read_text(encoding="utf-8")
        values = pl.read_parquet(out / "violations.parquet").get_column("value").to_list()
        assert BIG in values  # the data file keeps the whole value
    document = json.loads((tmp_path / "validate" / "validate.json").read_text(encoding="utf-8"))
    shown = [s["value"] for rule in document["results"] for s in rule["samples"]]
    assert BIG[:SHOWN_CHARS] + MARK in shown


def test_huge_field_is_capped_on_the_console(case: tuple[Path, Path]) -> None:
    data, rules = case
    for args in (
        ["validate", str(data), "--rules", str(rules), "--format", "json", "--show-values"],
        ["clean", str(data), "--rules", str(rules), "--dry-run", "--show-values"],
        ["profile", str(data), "--format", "json", "--show-values"],
        ["profile", str(data), "--show-values"],
    ):
        result = runner.invoke(app, args)
        assert result.exit_code in (0, 1), result.stderr
        assert len(result.stdout) < LENGTH, (args[0], len(result.stdout))
        assert BIG[: SHOWN_CHARS + 1] not in result.stdout
    profile = json.loads(
        runner.invoke(app, ["profile", str(data), "--format", "json", "--show-values"]).stdout
    )
    note = next(c for c in profile["columns"] if c["name"] == "note")
    assert BIG[:SHOWN_CHARS] + MARK in [v["value"] for v in note["top_values"]]
    assert note["max_length"] == LENGTH  # the figures stay exact


def test_huge_value_in_a_type_error_is_capped(tmp_path: Path) -> None:
    data = tmp_path / "c.csv"
    data.write_text(f"id,amount\n1,{BIG}\n", encoding="utf-8")
    rules = tmp_path / "r.yaml"
    rules.write_text(
        "version: 1\ndataset: {id_column: id}\ncolumns:\n  amount: {type: integer}\n",
        encoding="utf-8",
    )
    args = ["run", str(data), "--rules", str(rules), "--out", str(tmp_path / "o")]
    result = runner.invoke(app, args)
    assert result.exit_code == 2  # a declared type the data does not meet: the setup step
    assert len(result.stderr) < 1000 and "c.csv:2" in result.stderr
