"""Values a rule file took from the environment (`${env.X}`) never reach an output file.

A rule file may read a token, a host or an owner's address from the environment; what the run
writes (violation files, summaries, reports, the rule-file digest) shows `${env.X}` in its place.
Only whole words are replaced (not inside a longer run of letters and digits), so `${env.N}=1`
does not turn every "1" of a summary into a placeholder where it stands inside "10".
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import polars as pl


def _pattern(env_values: Mapping[str, str]) -> re.Pattern[str] | None:
    values = sorted({v for v in env_values.values() if v}, key=len, reverse=True)
    if not values:
        return None
    words = "|".join(re.escape(v) for v in values)
    return re.compile(rf"(?<![A-Za-z0-9])(?:{words})(?![A-Za-z0-9])")


def scrub(obj: Any, env_values: Mapping[str, str]) -> Any:
    """`obj` (JSON-like: dicts, lists, strings) with every env value replaced by `${env.X}`."""
    pattern = _pattern(env_values)
    if pattern is None:
        return obj
    name_of = {value: name for name, value in env_values.items() if value}

    def text(value: str) -> str:
        return pattern.sub(lambda m: f"${{env.{name_of[m.group(0)]}}}", value)

    def walk(value: Any) -> Any:
        if isinstance(value, str):
            return text(value)
        if isinstance(value, dict):
            return {walk(k): walk(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [walk(v) for v in value]
        return value

    return walk(obj)


def scrub_frame(
    frame: pl.DataFrame, columns: list[str], env_values: Mapping[str, str]
) -> pl.DataFrame:
    """String columns scrubbed, worked out once per distinct value (messages repeat per row)."""
    if _pattern(env_values) is None:
        return frame
    updates = []
    for name in columns:
        if name not in frame.columns or frame.schema[name] != pl.String:
            continue
        distinct = frame.get_column(name).drop_nulls().unique().to_list()
        mapping = {v: scrub(v, env_values) for v in distinct}
        changed = {k: v for k, v in mapping.items() if k != v}
        if changed:
            updates.append(pl.col(name).replace(changed))
    return frame.with_columns(updates) if updates else frame
