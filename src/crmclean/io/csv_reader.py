"""CSV into an all-String polars frame, with problems reported at their line number.

polars parses; it cannot tell a short row from one whose last fields are empty, so when the
last column has empty cells the csv module counts the fields of every record (in C, no Python
loop per row) and ragged rows are reported with their physical line. Line numbers are only ever
computed on the error path.
"""

from __future__ import annotations

import csv
import io
import re
from array import array
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from operator import methodcaller
from pathlib import Path

import numpy as np
import polars as pl

from crmclean.errors import InputError
from crmclean.io.sniff import (
    DELIMITER_NAMES,
    SAMPLE_BYTES,
    Encoding,
    check_text,
    detect_encoding,
    guess_single_byte,
    header_names,
    mixed_encoding,
    sniff_delimiter,
)

Locate = Callable[[int], str]  # frame row index -> "path:line"


@dataclass(frozen=True)
class CsvSource:
    path: Path
    encoding: Encoding
    delimiter: str
    names: list[str]
    eol: str = "\n"  # "\r" for old Mac exports

    @contextmanager
    def lines(self) -> Iterator[Iterator[str]]:
        """The file's lines as polars sees them: split at `eol` only, the other break removed.

        polars keeps a lone CR inside an unquoted field; the csv module would end the record
        there. Removing it (C-level map, no Python per line) keeps both counting the same rows.
        """
        other = "\r" if self.eol == "\n" else "\n"
        with open(self.path, encoding=self.encoding.name, newline=self.eol) as handle:
            yield map(methodcaller("replace", other, ""), handle)

    def record_lines(self, index: int) -> tuple[int, int]:
        """First and last physical line of record `index` (0 = header). Error path only."""
        with self.lines() as handle:
            reader = csv.reader(handle, delimiter=self.delimiter)
            start = 1
            for position, _ in enumerate(reader):
                if position == index:
                    return start, reader.line_num
                start = reader.line_num + 1
        return start, start

    def quote_problem(self) -> tuple[int, str]:
        """Where strict CSV quoting first breaks, and how. Error path only."""
        with self.lines() as handle:
            reader = csv.reader(handle, delimiter=self.delimiter, strict=True)
            start = 1
            try:
                for _ in reader:
                    start = reader.line_num + 1
            except csv.Error as exc:
                if reader.line_num > start:
                    return start, "the quoted field starting here never closes"
                return start, str(exc)
        return start, "malformed quoting"

    def field_counts(self) -> np.ndarray:
        """Fields per record, header first; 0 for a blank line. C speed: map/len/array."""
        with self.lines() as handle:
            counts = array("q", map(len, csv.reader(handle, delimiter=self.delimiter)))
        return np.frombuffer(counts, dtype=np.int64)


def read_csv(
    path: Path, head: bytes, encoding: str | None, delimiter: str | None
) -> tuple[pl.DataFrame, CsvSource, Locate]:
    """Parse a CSV file into String columns named by its (validated) header."""
    enc = detect_encoding(path, head, encoding)
    text = head.decode(enc.name, errors="replace")
    check_text(path, text)
    if not text.strip():
        raise InputError(f"{path}: is empty (only blank lines)", "export the data again")
    chosen = delimiter or sniff_delimiter(text, path.suffix)
    eol = "\r" if "\r" in text and "\n" not in text else "\n"
    src = CsvSource(path, enc, chosen, header_names(path, text, chosen), eol)
    frame, src = _parse(src, head, given_encoding=encoding is not None)
    frame, kept = _drop_blank_and_ragged(frame, src)
    if frame.height == 0:
        raise InputError(f"{path}: has a header but no data rows", "export the data again")

    def locate(row: int) -> str:
        record = int(kept[row]) + 1 if kept is not None else row + 1
        return f"{path}:{src.record_lines(record)[0]}"

    return frame, src, locate


def _parse(src: CsvSource, head: bytes, given_encoding: bool) -> tuple[pl.DataFrame, CsvSource]:
    try:
        return _polars_read(src), src
    except pl.exceptions.PolarsError as exc:
        message = str(exc)
    if ("utf-8" in message or "utf8" in message) and src.encoding.fits_polars:
        # transcoded input is valid UTF-8, so this recursion ends after one step
        return _parse(_utf8_fallback(src, head, given_encoding), head, given_encoding)
    _raise_if_ragged(src, src.field_counts())
    line, problem = src.quote_problem()
    raise InputError(
        f"{src.path}:{line}: cannot be parsed as {_dialect(src)} CSV: {problem}",
        "check for stray or unclosed double quotes",
    )


def _polars_read(src: CsvSource) -> pl.DataFrame:
    source: Path | io.BytesIO = src.path
    if not src.encoding.fits_polars:
        # polars reads UTF-8 only: transcode in memory (see _transcoded for the cost)
        source = io.BytesIO(_transcoded(src))
    frame = pl.read_csv(
        source,
        separator=src.delimiter,
        has_header=True,
        infer_schema=False,
        empty_string_is_null=False,  # keep "" apart from null until blank lines are known
        truncate_ragged_lines=False,
        raise_if_empty=False,
        encoding="utf8",
        eol_char=src.eol,
        glob=False,  # an input named `[a].csv` is that file, not a pattern
    )
    frame.columns = src.names
    return frame


def _transcoded(src: CsvSource) -> bytes:
    """The file as UTF-8. Peak memory: the file twice (bytes and text), then text and UTF-8."""
    raw = src.path.read_bytes()
    try:
        text = raw.decode(src.encoding.name)
    except UnicodeDecodeError as exc:
        raise mixed_encoding(src.path, raw, exc.start, src.encoding.name) from None
    del raw
    return text.encode("utf-8")


def _utf8_fallback(src: CsvSource, head: bytes, given_encoding: bool) -> CsvSource:
    """Invalid UTF-8 after the sample: an ASCII-only sample means the file is single-byte."""
    raw = src.path.read_bytes()
    try:
        raw.decode(src.encoding.name)
    except UnicodeDecodeError as exc:
        if given_encoding or not head.isascii():
            raise mixed_encoding(src.path, raw, exc.start, src.encoding.name) from None
        name = guess_single_byte(raw[max(0, exc.start - SAMPLE_BYTES // 8) :])
        return CsvSource(src.path, Encoding(name, False), src.delimiter, src.names, src.eol)
    return src


def _drop_blank_and_ragged(
    frame: pl.DataFrame, src: CsvSource
) -> tuple[pl.DataFrame, np.ndarray | None]:
    """Blank lines are not records; a record with the wrong number of fields is an error."""
    if frame.height == 0:
        return frame, None
    # a short row always leaves the last column empty: only such rows need their fields counted
    candidates = frame.select(pl.col(src.names[-1]) == "").to_series()
    if not candidates.any():
        return _nulls_for_empty(frame), None
    records = _counts_by_line(src, frame, candidates)
    if records is None:
        records = _counts_by_csv_module(src, frame)
    _raise_if_ragged(src, np.concatenate([[len(src.names)], records]))
    if len(records) != frame.height:
        raise InputError(
            f"{src.path}: rows could not be counted consistently (polars read {frame.height}, "
            f"the csv module {len(records)})",
            "check quoting and line endings: mixed CR and LF?",
        )
    kept = np.flatnonzero(records > 0)
    if len(kept) < frame.height:
        frame = frame.filter(pl.Series(records > 0))
    return _nulls_for_empty(frame), kept


def _counts_by_line(
    src: CsvSource, frame: pl.DataFrame, candidates: pl.Series
) -> np.ndarray | None:
    """Fields per record from the physical lines, vectorised, when each record is one line.

    A line's quoted fields are cut out before its delimiters are counted. None when a field
    holds a line break (records and lines differ) or the file is not read natively; the csv
    module counts then.
    """
    if not src.encoding.fits_polars or any(src.eol in name for name in src.names):
        return None
    try:  # NUL never occurs in text, so every line is one field (the header's too)
        lines = pl.read_csv(
            src.path,
            has_header=False,
            separator="\x00",
            quote_char=None,
            infer_schema=False,
            new_columns=["line"],
            glob=False,
            empty_string_is_null=False,
            eol_char=src.eol,
        )
    except pl.exceptions.PolarsError:
        return None
    if lines.width != 1 or lines.height != frame.height + 1:
        return None  # a quoted line break adds a line: then records are not lines
    line = pl.col("line")
    delimiter = re.escape(src.delimiter)
    unquoted = line.str.replace_all(f'(^|{delimiter})"(?:[^"]|"")*"', "${1}")
    fields = unquoted.str.count_matches(src.delimiter, literal=True) + 1
    counted = (
        lines.slice(1)
        .filter(candidates)
        .select(pl.when(line.str.strip_chars() == "").then(0).otherwise(fields))
    )
    records = np.full(frame.height, len(src.names), dtype=np.int64)
    records[candidates.to_numpy()] = counted.to_series().to_numpy()
    return records


def _counts_by_csv_module(src: CsvSource, frame: pl.DataFrame) -> np.ndarray:
    """Fields per record from the csv module (quoted line breaks and all), blank lines as 0."""
    records = src.field_counts()[1:]
    if len(records) == frame.height and len(src.names) > 1:
        # a line of spaces is blank too, not a one-field record (a lone "" is a field)
        first = pl.col(src.names[0])
        spaces = frame.select((first.str.strip_chars() == "") & (first != "")).to_series()
        records = np.where((records == 1) & spaces.to_numpy(), 0, records)
    return records


def _raise_if_ragged(src: CsvSource, counts: np.ndarray) -> None:
    width = len(src.names)
    records = counts[1:]
    bad = np.flatnonzero((records != width) & (records > 0))
    if len(bad) == 0:
        return
    first = int(bad[0]) + 1
    start, end = src.record_lines(first)
    more = f"; {len(bad) - 1} more such rows" if len(bad) > 1 else ""
    quote_hint = (
        f"; the record runs from line {start} to {end}: an unclosed quote?" if end > start else ""
    )
    raise InputError(
        f"{src.path}:{start}: has {int(records[first - 1])} field(s), the header has {width}, "
        f"{_dialect(src)}{quote_hint}{more}",
        f"fix the row, or quote values that contain {src.delimiter!r}",
    )


def _dialect(src: CsvSource) -> str:
    return f"{DELIMITER_NAMES.get(src.delimiter, repr(src.delimiter))}-separated"


def _nulls_for_empty(frame: pl.DataFrame) -> pl.DataFrame:
    """An empty field is a missing value."""
    return frame.with_columns(pl.col(pl.String).replace("", None))
