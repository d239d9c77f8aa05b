"""A first name reduced to an initial (J. for John) is its own level in company.yaml (issue 10),
weaker than the same name and far from a disagreement: through the CLI, on the sample data
with copies whose first name is only an initial."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
from typer.testing import CliRunner

from crmclean.cli.main import app

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "sample_data" / "customers.csv"
RULES = ROOT / "rules" / "company.yaml"


def test_an_initial_agrees_with_the_full_first_name(tmp_path: Path) -> None:
    customers = pl.read_csv(SAMPLE, infer_schema_length=0)
    originals = customers.filter(
        (pl.col("first_name").str.len_chars() > 3) & pl.col("email").is_not_null()
    ).head(40)
    copies = originals.with_columns(
        (pl.col("customer_id") + "-I").alias("customer_id"),
        (pl.col("first_name").str.slice(0, 1) + ".").alias("first_name"),
    )
    data = tmp_path / "customers.csv"
    pl.concat([customers, copies]).write_csv(data)
    out = tmp_path / "out"
    result = CliRunner().invoke(
        app, ["dedupe", str(data), "--rules", str(RULES), "--out", str(out), "--quiet"]
    )
    assert result.exit_code == 0, result.stderr

    model = json.loads((out / "model.json").read_text(encoding="utf-8"))
    first = next(c for c in model["comparisons"] if c["name"] == "first_name")
    levels = {lv["label"]: lv for lv in first["levels"]}
    initial = levels["initial agrees"]
    assert levels["else (disagree)"]["bayes_factor"] < initial["bayes_factor"]
    assert initial["bayes_factor"] <= levels["exact"]["bayes_factor"]

    ids = pl.read_parquet(out / "clean.parquet").select("record_id", "customer_id")
    named = (
        pl.read_parquet(out / "pairs.parquet")
        .join(ids.rename({"record_id": "record_id_l", "customer_id": "a"}), on="record_id_l")
        .join(ids.rename({"record_id": "record_id_r", "customer_id": "b"}), on="record_id_r")
    )
    found = named.filter((pl.col("a") + "-I" == pl.col("b")) | (pl.col("b") + "-I" == pl.col("a")))
    assert found.height == originals.height  # every copy met its original, scored >= review
    assert (found.get_column("gamma_first_name") == initial["gamma"]).all()
    clusters = pl.read_parquet(out / "clusters.parquet").join(ids, on="record_id")
    cluster_of = dict(clusters.select("customer_id", "cluster_id").iter_rows())
    merged = sum(cluster_of[a] == cluster_of[a + "-I"] for a in originals["customer_id"])
    assert merged == originals.height
