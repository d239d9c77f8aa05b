"""Movement ids in a run with a `sources:` section. A movement table keyed per source system holds
each system's own ids (`4711` with system `crm`); the run's records are `crm:4711`. This module
makes a movement's id the run's record id exactly as the sources section does
(crmclean.core.sources: `<source>:<own id>`), and tells a system that is no configured source.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import polars as pl

from crmclean.core.contracts import SOURCE_SEPARATOR

UNKNOWN_SOURCE = "unknown source system"


def source_names(spellings: Iterable[str], sources: Sequence[str]) -> dict[str, str | None]:
    """Each spelling of a system in a movement table, as the configured source it names: trimmed,
    the exact name, else the one source of that name compared case-blind; None for no source."""
    exact = set(sources)
    blind: dict[str, list[str]] = {}
    for name in sources:
        blind.setdefault(name.lower(), []).append(name)
    named: dict[str, str | None] = {}
    for spelled in spellings:
        trimmed = spelled.strip()
        if trimmed in exact:
            named[spelled] = trimmed
        else:
            found = blind.get(trimmed.lower(), [])
            named[spelled] = found[0] if len(found) == 1 else None
    return named


def run_id(own_id: pl.Expr, source: pl.Expr) -> pl.Expr:
    """The run's record id of a system's own id, `<source>:<own id>`; null where either is."""
    return pl.concat_str([source, pl.lit(SOURCE_SEPARATOR), own_id])
