"""The household class (`training.household`) and the merge threshold it lets dedupe choose
(`thresholds.auto_merge: {precision: ...}`), end to end on generated data with its truth."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from crmclean.cli.main import app
from crmclean.synth import generate

ROOT = Path(__file__).resolve().parents[1]
RULES = ROOT / "rules" / "company.yaml"
HOUSEHOLD = (
    "matching:\n"
    "  training:\n"
    "    household: {shared: [last_name, contact], differ: [first_name, date_of_birth]}\n"
    "  thresholds: {auto_merge: {precision: 0.97}}\n"
)
runner = CliRunner()


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, pl.DataFrame]:
    folder = tmp_path_factory.mktemp("household")
    customers, truth = generate(4_000, 11)
    customers.write_csv(folder / "customers.csv")
    rules = folder / "rules.yaml"
    rules.write_text(f"extends: {RULES}\n{HOUSEHOLD}", encoding="utf-8")
    out = folder / "out"
    result = runner.invoke(
        app,
        ["dedupe", str(folder / "customers.csv"), "--rules", str(rules), "--out", str(out), "-q"],
    )
    assert result.exit_code == 0, result.stderr
    return out, truth


def _true_share(pairs: pl.DataFrame, truth: pl.DataFrame) -> float:
    truth = truth.select(pl.col("record_id").cast(pl.String), pl.col("entity_id").cast(pl.String))
    joined = pairs.join(
        truth.rename({"record_id": "record_id_l", "entity_id": "l"}), on="record_id_l"
    ).join(truth.rename({"record_id": "record_id_r", "entity_id": "r"}), on="record_id_r")
    return float((joined["l"] == joined["r"]).mean())  # type: ignore[arg-type]


def test_the_chosen_threshold_and_its_estimate_are_reported_and_near_the_truth(
    run: tuple[Path, pl.DataFrame],
) -> None:
    out, truth = run
    summary = json.loads((out / "dedupe.json").read_text(encoding="utf-8"))
    chosen = summary["stats"]["auto_merge"]
    assert chosen["estimated_by"] == "household classes" and chosen["precision_target"] == 0.97
    assert 0.5 <= chosen["chosen"] <= 0.999 and chosen["bound"] in {"target", "floor", "ceiling"}
    pairs = pl.read_parquet(out / "pairs.parquet")
    merged = pairs.filter(pl.col("match_probability") >= chosen["chosen"])
    assert merged.height == chosen["pairs_at_or_above"]
    # the model's estimate, read without labels, is within 0.03 of the share the truth gives
    assert abs(_true_share(merged, truth) - chosen["estimated_precision"]) < 0.03
    assert chosen["estimated_precision"] >= 0.97 or chosen["bound"] == "ceiling"
    household = summary["stats"]["training"]["household"]
    assert household and household[0]["used"], summary["warnings"]


def test_the_model_keeps_what_scoring_and_the_choice_need(
    run: tuple[Path, pl.DataFrame], tmp_path: Path
) -> None:
    out, _ = run
    model = json.loads((out / "model.json").read_text(encoding="utf-8"))
    (household,) = model["household"]
    for key in ("h", "match_m", "unrelated"):
        assert set(household[key]) == {c["name"] for c in model["comparisons"]}
    assert 0 < household["match_share"] + household["blocked_share"] < 1
    assert household["unrelated_share"] > 0
    # scoring with the saved model gives the same pairs and the same choice
    again = tmp_path / "again"
    rules = out.parent / "rules.yaml"
    data = out.parent / "customers.csv"
    result = runner.invoke(
        app,
        ["dedupe", str(data), "--rules", str(rules), "--model", str(out / "model.json"),
         "--out", str(again), "-q"],
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    first = pl.read_parquet(out / "pairs.parquet")
    second = pl.read_parquet(again / "pairs.parquet")
    assert first.height == second.height  # the same pairs, equal but for rounding
    gap = (first["match_weight"] - second["match_weight"]).abs().max()
    assert isinstance(gap, float) and gap < 1e-9
    chosen = json.loads((again / "dedupe.json").read_text(encoding="utf-8"))["stats"]["auto_merge"]
    assert chosen["chosen"] == pytest.approx(
        json.loads((out / "dedupe.json").read_text(encoding="utf-8"))["stats"]["auto_merge"][
            "chosen"
        ]
    )


def test_explain_adds_the_household_and_blocked_pairs_lines_up(
    run: tuple[Path, pl.DataFrame],
) -> None:
    out, _ = run
    pairs = pl.read_parquet(out / "pairs.parquet").sort("match_weight")
    for a, b, weight in pairs.select("record_id_l", "record_id_r", "match_weight").rows()[:3]:
        result = runner.invoke(app, ["explain", str(out), a, b, "--format", "json"])
        assert result.exit_code == 0, result.stderr
        explanation = json.loads(result.stdout)
        assert explanation["household_weight"] is not None
        assert explanation["blocked_weight"] <= 0  # never surer, never less sure
        total = (
            explanation["prior_weight"]
            + sum(c["bayes_factor"] for c in explanation["comparisons"])
            + explanation["household_weight"]
            + explanation["blocked_weight"]
        )
        assert total == pytest.approx(weight) == pytest.approx(explanation["match_weight"])


def test_unknown_household_comparisons_are_a_located_rule_error(tmp_path: Path) -> None:
    rules = tmp_path / "rules.yaml"
    rules.write_text(
        f"extends: {RULES}\nmatching:\n  training:\n"
        "    household: {shared: [surname], differ: [first_name]}\n",
        encoding="utf-8",
    )
    result = runner.invoke(
        app,
        ["dedupe", str(ROOT / "sample_data" / "customers.csv"), "--rules", str(rules),
         "--out", str(tmp_path / "o")],
    )  # fmt: skip
    assert result.exit_code == 2
    assert "training.household names unknown comparisons: surname" in result.stderr


@pytest.mark.duckdb
def test_duckdb_scores_the_household_terms_as_polars_does(
    run: tuple[Path, pl.DataFrame], tmp_path: Path
) -> None:
    # engines/sql/scoring.py writes household_weight and the blocked-pairs cap in SQL
    out, _ = run
    result = runner.invoke(
        app,
        ["dedupe", str(out.parent / "customers.csv"), "--rules", str(out.parent / "rules.yaml"),
         "--out", str(tmp_path / "duck"), "--engine", "duckdb", "--memory", "1GB", "-q"],
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    keys = ["record_id_l", "record_id_r"]
    polars = pl.read_parquet(out / "pairs.parquet").sort(keys)
    duckdb = pl.read_parquet(tmp_path / "duck" / "pairs.parquet").sort(keys)
    assert polars.select(keys).equals(duckdb.select(keys))
    gap = (polars["match_weight"] - duckdb["match_weight"]).abs().max()
    assert isinstance(gap, float) and gap < 1e-9  # exp and ln may differ in the last bit
    clusters = [
        pl.read_parquet(p / "clusters.parquet").sort("record_id") for p in (out, tmp_path / "duck")
    ]
    assert clusters[0].equals(clusters[1])
