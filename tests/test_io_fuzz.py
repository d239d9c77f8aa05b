"""Whatever bytes a file holds, reading it ends in a frame or an InputError, never a traceback;
and the two ways of counting a record's fields agree."""

from __future__ import annotations

import tempfile
from pathlib import Path

import polars as pl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crmclean.errors import InputError
from crmclean.io.csv_reader import CsvSource, _counts_by_csv_module, _counts_by_line, _polars_read
from crmclean.io.readers import read_table
from crmclean.io.sniff import Encoding

# Bytes close to CSV (delimiters, quotes, line breaks, umlauts in two encodings) and raw noise.
csvish = st.lists(
    st.sampled_from(
        [b"a", b"1", b",", b";", b"\t", b'"', b"\n", b"\r\n", b"\r", b" ", b"\xc3\xbc", b"\xfc"]
    ),
    max_size=80,
).map(b"".join)
noise = st.binary(max_size=200)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(body=st.one_of(csvish, noise), header=st.sampled_from([b"", b"id,name\n", b"a;b;c\n"]))
def test_any_bytes_give_a_frame_or_an_input_error(body: bytes, header: bytes) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "fuzz.csv"
        path.write_bytes(header + body)
        try:
            result = read_table(path)
        except InputError as exc:
            assert str(exc).startswith(str(path)), str(exc)
            assert "\n" not in exc.message
            return
    assert result.frame.columns[0] == "record_id"
    assert result.frame.height == result.info.rows > 0


# Cells of quotes, delimiters and line breaks (whitespace-only cells are left out: a quoted
# blank line is read as a blank line by one counter and as a one-field row by the other).
tokens = st.sampled_from(["a", "1", ",", '"', '""', "ü", "\n", ";", "|"])


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=st.lists(st.lists(tokens, max_size=10).map("".join), min_size=1, max_size=6))
def test_line_counter_agrees_with_the_csv_module(rows: list[str]) -> None:
    """The vectorised per-line field count gives what the csv module gives, where both apply."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "x.csv"
        path.write_text("a,b,c\n" + "\n".join(rows) + "\n", encoding="utf-8")
        src = CsvSource(path, Encoding("utf-8", True), ",", ["a", "b", "c"])
        try:
            frame = _polars_read(src)
        except pl.exceptions.PolarsError:
            return  # malformed for polars: neither counter is asked
        fast = _counts_by_line(src, frame, pl.Series([True] * frame.height))
        slow = _counts_by_csv_module(src, frame)
    if fast is not None and len(slow) == frame.height:
        assert fast.tolist() == slow.tolist()


def test_line_counter_is_used_for_one_line_records(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_text('a|b|c\n"x|y"|2|\n   \n"p|q"|\n', encoding="utf-8")
    src = CsvSource(path, Encoding("utf-8", True), "|", ["a", "b", "c"])
    frame = _polars_read(src)
    counts = _counts_by_line(src, frame, pl.Series([True] * frame.height))
    assert counts is not None and counts.tolist() == [3, 0, 2]
