"""What `review --import` refuses before a decision reaches the decisions file: an empty record
id, a pair naming a record the run does not hold, or a record paired with itself. Each would
stop the next `run`; here it is exit 2 with the line of the imported file."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import polars as pl

from crmclean.core.contracts import PAIR_KEYS
from crmclean.errors import UsageError


def refuse_pairs(
    rows: pl.DataFrame,
    known: pl.Series,
    locate: Callable[[int], str | None],
    source: Path,
) -> None:
    """`rows` holds `__row` (0-based data row of the file) and the two record ids."""
    left, right = pl.col(PAIR_KEYS[0]), pl.col(PAIR_KEYS[1])
    known_ids = known.implode()
    checks = [
        (
            left.is_null() | right.is_null() | (left == "") | (right == ""),
            "a record id is empty (record_id_l {l!r}, record_id_r {r!r})",
            "fill in both record ids as the export wrote them, or delete the row",
        ),
        (left == right, "pairs record {l!r} with itself", "a decision needs two records"),
        (
            ~left.is_in(known_ids) | ~right.is_in(known_ids),
            "names a record the run does not hold ({l!r}, {r!r})",
            "import only the queue this run exported (`crmclean review OUT --format csv`)",
        ),
    ]
    for condition, problem, hint in checks:
        bad = rows.filter(condition.fill_null(True))
        if bad.height:
            index, low, high = bad.select("__row", *PAIR_KEYS).row(0)
            where = locate(index) or f"{source} row {index + 1}"
            more = f" (and {bad.height - 1} more row(s))" if bad.height > 1 else ""
            raise UsageError(f"{where}: {problem.format(l=low, r=high)}{more}", hint)
