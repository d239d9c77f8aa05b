"""The Python API (docs/api.md): the same answers as the commands, from a frame or a location,
errors of the CLI's family, and the page's example runs."""

from __future__ import annotations

import json
import re
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal
from typer.testing import CliRunner

import crmclean
from crmclean.cli.main import app
from crmclean.errors import ExitCode

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "sample_data" / "customers.csv"
RULES = ROOT / "rules" / "company.yaml"


@pytest.fixture(scope="module")
def rules() -> crmclean.Rules:
    return crmclean.load_rules(RULES)


@pytest.fixture(scope="module")
def frame() -> pl.DataFrame:
    return pl.read_csv(SAMPLE, infer_schema_length=0).head(800)


def test_the_promised_names_are_there() -> None:
    for name in crmclean.__all__:
        assert getattr(crmclean, name) is not None, name
    with pytest.raises(AttributeError):
        _ = crmclean.not_an_api_name  # type: ignore[attr-defined]


def test_a_frame_and_a_file_give_the_same_validation(
    rules: crmclean.Rules, frame: pl.DataFrame, tmp_path: Path
) -> None:
    path = tmp_path / "part.parquet"
    frame.write_parquet(path)
    from_frame = crmclean.validate(frame, rules)
    from_file = crmclean.validate(path, rules)
    assert from_frame.counts() == from_file.counts()
    assert_frame_equal(from_frame.violations, from_file.violations)
    assert from_frame.rows == frame.height


def test_validate_equals_the_commands_json(rules: crmclean.Rules) -> None:
    argv = ["validate", str(SAMPLE), "--rules", str(RULES), "-f", "json"]
    result = CliRunner().invoke(app, argv)
    document = json.loads(result.stdout)
    api = crmclean.validate(str(SAMPLE), rules)
    assert result.exit_code == api.exit_code() == 1
    by_rule = {r["rule_id"]: r for r in document["results"]}
    assert sorted(by_rule) == sorted(r.rule_id for r in api.results)
    for rule in api.results:
        assert by_rule[rule.rule_id]["status"] == rule.status
        assert by_rule[rule.rule_id]["violations"] == rule.violations


def test_run_accounts_for_every_row_and_names_the_source_id(
    rules: crmclean.Rules, frame: pl.DataFrame
) -> None:
    result = crmclean.run(frame, rules, quarantine=True, seed=7)
    counts = result.counts()
    assert counts["input"] == frame.height == counts["matched"] + counts["quarantined"]
    crosswalk = result.golden.crosswalk
    ids = set(frame["customer_id"].str.strip_chars())
    assert set(crosswalk["record_id"]) | set(result.quarantine["record_id"]) == ids
    assert result.exit_code == result.validation.exit_code()


def test_run_keeps_golden_ids_of_a_previous_run_folder(
    rules: crmclean.Rules, frame: pl.DataFrame, tmp_path: Path
) -> None:
    data = tmp_path / "customers.parquet"
    frame.write_parquet(data)
    out = tmp_path / "out"
    cli = CliRunner().invoke(app, ["run", str(data), "-r", str(RULES), "-o", str(out), "-q"])
    assert cli.exit_code in (0, 1), cli.output
    again = crmclean.run(frame, rules, previous=out)
    before = pl.read_parquet(out / "crosswalk.parquet").select("record_id", "golden_id")
    after = again.golden.crosswalk.select("record_id", "golden_id")
    assert_frame_equal(before.sort("record_id"), after.sort("record_id"))


def test_clean_and_dedupe_match_their_commands(
    rules: crmclean.Rules, frame: pl.DataFrame, tmp_path: Path
) -> None:
    data = tmp_path / "customers.parquet"
    frame.write_parquet(data)
    cleaned = crmclean.clean(frame, rules)
    out = tmp_path / "clean"
    CliRunner().invoke(app, ["clean", str(data), "-r", str(RULES), "-o", str(out), "-q"])
    assert_frame_equal(cleaned.frame, pl.read_parquet(out / "clean.parquet"))
    found = crmclean.dedupe(data, rules, seed=3)
    out = tmp_path / "dedupe"
    done = CliRunner().invoke(
        app, ["dedupe", str(data), "-r", str(RULES), "-o", str(out), "--seed", "3", "-q"]
    )
    assert done.exit_code == 0, done.output
    assert_frame_equal(found.pairs, pl.read_parquet(out / "pairs.parquet"))
    assert found.clusters.height == frame.height


def test_read_types_columns_as_the_rule_file_declares(tmp_path: Path) -> None:
    rules = tmp_path / "typed.yaml"
    rules.write_text("version: 1\ncolumns:\n  visits: {type: integer}\n  name: {}\n")
    read = crmclean.read(pl.DataFrame({"name": ["Ada", "Bo"], "visits": [" 3", "n/a"]}), rules)
    assert read.columns == ["record_id", "name", "visits"]
    assert read.schema["visits"] == pl.Int64
    assert read["visits"].to_list() == [3, None]
    assert read["record_id"].to_list() == ["1", "2"]


def test_errors_are_the_clis_family_without_values(frame: pl.DataFrame, tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("version: 1\ncolumns:\n  email:\n    checks: [{type: no_such_check}]\n")
    with pytest.raises(crmclean.ConfigError) as config:
        crmclean.load_rules(bad)
    assert config.value.exit_code == ExitCode.USAGE
    assert "bad.yaml:4" in str(config.value)
    no_id = pl.DataFrame({"name": ["Ada"]})
    with pytest.raises(crmclean.InputError) as missing:
        crmclean.validate(no_id, RULES)
    assert missing.value.exit_code == ExitCode.UNREADABLE
    assert "<DataFrame>: lacks column(s) the rules need: 'customer_id'" in str(missing.value)
    with pytest.raises(crmclean.InputError, match=r"no crosswalk\.parquet"):
        crmclean.run(frame, RULES, previous=tmp_path)
    with pytest.raises(TypeError, match="polars DataFrame, a path or a URL"):
        crmclean.validate([{"customer_id": 1}], RULES)  # type: ignore[arg-type]


def test_the_pages_example_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    text = (ROOT / "docs" / "api.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```", text, flags=re.S)
    assert len(blocks) >= 2
    monkeypatch.chdir(ROOT)
    for block in blocks:
        exec(compile(block, "docs/api.md", "exec"), {"__name__": "docs_api"})


def test_dir_lists_the_lazily_loaded_api_for_completion() -> None:
    import subprocess
    import sys

    # a fresh interpreter: nothing of crmclean.api is loaded yet when dir() is asked
    code = (
        "import crmclean, json, sys; "
        "print(json.dumps([dir(crmclean), 'crmclean.api' in sys.modules]))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    names, loaded = json.loads(out.stdout)
    assert set(crmclean.__all__) <= set(names)
    assert "load_rules" in names and "__getattr__" in names
    assert loaded is False
