"""Property: a frame written as CSV reads back with every row and every value."""

from __future__ import annotations

import tempfile
from pathlib import Path

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from crmclean.io.readers import read_table
from crmclean.io.writers import write_csv

# Anything a CRM cell may hold: delimiters, quotes, line breaks, umlauts, leading zeros, formulas.
cell = st.one_of(
    st.none(),
    st.text(alphabet=st.sampled_from(list("ab Zü0+=-@,;|\t\"'\n\r.")), max_size=12),
)


@st.composite
def frames(draw: st.DrawFn) -> pl.DataFrame:
    width = draw(st.integers(2, 4))
    height = draw(st.integers(1, 30))
    columns = {
        f"col_{i}": draw(st.lists(cell, min_size=height, max_size=height)) for i in range(width)
    }
    return pl.DataFrame(columns, schema=dict.fromkeys(columns, pl.String))


def as_read(frame: pl.DataFrame) -> pl.DataFrame:
    """What the reader promises: empty fields come back as missing values."""
    return frame.with_columns(pl.col(pl.String).replace("", None))


@settings(max_examples=60, deadline=None)
@given(frame=frames())
def test_no_row_is_lost_through_csv(frame: pl.DataFrame) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "roundtrip.csv"
        write_csv(frame, path, spreadsheet_safe=False)
        result = read_table(path, delimiter=",")
    back = result.frame
    assert back.get_column("record_id").to_list() == [str(i) for i in range(1, frame.height + 1)]
    assert back.drop("record_id").rows() == as_read(frame).rows()


@settings(max_examples=60, deadline=None)
@given(frame=frames())
def test_no_row_is_lost_through_spreadsheet_safe_csv(frame: pl.DataFrame) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "roundtrip.csv"
        write_csv(frame, path)
        back = read_table(path).frame
    assert back.height == frame.height
    assert back.select(pl.all().is_null().sum()).row(0)[1:] == as_read(frame).select(
        pl.all().is_null().sum()
    ).row(0)
