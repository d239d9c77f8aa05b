"""What rules/company.yaml's matching section promises, through the CLI (issue 10)."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import yaml
from typer.testing import CliRunner

from crmclean.cli.main import app
from crmclean.core.matching.spec import ClusteringSpec, ThresholdSpec

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "sample_data" / "customers.csv"
RULES = ROOT / "rules" / "company.yaml"


def test_swapped_names_score_the_swap_on_both_name_comparisons(tmp_path: Path) -> None:
    # the sample data with one more customer, recorded twice with first and last name swapped
    data = tmp_path / "c.csv"
    data.write_text(
        SAMPLE.read_text(encoding="utf-8").rstrip("\n") + "\n"
        "A1,crm,,Gerhard,Albrecht,,g.albrecht@web.de,,Hauptstr. 1,10115,Berlin,DE,1970-01-02,,\n"
        "A2,erp,,Albrecht,Gerhard,,g.albrecht@web.de,,Hauptstr. 1,10115,Berlin,DE,1970-01-02,,\n",
        encoding="utf-8",
    )
    out = tmp_path / "o"
    result = CliRunner().invoke(
        app, ["dedupe", str(data), "--rules", str(RULES), "--out", str(out), "-q"]
    )
    assert result.exit_code == 0, result.stderr
    explained = CliRunner().invoke(app, ["explain", str(out), "A1", "A2", "--format", "json"])
    assert explained.exit_code == 0, explained.stderr
    levels = {c["name"]: c["level"] for c in json.loads(explained.stdout)["comparisons"]}
    assert levels["first_name"].startswith("swapped with last_name_key")
    assert levels["last_name"].startswith("swapped with first_name_key")


def test_schema_defaults_are_company_yaml_values() -> None:
    shipped = yaml.safe_load(RULES.read_text(encoding="utf-8"))["matching"]
    assert ThresholdSpec().model_dump() == shipped["thresholds"]
    assert ClusteringSpec().model_dump() == shipped["clustering"]


def test_review_zero_keeps_every_candidate_pair(tmp_path: Path) -> None:
    rules = tmp_path / "rules.yaml"
    rules.write_text(
        f"extends: {RULES}\nmatching:\n  thresholds: {{auto_merge: 0.999, review: 0}}\n",
        encoding="utf-8",
    )
    out = tmp_path / "o"
    result = CliRunner().invoke(
        app, ["dedupe", str(SAMPLE), "--rules", str(rules), "--out", str(out), "-q"]
    )
    assert result.exit_code == 0, result.stderr
    summary = json.loads((out / "dedupe.json").read_text(encoding="utf-8"))
    pairs = pl.read_parquet(out / "pairs.parquet")
    assert summary["thresholds"]["review"] == 0
    assert pairs.height == summary["stats"]["candidate_pairs"] > 0
    assert pairs.get_column("match_probability").min() < 0.01  # the hopeless ones too


def test_review_parquet_names_the_guard_that_cut_each_link(tmp_path: Path) -> None:
    rules = tmp_path / "rules.yaml"
    rules.write_text(
        f"extends: {RULES}\nmatching:\n  clustering: {{max_cluster_size: 2}}\n", encoding="utf-8"
    )
    out = tmp_path / "o"
    result = CliRunner().invoke(
        app, ["dedupe", str(SAMPLE), "--rules", str(rules), "--out", str(out), "-q"]
    )
    assert result.exit_code == 0, result.stderr
    reasons = pl.read_parquet(out / "review.parquet").get_column("reason")
    assert reasons.len() > 0
    guards = ("cluster too large (", "chained (", "bridge: ", "cannot-link")
    assert all(r.startswith(guards) for r in reasons)
    assert reasons.str.starts_with("cluster too large (").any()
    assert not reasons.str.contains("too large, chained or").any()


def test_dedupe_json_estimates_how_many_matches_blocking_misses(tmp_path: Path) -> None:
    narrow = tmp_path / "narrow.yaml"
    narrow.write_text(f"extends: {RULES}\nmatching:\n  blocking: [[email_key]]\n", encoding="utf-8")
    estimates = {}
    for name, rules in (("company", RULES), ("email only", narrow)):
        out = tmp_path / name
        result = CliRunner().invoke(
            app, ["dedupe", str(SAMPLE), "--rules", str(rules), "--out", str(out), "-q"]
        )
        assert result.exit_code == 0, result.stderr
        stats = json.loads((out / "dedupe.json").read_text(encoding="utf-8"))["stats"]
        recall = stats["blocking_recall"]
        assert 0 <= recall["estimated_recall"] <= 1
        assert recall["sampled_records"] == 2000 and recall["loose_pairs_scored"] > 0
        assert stats["candidate_pairs_per_record"] == stats["candidate_pairs"] / stats["records"]
        estimates[name] = recall
    # sample_data: 97 % of true pairs are candidates under company.yaml, 60 % under e-mail alone
    assert estimates["company"]["estimated_recall"] > 0.95
    assert estimates["email only"]["estimated_recall"] < 0.8
    assert (
        estimates["email only"]["estimated_missed_pairs"]
        > 5 * estimates["company"]["estimated_missed_pairs"]
    )


def test_same_address_with_another_phone_is_a_level_of_its_own(tmp_path: Path) -> None:
    # a junior and a senior (same name and address, each their own mobile) and one customer
    # whose second record lacks the phone: only the first pair holds two different phones
    data = tmp_path / "c.csv"
    data.write_text(
        SAMPLE.read_text(encoding="utf-8").rstrip("\n") + "\n"
        "J1,crm,,Gerhard,Albrecht,,,+49 171 2345678,Hauptstr. 1,10115,Berlin,DE,,,\n"
        "J2,erp,,Gerhard,Albrecht,,,+49 172 9876543,Hauptstr. 1,10115,Berlin,DE,,,\n"
        "J3,erp,,Gerhard,Albrecht,,,,Hauptstr. 1,10115,Berlin,DE,,,\n",
        encoding="utf-8",
    )
    out = tmp_path / "o"
    result = CliRunner().invoke(
        app, ["dedupe", str(data), "--rules", str(RULES), "--out", str(out), "-q"]
    )
    assert result.exit_code == 0, result.stderr
    model = json.loads((out / "model.json").read_text(encoding="utf-8"))
    contact = {c["name"]: c for c in model["comparisons"]}["contact"]
    labels = [lv["label"] for lv in contact["levels"]]
    assert labels.index("same address and other phone") < labels.index("same address")

    def level(a: str, b: str) -> str:
        explained = CliRunner().invoke(app, ["explain", str(out), a, b, "--format", "json"])
        assert explained.exit_code == 0, explained.stderr
        return str(
            {c["name"]: c["level"] for c in json.loads(explained.stdout)["comparisons"]}["contact"]
        )

    assert level("J1", "J2").startswith("same address and other phone")
    assert level("J1", "J3").startswith("same address")
    assert not level("J1", "J3").startswith("same address and other phone")
