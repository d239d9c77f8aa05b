"""Movement amounts and dates parsed as whole columns: a decimal comma's dot only groups
thousands, ISO date-times are their day."""

from __future__ import annotations

import polars as pl
import pytest

from crmclean.core.value.movements import ISO_DATE, parse_amount, parse_date


@pytest.mark.parametrize(
    ("written", "amount"),
    [
        ("1.234,56", 1234.56),
        ("1234,56", 1234.56),
        ("1.234", 1234.0),
        ("1.234.567,8", 1234567.8),
        ("-12,5", -12.5),
        ("100", 100.0),
        ("100.50", None),  # a dot that groups no three digits: not 10050
        ("1.23,4", None),
        ("12.3456", None),
        ("1,2,3", None),
        ("", None),
    ],
)
def test_decimal_comma_takes_a_dot_only_as_thousands(written: str, amount: float | None) -> None:
    frame = pl.DataFrame({"a": [written]})
    assert frame.select(parse_amount("a", decimal_comma=True)).item() == amount


def test_a_decimal_dot_is_read_as_written_without_decimal_comma() -> None:
    frame = pl.DataFrame({"a": ["100.50", "1.234,56"]})
    assert frame.select(parse_amount("a", decimal_comma=False)).to_series().to_list() == [
        100.5,
        None,
    ]


def test_iso_date_times_are_their_day_unless_a_format_is_given() -> None:
    written = ["2026-01-01T10:00:00", "2026-01-02 23:59", "2026-01-03", "2026-01-04T", "x"]
    frame = pl.DataFrame({"d": written})
    days = frame.select(parse_date("d", ISO_DATE)).to_series().cast(pl.String).to_list()
    assert days == ["2026-01-01", "2026-01-02", "2026-01-03", None, None]
    german = frame.select(parse_date("d", "%d.%m.%Y")).to_series()
    assert german.null_count() == len(written)
