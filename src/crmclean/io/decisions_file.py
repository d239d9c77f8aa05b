"""Read the steward decisions file (core.matching.decisions describes it), the same way for
`dedupe`, `run`, `review` and `explain`: a file that cannot be read is exit 3, rows that are
not decisions are exit 2 naming the file and lines."""

from __future__ import annotations

import csv
from pathlib import Path

import polars as pl

from crmclean.core.matching import decisions as decisions_
from crmclean.errors import InputError, UsageError
from crmclean.io.named_files import DECISIONS_FILE, checked_named_file
from crmclean.io.regular_file import require_regular_file


def read_decisions_file(path: Path) -> pl.DataFrame:
    """The decisions log as text columns; an empty or header-only file is no decisions yet."""
    # a FIFO or device there is an unreadable input (exit 3), never a hang or "no decisions";
    # then the kind, before the size: /proc/self/environ (size 0) or /etc/passwd is exit 2
    size = require_regular_file(path, "decisions file").st_size
    checked_named_file(path, DECISIONS_FILE)  # a .csv of bounded size, even behind a link
    if size == 0:
        return decisions_.empty()
    try:
        frame = pl.read_csv(path, infer_schema=False, encoding="utf8", glob=False)
    except OSError as exc:
        raise InputError(f"{path}: cannot read the decisions file: {exc.strerror or exc}") from None
    except pl.exceptions.PolarsError:
        # polars' message quotes the offending row: only its line number is given
        raise InputError(
            f"{path}: not a readable decisions CSV ({_first_bad_line(path)})",
            "each row needs record_id_l,record_id_r,decision; quote values that hold commas",
        ) from None
    problems = decisions_.problems(frame)
    if problems:
        raise UsageError(
            f"{path}: " + "; ".join(problems),
            "fix or remove the offending rows (see docs/matching.md#decisions)",
        )
    return frame


def _first_bad_line(path: Path) -> str:
    """Where the file stops being a CSV of the header's width (a loop, but only on the error
    path); the content of that line is never quoted."""
    try:
        with path.open(encoding="utf-8", newline="") as handle:
            reader = csv.reader(handle, strict=True)
            width = len(next(reader, []))
            for row in reader:
                if len(row) != width:
                    return f"line {reader.line_num}: {len(row)} fields, the header has {width}"
    except csv.Error:
        return f"line {reader.line_num}: unbalanced quotes or a stray character"
    except UnicodeDecodeError as exc:
        return f"not UTF-8 text at byte {exc.start}"
    return "malformed CSV"
