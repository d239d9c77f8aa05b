"""The files a run writes for the duplicate check at entry (crmclean.core.matching.lookup_tables)
and their reading: `match` and `serve` load them instead of hashing and counting a million
records again. A folder without them (written before they existed) is still read: the index is
then built as it was, and the caller says so.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from crmclean.core.contracts import RECORD_ID
from crmclean.core.masking import redact_engine_message
from crmclean.core.matching.lookup_tables import (
    KEY_INDEX_SCHEMA,
    TERM_COUNTS_SCHEMA,
    key_index,
    term_counts,
)
from crmclean.core.matching.spec import MatchingSpec
from crmclean.errors import InputError
from crmclean.io.regular_file import is_present
from crmclean.io.writers import write_parquet

KEY_INDEX = "match_index.parquet"
TERM_COUNTS = "term_counts.parquet"
FILES = (KEY_INDEX, TERM_COUNTS)


def write_match_tables(
    tmp: Path,
    cleaned: pl.DataFrame,
    keys: pl.DataFrame,
    crosswalk: pl.DataFrame,
    spec: MatchingSpec,
    index: pl.DataFrame | None = None,
) -> list[str]:
    """Write both tables into the run's temp folder; their names for the manifest. `cleaned` is
    clean.parquet's frame (its row order is the index's `_row`), `keys` the block keys the run
    keeps for the next night, `crosswalk` says which records were matched; `index`, when the
    keys were made from `cleaned` itself, is their index already (incremental.index_of)."""
    if index is None:
        index = key_index(keys, cleaned.get_column(RECORD_ID))
    write_parquet(index, tmp / KEY_INDEX)
    matched = cleaned  # every record has a golden record, unless some were set aside
    if crosswalk.height != cleaned.height:
        ids = crosswalk.select(pl.col(RECORD_ID).cast(pl.String))
        matched = cleaned.join(ids, on=RECORD_ID, how="semi")
    write_parquet(term_counts(matched, spec), tmp / TERM_COUNTS)
    return list(FILES)


def read_match_tables(folder: Path) -> tuple[pl.DataFrame, pl.DataFrame] | None:
    """The block-key index and term counts of the run in `folder`; None when it has neither
    (a run written before them); InputError (exit 3) when one is missing or not readable."""
    present = [name for name in FILES if is_present(folder / name, name)]
    if not present:
        return None
    if len(present) < len(FILES):
        missing = ", ".join(name for name in FILES if name not in present)
        raise InputError(
            f"{folder}: {missing} missing beside {', '.join(present)}",
            "run `crmclean run` again: the folder is not as the run wrote it",
        )
    return (
        _table(folder / KEY_INDEX, KEY_INDEX_SCHEMA),
        _table(folder / TERM_COUNTS, TERM_COUNTS_SCHEMA),
    )


def _table(path: Path, schema: pl.Schema) -> pl.DataFrame:
    try:
        frame = pl.read_parquet(path, columns=list(schema), glob=False)
        return frame.cast(schema)
    except (OSError, pl.exceptions.PolarsError) as exc:
        # polars quotes the cells it failed on (e-mails, names): never repeat them
        reason = redact_engine_message((str(exc).splitlines() or [type(exc).__name__])[0])
        columns = ", ".join(f"{name} {dtype}" for name, dtype in schema.items())
        raise InputError(
            f"{path}: not readable as the run's lookup table ({reason}; expected {columns})",
            "run `crmclean run` again: the folder is not as the run wrote it",
        ) from None
