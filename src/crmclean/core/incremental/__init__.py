"""Incremental nightly runs (`crmclean run --incremental`): only what changed since the previous
run is cleaned, validated, matched and clustered again; the rest is carried over."""

from crmclean.core.incremental.blocking import (
    KEYS_SCHEMA,
    IncrementalUnsafe,
    block_keys,
    index_of,
    keyed_rows,
    keys_of,
    pair_totals,
)
from crmclean.core.incremental.changes import HASH_SCHEMA, RecordChanges, content_hashes
from crmclean.core.incremental.run import run_incremental
from crmclean.core.incremental.state import IncrementalRun, PreviousState

__all__ = [
    "HASH_SCHEMA",
    "KEYS_SCHEMA",
    "IncrementalRun",
    "IncrementalUnsafe",
    "PreviousState",
    "RecordChanges",
    "block_keys",
    "content_hashes",
    "index_of",
    "keyed_rows",
    "keys_of",
    "pair_totals",
    "run_incremental",
]
