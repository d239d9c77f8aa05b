"""Values a rule file took from the environment (`${env.X}`) reach no output.

A rule file may read only variables whose names start with CRMCLEAN_ (ENV_PREFIX): a token, a
host or an owner's address set for crmclean, never the rest of the environment. What a run shows
or writes (stderr, console tables, JUnit, JSON, violation files, summaries, reports, the
rule-file digest) carries `${env.X}` in place of such a value, also inside a longer text
(`rid${env.X}`). A value shorter than MIN_SUBSTRING characters is replaced only as a whole word,
so `${env.CRMCLEAN_N}=1` does not turn every "1" of "10" into a placeholder.

Values of the rule files loaded by the running command are remembered here (remember()), so the
CLI's output streams (ScrubbedStream) can replace them in everything they print.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, TextIO

import polars as pl

ENV_PREFIX = "CRMCLEAN_"
MIN_SUBSTRING = 4

_remembered: dict[str, str] = {}


def readable(name: str) -> bool:
    """Whether a rule file may read the environment variable `name`."""
    return name.startswith(ENV_PREFIX)


def remember(env_values: Mapping[str, str]) -> None:
    """Values of a loaded rule file, kept out of what the running command prints."""
    _remembered.update({k: v for k, v in env_values.items() if v})


def forget_all() -> None:
    _remembered.clear()


def _pattern(env_values: Mapping[str, str]) -> re.Pattern[str] | None:
    values = sorted({v for v in env_values.values() if v}, key=len, reverse=True)
    if not values:
        return None
    parts = [
        re.escape(v)
        if len(v) >= MIN_SUBSTRING
        else rf"(?<![A-Za-z0-9]){re.escape(v)}(?![A-Za-z0-9])"
        for v in values
    ]
    return re.compile("|".join(parts))


def scrub_text(text: str, env_values: Mapping[str, str] | None = None) -> str:
    """`text` with every env value (default: the remembered ones) replaced by `${env.X}`."""
    values = _remembered if env_values is None else env_values
    result = scrub(text, values)
    return result if isinstance(result, str) else text


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
    frame: pl.DataFrame, columns: list[str] | None, env_values: Mapping[str, str]
) -> pl.DataFrame:
    """String columns (default: all) scrubbed; long values replaced vectorised, short ones as
    whole words, worked out once per distinct value (messages repeat per row)."""
    if _pattern(env_values) is None:
        return frame
    names = [
        n
        for n in (frame.columns if columns is None else columns)
        if n in frame.columns and frame.schema[n] == pl.String
    ]
    long = sorted(
        ((k, v) for k, v in env_values.items() if len(v) >= MIN_SUBSTRING),
        key=lambda kv: -len(kv[1]),
    )
    short = {k: v for k, v in env_values.items() if v and len(v) < MIN_SUBSTRING}
    updates = []
    for name in names:
        expr = pl.col(name)
        for key, value in long:
            expr = expr.str.replace_all(value, f"${{env.{key}}}", literal=True)
        updates.append(expr)
    frame = frame.with_columns(updates) if updates else frame
    if short:
        updates = []
        for name in names:
            distinct = frame.get_column(name).drop_nulls().unique().to_list()
            changed = {v: s for v in distinct if (s := scrub(v, short)) != v}
            if changed:
                updates.append(pl.col(name).replace(changed))
        frame = frame.with_columns(updates) if updates else frame
    return frame


class ScrubbedStream:
    """A text stream (stdout, stderr) that writes every remembered env value as `${env.X}`."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream

    def write(self, text: Any) -> int:
        if isinstance(text, str) and _remembered:
            text = scrub_text(text)
        return self._stream.write(text)

    def __getattr__(self, name: str) -> Any:  # flush, isatty, encoding, fileno ...
        if name == "buffer":  # bytes written there would pass unscrubbed
            raise AttributeError(name)
        return getattr(self._stream, name)
