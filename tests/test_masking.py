"""Masking of personal values: shapes kept, values hidden, nulls stay null."""

from __future__ import annotations

import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from crmclean.core.masking import MaskKind, mask_series, mask_value


@pytest.mark.parametrize(
    ("kind", "value", "masked"),
    [
        ("email", "jane.doe@example.com", "j***@example.com"),
        ("phone", "+49 30 1234567", "+49 *** **67"),
        ("date", "1980-02-01", "****-**-**"),
        ("text", "Müller", "M***"),
    ],
)
def test_known_masks(kind: MaskKind, value: str, masked: str) -> None:
    assert mask_value(value, kind) == masked


@pytest.mark.parametrize("kind", ["email", "phone", "date", "text"])
def test_nulls_stay_null_for_every_kind(kind: MaskKind) -> None:
    out = mask_series(pl.Series([None, "x@y.z"], dtype=pl.String), kind)
    assert out[0] is None
    assert out[1] is not None


@given(
    st.text(
        alphabet=st.characters(exclude_categories=["Cs"], exclude_characters="*"),
        min_size=4,
        max_size=40,
    )
)
def test_masked_value_never_contains_the_whole_value(value: str) -> None:
    stripped = value.strip()
    kinds: list[MaskKind] = ["text", "phone", "date"]
    for kind in kinds:
        masked = mask_value(value, kind)
        if len(stripped) >= 4:
            assert masked is not None
            assert stripped not in masked
