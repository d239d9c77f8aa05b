"""Do two `crmclean run --out` folders hold the same results? For speed work: the outputs before
and after a change must not differ.

Every Parquet table must be frame-equal (values, types, row order) and is said to be
byte-identical where it is; golden.csv must be byte-identical; the JSON summaries equal apart
from times and paths. Runs without --as-of differ in not_in_future's message (it names the
clock to the minute): `--clock` compares messages with the minute left out.

    .venv/bin/python benchmarks/same_outputs.py before/ after/ [--clock]
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Any

import polars as pl
from polars.testing import assert_frame_equal

CLOCK = r"after \d{4}-\d\d-\d\d \d\d:\d\d"
NOT_COMPARED = {"started_at", "finished_at", "steps", "crmclean_version", "rule_file"}
UNORDERED = {"blocking_keys.parquet"}  # main wrote it in no stable order before 8f29e99


def _table(path: Path, clock: bool) -> pl.DataFrame:
    frame = pl.read_parquet(path)
    if path.name in UNORDERED:
        frame = frame.sort(frame.columns)
    if clock and "message" in frame.columns:
        frame = frame.with_columns(pl.col("message").str.replace(CLOCK, "after CLOCK"))
    return frame


def _summary(path: Path, clock: bool) -> Any:
    text = path.read_text(encoding="utf-8")
    return _without_times(json.loads(re.sub(CLOCK, "after CLOCK", text) if clock else text))


def _without_times(value: Any) -> Any:
    if isinstance(value, dict):
        return {
            k: _without_times(v)
            for k, v in value.items()
            if k not in NOT_COMPARED and "second" not in k
        }
    if isinstance(value, list):
        return [_without_times(v) for v in value]
    return value


def compare(before: Path, after: Path, clock: bool) -> list[str]:
    """One line per output: ok, or what differs."""
    lines = []
    names = {p.name for p in before.iterdir()} | {p.name for p in after.iterdir()}
    for name in sorted(n for n in names if n.endswith((".parquet", ".csv", ".json"))):
        a, b = before / name, after / name
        if not (a.exists() and b.exists()):
            lines.append(f"DIFF {name}: only in {'before' if a.exists() else 'after'}")
        elif a.read_bytes() == b.read_bytes():
            lines.append(f"ok {name} (byte-identical)")
        elif name.endswith(".parquet"):
            try:
                assert_frame_equal(_table(a, clock), _table(b, clock))
                lines.append(f"ok {name} (frame-equal)")
            except AssertionError as exc:
                lines.append(f"DIFF {name}: {str(exc).splitlines()[0]}")
        elif name.endswith(".json") and _summary(a, clock) == _summary(b, clock):
            lines.append(f"ok {name} (equal apart from times)")
        else:
            lines.append(f"DIFF {name}")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("before", type=Path)
    parser.add_argument("after", type=Path)
    parser.add_argument("--clock", action="store_true", help="ignore not_in_future's minute")
    args = parser.parse_args()
    lines = compare(args.before, args.after, args.clock)
    print("\n".join(lines))
    sys.exit(1 if any(line.startswith("DIFF") for line in lines) else 0)


if __name__ == "__main__":
    main()
