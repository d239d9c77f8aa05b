"""The fused clean of the duplicate check at entry (core/entry_clean.py) gives the values
cleaning.clean gives, record by record and for a batch, on the sample and its defects."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from crmclean.config import load_rules
from crmclean.core.cleaning import clean
from crmclean.core.contracts import RECORD_ID
from crmclean.core.entry_check import matching_rules
from crmclean.core.entry_clean import clean_fused
from crmclean.core.standardise.column_types import apply_types

ROOT = Path(__file__).resolve().parents[1]
RULES = ROOT / "rules" / "company.yaml"
SAMPLE = ROOT / "sample_data" / "customers.csv"


def _typed(rows: pl.DataFrame) -> pl.DataFrame:
    rules = load_rules(RULES).rules
    types = {name: spec.type for name, spec in rules.columns.items()}
    frame = rows.select(pl.col("customer_id").alias(RECORD_ID), pl.all())
    typed, _ = apply_types(frame, types, rules.dataset.null_tokens)
    return typed


@pytest.fixture(scope="module")
def rows() -> pl.DataFrame:
    sample = pl.read_csv(SAMPLE, infer_schema=False)
    defects = pl.read_csv(ROOT / "sample_data" / "defects.csv").get_column("record_id")
    # every record with a known defect, and others, so each step meets odd values too
    return pl.concat(
        [sample.filter(pl.col("customer_id").is_in(defects.implode())).head(150), sample.head(50)]
    )


@pytest.mark.parametrize("cut", [False, True], ids=["whole rule file", "matching's columns"])
def test_fused_clean_gives_cleanings_values(rows: pl.DataFrame, cut: bool) -> None:
    rules = load_rules(RULES).rules
    assert rules.matching is not None
    if cut:
        rules = matching_rules(rules, rules.matching)
    typed = _typed(rows)
    assert_frame_equal(clean_fused(typed, rules), clean(typed, rules, changes=False).frame)
    for at in range(0, typed.height, 10):  # one record at a time, as a lookup cleans it
        one = typed.slice(at, 1)
        assert_frame_equal(clean_fused(one, rules), clean(one, rules, changes=False).frame)
