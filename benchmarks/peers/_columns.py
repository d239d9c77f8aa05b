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
