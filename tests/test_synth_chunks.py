"""`crmclean synth` of more rows than one part: generated and written part by part."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal
from typer.testing import CliRunner

from crmclean.cli import synth_cmd
from crmclean.cli.main import app
from crmclean.errors import UsageError
from crmclean.synth import generate_chunks, generate_detailed


def test_one_part_is_exactly_the_whole_generator() -> None:
    whole = generate_detailed(3000, seed=5)
    (part,) = generate_chunks(3000, seed=5, chunk_rows=3000)
    for name in ("customers", "truth", "entities", "defects", "differences"):
        assert_frame_equal(getattr(part, name), getattr(whole, name))


def test_parts_number_on_and_keep_mailboxes_apart() -> None:
    parts = list(generate_chunks(25_000, seed=5, chunk_rows=10_000))
    assert [p.customers.height for p in parts] == [10_000, 10_000, 5_000]
    customers = pl.concat(p.customers for p in parts)
    truth = pl.concat(p.truth for p in parts)
    entities = pl.concat(p.entities for p in parts)
    assert customers["customer_id"].is_unique().all()
    assert customers["customer_id"].max() == "C00025000"
    assert entities["entity_id"].is_unique().all()
    assert entities["records"].sum() == 25_000
    assert set(truth["entity_id"]) == set(entities["entity_id"])
    related = entities["related_entity_id"].drop_nulls()
    assert set(related) <= set(entities["entity_id"])
    # an entity's records all lie in one part
    assert truth.join(
        customers.select("customer_id").with_row_index("at"),
        left_on="record_id", right_on="customer_id",
    ).group_by("entity_id").agg((pl.col("at") // 10_000).n_unique().alias("parts"))[
        "parts"
    ].max() == 1  # fmt: skip
    owners = pl.concat(
        p.mailboxes.unique().to_frame().with_columns(part=pl.lit(i)) for i, p in enumerate(parts)
    )
    assert owners["email"].is_unique().all()  # no address in two parts
    # each part draws its own people, not the first part's again
    first, second = (p.customers["last_name"].head(1000).to_list() for p in parts[:2])
    assert first != second


def test_parts_need_a_size() -> None:
    with pytest.raises(UsageError):
        next(generate_chunks(10, chunk_rows=0))


def test_cli_writes_parts_into_one_file_each(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(synth_cmd, "CHUNK_ROWS", 2000)
    out = tmp_path / "synth"
    args = ["synth", "-n", "5000", "--seed", "3", "--out", str(out), "--format", "both", "-q"]
    run = CliRunner().invoke(app, args)
    assert run.exit_code == 0, run.output
    parts = list(generate_chunks(5000, seed=3, chunk_rows=2000))
    customers = pl.concat(p.customers for p in parts)
    assert_frame_equal(pl.read_csv(out / "customers.csv", infer_schema=False), customers)
    assert_frame_equal(pl.read_parquet(out / "customers.parquet"), customers)
    for name in ("truth", "defects", "differences"):
        expected = pl.concat(getattr(p, name) for p in parts)
        assert_frame_equal(pl.read_csv(out / f"{name}.csv", infer_schema=False), expected)
    assert not any(p.name.endswith(".parts") for p in out.iterdir())
    stats = json.loads((out / "synth.json").read_text())
    entities = pl.concat(p.entities for p in parts)
    assert stats["records"] == 5000
    assert stats["entities"] == entities.height
    assert sum(stats["entity_kinds"].values()) == entities.height
    assert (
        stats["defects"]
        == sum(stats["defect_kinds"].values())
        == sum(p.defects.height for p in parts)
    )
    again = tmp_path / "again"
    assert CliRunner().invoke(app, [*args[:-3], "--out", str(again), "-q"]).exit_code == 0
    assert (again / "customers.csv").read_bytes() == (out / "customers.csv").read_bytes()


def test_cli_orders_are_limited_to_one_part(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(synth_cmd, "CHUNK_ROWS", 100)
    run = CliRunner().invoke(app, ["synth", "-n", "300", "--orders", "--out", str(tmp_path / "o")])
    assert run.exit_code == 2
    assert "--orders: at most 100 rows" in run.output
    assert not (tmp_path / "o").exists()
