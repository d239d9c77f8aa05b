"""Several source systems in one run (`sources:`): ids made unique, each system named in lineage
and manifest, `matching.mode: link_only` comparing across systems only, and the mistakes a
steward makes in the section told at their YAML position."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

import crmclean
from crmclean.cli.main import app
from crmclean.core.contracts import RECORD_ID
from crmclean.core.golden.strategies import SourcePrioritySpec
from crmclean.core.sources import SourceSpec, combine_sources
from source_systems import COMPANY, rule_file, write_systems


@pytest.fixture(scope="module")
def systems(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_systems(tmp_path_factory.mktemp("systems"))


def run(*argv: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["run", *argv, "-q"])
    return result.exit_code, result.stderr


def test_link_only_matches_across_systems_and_names_them(systems: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    code, err = run("-r", str(rule_file(systems)), "-o", str(out))
    assert code == 1, err  # the sample fails an error-severity rule on purpose
    pairs = pl.read_parquet(out / "pairs.parquet")
    assert pairs.height > 100
    left = pairs["record_id_l"].str.split(":").list.first()
    assert (left != pairs["record_id_r"].str.split(":").list.first()).all()
    crosswalk = pl.read_parquet(out / "crosswalk.parquet")
    assert crosswalk.height == 1600 and crosswalk[RECORD_ID].n_unique() == 1600
    assert set(crosswalk[RECORD_ID].str.split(":").list.first()) == {"crm", "erp"}
    lineage = pl.read_parquet(out / "lineage.parquet").drop_nulls(RECORD_ID)
    systems_named = lineage[RECORD_ID].str.split(":").list.first()
    assert (systems_named == lineage["source_system"]).all()
    manifest = json.loads((out / "manifest.json").read_text())
    assert [i["source"] for i in manifest["inputs"]] == ["crm", "erp"]
    assert manifest["inputs"][1]["format"] == "sqlite" and manifest["rows_add_up"]
    assert sum(i["rows"] for i in manifest["inputs"]) == manifest["rows"]["input"]
    golden = pl.read_parquet(out / "golden.parquet")
    assert "buchungskreis" not in golden.columns and "vorname" not in golden.columns
    # the combined table's columns are recorded, so `match` takes records as the run did
    assert {"first_name", "source_system"} <= set(manifest["input_columns"])
    assert "vorname" not in manifest["input_columns"]
    record = '{"first_name": "Anna", "last_name": "Schmidt", "source_system": "erp"}'
    found = CliRunner().invoke(app, ["match", str(out), "--record", record, "-f", "json"])
    assert found.exit_code == 0, found.stderr
    assert json.loads(found.stdout)[0]["decision"] in {"same_customer", "review", "new"}


@pytest.mark.duckdb
def test_link_only_keeps_the_same_pairs_on_the_duckdb_engine(systems: Path, tmp_path: Path) -> None:
    pairs = {}
    for engine in ("polars", "duckdb"):
        out = tmp_path / engine
        code, err = run("-r", str(rule_file(systems)), "-o", str(out), "--engine", engine)
        assert code == 1, err
        found = pl.read_parquet(out / "pairs.parquet").select("record_id_l", "record_id_r")
        pairs[engine] = found.sort("record_id_l", "record_id_r")
    left = pairs["duckdb"]["record_id_l"].str.split(":").list.first()
    assert pairs["duckdb"].height > 100
    assert (left != pairs["duckdb"]["record_id_r"].str.split(":").list.first()).all()
    assert pairs["duckdb"].equals(pairs["polars"])


def test_dedupe_mode_also_matches_within_a_system(systems: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    code, err = run("-r", str(rule_file(systems, "link_and_dedupe")), "-o", str(out))
    assert code == 1, err
    pairs = pl.read_parquet(out / "pairs.parquet")
    left = pairs["record_id_l"].str.split(":").list.first()
    within = (left == pairs["record_id_r"].str.split(":").list.first()).sum()
    assert within > 0 and within < pairs.height


def test_priorities_order_source_priority(tmp_path: Path) -> None:
    path = tmp_path / "priorities.yaml"
    path.write_text(
        "columns: {email: {}}\n"
        "sources:\n"
        "  shop: {location: shop.csv, priority: 5}\n"
        "  erp: {location: erp.csv, priority: 1}\n"
        "  crm: {location: crm.csv, priority: 5}\n"
        "survivorship:\n"
        "  default: [valid_only, most_complete]\n"
        "  columns: {email: [source_priority, most_recent]}\n"
    )
    rules = crmclean.load_rules(path).rules
    assert rules.dataset.source_column == "source_system"
    assert rules.survivorship is not None
    order = ["erp", "crm", "shop"]  # by priority, ties by name
    assert rules.survivorship.default[1] == SourcePrioritySpec(order=order)
    assert rules.survivorship.columns["email"][0] == SourcePrioritySpec(order=order)
    plain = tmp_path / "plain.yaml"
    plain.write_text("survivorship:\n  default: [source_priority]\n")
    with pytest.raises(crmclean.ConfigError, match="source_priority needs its order"):
        crmclean.load_rules(plain)


def test_the_python_api_reads_the_sources(systems: Path) -> None:
    frame = crmclean.read(None, rule_file(systems))
    assert frame.height == 1600
    assert frame[RECORD_ID].str.starts_with("erp:").sum() == (frame["source_system"] == "erp").sum()


def test_a_mapping_to_a_missing_column_is_exit_2_at_its_yaml_position(
    systems: Path, tmp_path: Path
) -> None:
    rules = rule_file(systems, erp_columns="{customer_id: kdnr, first_name: vornahme}")
    code, err = run("-r", str(rules), "-o", str(tmp_path / "out"))
    assert code == 2
    assert f"{rules}:" in err and "sources.erp.columns.first_name" in err
    assert "source 'erp' has no column 'vornahme'" in err and "vorname" in err


def test_input_and_sources_exclude_each_other(systems: Path, tmp_path: Path) -> None:
    out = str(tmp_path / "out")
    code, err = run(str(systems / "crm.csv"), "-r", str(rule_file(systems)), "-o", out)
    assert code == 2 and "not both" in err
    code, err = run("-r", str(COMPANY), "-o", out)
    assert code == 2 and "give INPUT" in err
    broken = tmp_path / "link.yaml"
    broken.write_text(f"extends: {COMPANY}\nmatching:\n  mode: link_only\n")
    code, err = run(str(systems / "crm.csv"), "-r", str(broken), "-o", out)
    assert code == 2 and "link_only needs a sources: section" in err


def test_a_source_that_cannot_be_read_is_named(systems: Path, tmp_path: Path) -> None:
    rules = rule_file(systems)
    text = rules.read_text().replace("crm.csv", "missing.csv")
    rules.with_name("missing.yaml").write_text(text)
    code, err = run("-r", str(rules.with_name("missing.yaml")), "-o", str(tmp_path / "out"))
    assert code == 3 and "source 'crm'" in err and "missing.csv" in err


def test_combine_sources_keeps_the_rule_files_columns() -> None:
    frames = {
        "crm": pl.DataFrame({RECORD_ID: ["1", "2"], "email": ["a@x", "b@x"], "x": ["?", "?"]}),
        "erp": pl.DataFrame({RECORD_ID: ["1"], "mail": ["c@x"], "email": ["old"]}),
    }
    specs = {
        "crm": SourceSpec(location="a"),
        "erp": SourceSpec(location="b", columns={"email": "mail"}),
    }
    combined, problems = combine_sources(frames, specs, ["email"], "system")
    assert problems == []
    assert combined.to_dicts() == [
        {RECORD_ID: "crm:1", "email": "a@x", "system": "crm"},
        {RECORD_ID: "crm:2", "email": "b@x", "system": "crm"},
        {RECORD_ID: "erp:1", "email": "c@x", "system": "erp"},
    ]


@pytest.mark.parametrize("command", [["rules", "check"], ["validate", "-r"]])
def test_a_source_url_with_a_password_is_exit_2_at_its_yaml_position(
    tmp_path: Path, command: list[str]
) -> None:
    rules = tmp_path / "sources.yaml"
    rules.write_text(
        f"extends: {COMPANY}\nsources:\n  crm:\n"
        '    location: "postgresql://u:hunter2@db/crm?table=customers"\n'
        "    id_column: customer_id\n    priority: 1\n"
        "  erp:\n    location: postgresql://u@db/erp?table=a.b.c.d\n"
        "    id_column: kdnr\n    priority: 2\n"
    )
    result = CliRunner().invoke(app, [*command, str(rules)])
    assert result.exit_code == 2, result.stderr
    said = " ".join(result.stderr.split())
    assert (
        f"{rules}:4:5 sources.crm.location: source 'crm': postgresql: the URL has a password"
        in said
    )
    assert f"{rules}:8:5 sources.erp.location: source 'erp':" in said and "has 4 parts" in said
    assert "hunter2" not in result.stderr


def test_the_shipped_sources_example_is_the_sample_split_by_system() -> None:
    root = COMPANY.parents[1]
    sample = pl.read_csv(root / "sample_data" / "customers.csv", infer_schema_length=0)
    erp = {"kdnr": "customer_id", "vorname": "first_name", "nachname": "last_name", "mail": "email"}
    parts = []
    for system in ("crm", "erp", "webshop"):
        part = pl.read_csv(
            root / "sample_data" / "sources" / f"{system}.csv", infer_schema_length=0
        )
        part = part.rename(erp) if system == "erp" else part
        parts.append(part.with_columns(pl.lit(system).alias("source_system")))
    joined = pl.concat(parts).select(sample.columns).sort("customer_id")
    assert joined.equals(sample.sort("customer_id"))
    loaded = crmclean.load_rules(root / "rules" / "sources.yaml")
    assert sorted(loaded.rules.sources) == ["crm", "erp", "webshop"]
