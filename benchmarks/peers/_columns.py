"""Shared by the peer scripts: which input column plays which role, and how to read the input.

Runs under the benchmark virtualenv (.bench-venv), so it uses the standard library only (the
readers import duckdb / pyarrow, which the peers bring). A peer is configured once, in terms of
roles (first_name, email, ...); each data set only says which of its columns plays which role
(`--columns '{"first_name": "given_name", ...}'`). A role left out is absent from that data set:
every comparison, matchkey, blocking rule and training rule that needs it is dropped, the rest
stays as written. That is the only adaptation a data set gets.
"""

from __future__ import annotations

import csv
import json
from collections import Counter
from pathlib import Path

# The customer columns rules/company.yaml matches on, by their own-set names.
ROLES = (
    "first_name",
    "last_name",
    "company",
    "email",
    "phone",
    "street",
    "postcode",
    "city",
    "date_of_birth",
)


# The profile step of both peers' docs (look at each column's most frequent values; null the
# placeholders), done the same way on every set so that no set gets a hand-picked list: in the
# columns that claim identity (e-mail; for Splink also phone and date of birth, which it
# compares) a value held by more than PLACEHOLDER_MIN_COUNT records and by more than
# PLACEHOLDER_FACTOR times as many records as the column's values on average is a placeholder.
PLACEHOLDER_MIN_COUNT = 50
PLACEHOLDER_FACTOR = 20


def placeholders(values: list[str | None]) -> set[str]:
    """The values far more frequent than chance in one column (see PLACEHOLDER_*)."""
    counts = Counter(v for v in values if v is not None)
    if not counts:
        return set()
    mean = sum(counts.values()) / len(counts)
    floor = max(PLACEHOLDER_MIN_COUNT, PLACEHOLDER_FACTOR * mean)
    return {value for value, count in counts.items() if count > floor}


def parse_columns(text: str | None) -> dict[str, str]:
    """Role -> column from the --columns JSON; without it every role keeps its own name."""
    if not text:
        return {role: role for role in ROLES}
    columns = json.loads(text)
    unknown = sorted(set(columns) - set(ROLES))
    if unknown:
        raise SystemExit(f"--columns: unknown role(s) {unknown}; roles are {list(ROLES)}")
    return {str(role): str(column) for role, column in columns.items()}


def duckdb_source(path: Path) -> str:
    """A DuckDB table expression reading the input; CSV is read as text, like a parquet of text."""
    if path.suffix == ".csv":
        return f"read_csv('{path}', all_varchar = true, header = true)"
    return f"read_parquet('{path}')"


def arrow_table(path: Path):  # type: ignore[no-untyped-def]
    """The input as a pyarrow table; CSV columns are all read as text (no type guessing)."""
    import pyarrow as pa
    import pyarrow.csv as pv
    import pyarrow.parquet as pq

    if path.suffix != ".csv":
        return pq.read_table(path)
    with path.open(encoding="utf-8", newline="") as handle:
        header = next(csv.reader(handle))

    options = pv.ConvertOptions(
        column_types=dict.fromkeys(header, pa.string()), strings_can_be_null=True
    )
    return pv.read_csv(path, convert_options=options)
