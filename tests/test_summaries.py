"""Typed, versioned summaries: `run` writes validate.json (and dedupe.json) in the very shape
`validate --out` (and `dedupe --out`) write, every summary carries schema_version, and readers
get dataclasses back (crmclean.summaries)."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from crmclean.cli.main import app
from crmclean.io.summary_files import read_summary
from crmclean.summaries import (
    SCHEMA_VERSION,
    CleanSummary,
    DedupeSummary,
    RunManifest,
    ValidateSummary,
)
from run_fixtures import write_case

runner = CliRunner()


def invoke(*args: str) -> None:
    result = runner.invoke(app, [*args, "-q"] if args[0] != "validate" else list(args))
    assert result.exit_code in (0, 1), result.stderr


def test_run_and_validate_write_one_validate_summary(tmp_path: Path) -> None:
    data, rules = write_case(tmp_path)
    invoke("run", str(data), "--rules", str(rules), "--out", str(tmp_path / "run"))
    invoke("validate", str(data), "--rules", str(rules), "--out", str(tmp_path / "validate"))
    from_run = json.loads((tmp_path / "run" / "validate.json").read_text(encoding="utf-8"))
    from_validate = json.loads((tmp_path / "validate" / "validate.json").read_text())
    assert from_run["schema_version"] == from_validate["schema_version"] == SCHEMA_VERSION
    assert set(from_run) == set(from_validate)  # `results`, not `rules`; summary, score, ...
    assert set(from_run["summary"]) == set(from_validate["summary"])
    run_summary = read_summary(tmp_path / "run", ValidateSummary)
    validate_summary = read_summary(tmp_path / "validate", ValidateSummary)
    assert run_summary is not None and validate_summary is not None
    assert [r.rule_id for r in run_summary.results] == [r.rule_id for r in validate_summary.results]
    assert run_summary.values_masked and run_summary.pii == validate_summary.pii


def test_every_summary_of_every_command_is_typed_and_round_trips(tmp_path: Path) -> None:
    data, rules = write_case(tmp_path)
    invoke("run", str(data), "--rules", str(rules), "--out", str(tmp_path / "run"))
    invoke("clean", str(data), "--rules", str(rules), "--out", str(tmp_path / "clean"))
    invoke("dedupe", str(data), "--rules", str(rules), "--out", str(tmp_path / "dedupe"))
    expected = {
        "run": [ValidateSummary, DedupeSummary, RunManifest],
        "clean": [CleanSummary],
        "dedupe": [DedupeSummary],
    }
    for folder, kinds in expected.items():
        for kind in kinds:
            path = tmp_path / folder / kind.file
            document = json.loads(path.read_text(encoding="utf-8"))
            assert document["schema_version"] == SCHEMA_VERSION, path
            assert document["command"] == kind.command, path
            typed = kind.from_dict(document)
            assert kind.from_dict(typed.to_dict()) == typed  # nothing lost either way
    dedupe_keys = json.loads((tmp_path / "dedupe" / "dedupe.json").read_text()).keys()
    assert json.loads((tmp_path / "run" / "dedupe.json").read_text()).keys() == dedupe_keys
