"""Read the steward decisions file (core.matching.decisions describes it), the same way for
`dedupe`, `run`, `review` and `explain`: a file that cannot be read is exit 3, rows that are
not decisions are exit 2 naming the file and lines."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from crmclean.core.matching import decisions as decisions_
from crmclean.errors import InputError, UsageError
from crmclean.io.named_files import DECISIONS_FILE, checked_named_file
from crmclean.io.regular_file import require_regular_file


def read_decisions_file(path: Path) -> pl.DataFrame:
    """The decisions log as text columns; an empty or header-only file is no decisions yet."""
    # a FIFO or device there is an error (exit 3), never a hang or "no decisions"
    if require_regular_file(path, "decisions file").st_size == 0:
        return decisions_.empty()
    checked_named_file(path, DECISIONS_FILE)  # a .csv of bounded size, even behind a link
    try:
        frame = pl.read_csv(path, infer_schema=False, encoding="utf8", glob=False)
    except OSError as exc:
        raise InputError(f"{path}: cannot read the decisions file: {exc.strerror or exc}") from None
    except pl.exceptions.PolarsError as exc:
        raise InputError(f"{path}: not a readable decisions CSV ({exc})") from None
    problems = decisions_.problems(frame)
    if problems:
        raise UsageError(
            f"{path}: " + "; ".join(problems),
            "fix or remove the offending rows (see docs/matching.md#decisions)",
        )
    return frame
