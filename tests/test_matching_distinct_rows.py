"""Levels read a table of distinct values through row positions (the 1M budget of issue 10):
the same gammas as over materialised value pairs, and dedupe matches the frame `clean` writes
although it records no per-cell changes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl
import pytest
from polars.testing import assert_frame_equal
from typer.testing import CliRunner

from crmclean.cli.main import app
from crmclean.config import load_rules
from crmclean.config.rule_setup import prepare
from crmclean.core.cleaning import clean
from crmclean.core.matching import _prepare
from crmclean.core.matching.blocking import block
from crmclean.core.matching.comparators import PairValues
from crmclean.core.matching.comparing import (
    CodeCache,
    compare,
    level_of_values,
    unique_pairs,
    used_columns,
    value_codes,
)
from crmclean.core.matching.spec import ComparisonSpec
from crmclean.core.matching.u_probabilities import random_pairs

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "sample_data" / "customers.csv"
RULES = ROOT / "rules" / "company.yaml"


@pytest.fixture(scope="module")
def matched() -> tuple[pl.DataFrame, pl.DataFrame, list[ComparisonSpec]]:
    """The sample data cleaned and prepared for matching, its blocked and random pairs."""
    loaded = load_rules(RULES)
    rules = loaded.rules
    assert rules.matching is not None
    frame = prepare(loaded, SAMPLE).frame
    prepared = _prepare(clean(frame, rules, changes=False).frame, rules.matching)
    spec = rules.matching
    blocked = block(
        prepared, spec.blocking, max_pairs_per_rule=10**9, max_block_size=spec.max_block_size
    ).pairs.select("row_l", "row_r")
    pairs = pl.concat([blocked, random_pairs(prepared.height, 20_000, seed=3)]).unique()
    return prepared, pairs, spec.comparisons


def test_levels_over_distinct_rows_equal_levels_over_materialised_pairs(
    matched: tuple[pl.DataFrame, pl.DataFrame, list[ComparisonSpec]],
) -> None:
    frame, pairs, comparisons = matched
    row_l = pairs.get_column("row_l").to_numpy().astype(np.int64)
    row_r = pairs.get_column("row_r").to_numpy().astype(np.int64)
    for comparison in comparisons:
        distinct, codes = value_codes(frame, used_columns(comparison))
        lo, hi, _ = unique_pairs(codes, row_l, row_r)
        materialised = level_of_values(comparison, distinct[lo], distinct[hi])
        by_rows = level_of_values(comparison, distinct, distinct, (lo, hi))
        assert by_rows.tolist() == materialised.tolist(), comparison.name
        assert len(set(by_rows.tolist())) > 2, comparison.name  # the pairs reach several levels


def test_a_shared_code_cache_gives_the_same_gammas_as_a_fresh_one(
    matched: tuple[pl.DataFrame, pl.DataFrame, list[ComparisonSpec]],
) -> None:
    frame, pairs, comparisons = matched
    shared = CodeCache()
    compare(frame, pairs.head(500), comparisons, shared)  # fills ids and term frequencies
    assert shared.value_ids and shared.term_frequencies
    fresh = compare(frame, pairs, comparisons)
    assert_frame_equal(compare(frame, pairs, comparisons, shared), fresh)


@pytest.mark.parametrize("case_sensitive", [False, True])
def test_equality_by_value_ids_follows_case_and_missing_values(case_sensitive: bool) -> None:
    table = pl.DataFrame({"v": ["Anna", "anna", None, "ANNA", "Bert", None]})
    rows_l = np.array([0, 0, 2, 2, 3, 4, 1], dtype=np.int64)
    rows_r = np.array([1, 3, 5, 0, 1, 4, 1], dtype=np.int64)
    values = PairValues.of_rows(table, rows_l, rows_r)
    left = table[rows_l]
    right = table[rows_r]
    if case_sensitive:
        expected = (left["v"] == right["v"]).fill_null(False).to_list()
    else:
        expected = (
            (left["v"].str.to_lowercase() == right["v"].str.to_lowercase()).fill_null(False)
        ).to_list()
    assert values.equal("v", case_sensitive).tolist() == expected
    assert values.present("v").tolist() == [True, True, False, False, True, True, True]


def test_clean_without_changes_gives_the_same_frame() -> None:
    loaded = load_rules(RULES)
    rules = loaded.rules
    frame = prepare(loaded, SAMPLE).frame
    full = clean(frame, rules)
    lean = clean(frame, rules, changes=False)
    assert full.changes.height > 0
    assert lean.changes.height == 0
    assert_frame_equal(lean.frame, full.frame)
    assert_frame_equal(lean.step_stats.drop("seconds"), full.step_stats.drop("seconds"))


def test_dedupe_matches_the_frame_that_clean_writes(tmp_path: Path) -> None:
    runner = CliRunner()
    for command in ("clean", "dedupe"):
        out = tmp_path / command
        args = [command, str(SAMPLE), "--rules", str(RULES), "--out", str(out), "--quiet"]
        result = runner.invoke(app, args)
        assert result.exit_code == 0, result.stderr
    assert_frame_equal(
        pl.read_parquet(tmp_path / "dedupe" / "clean.parquet"),
        pl.read_parquet(tmp_path / "clean" / "clean.parquet"),
    )
