"""Show a profile: a table per column for people, JSON for machines, and the suggested rules as
YAML that can be pasted into a rule file."""

from __future__ import annotations

import json
from typing import Any

import yaml
from rich.console import Console
from rich.table import Table

from crmclean.core.profile.model import ColumnProfile, Profile
from crmclean.io.readers import ReadInfo

SHOWN_SHAPES = 2
VALUE_WIDTH = 24


def profile_document(info: ReadInfo, profile: Profile) -> dict[str, Any]:
    """What `--format json` prints: the input's facts and the profile, stable key order."""
    return {"input": info.to_dict(), **profile.to_dict()}


def profile_json(info: ReadInfo, profile: Profile) -> str:
    return json.dumps(profile_document(info, profile), sort_keys=True, indent=2, ensure_ascii=False)


def render_profile(console: Console, info: ReadInfo, profile: Profile) -> None:
    console.print(_heading(info, profile), markup=False)
    table = Table(show_edge=False, pad_edge=False, header_style="bold")
    for title, justify in [
        ("column", "left"),
        ("looks like", "left"),
        ("null", "right"),
        ("distinct", "right"),
        ("length", "right"),
        ("shapes", "left"),
        ("top values", "left"),
    ]:
        table.add_column(title, justify=justify)  # type: ignore[arg-type]
    for column in profile.columns:
        table.add_row(*_cells(column))
    console.print(table)
    console.print()
    _print_placeholders(console, profile)
    console.print("Suggested rules (review before use):", markup=False)
    console.print(suggested_yaml(profile, info), markup=False, end="")


def _print_placeholders(console: Console, profile: Profile) -> None:
    """Values far more frequent than chance that look like filler: suggested as null tokens."""
    lines = [
        f"  {column.name}: {_cut(p.value)} ({p.count:,} rows where a typical value has "
        f"{p.expected:g}; {p.reason})" + ("" if p.suggested else " - masked, not suggested")
        for column in profile.columns
        for p in column.placeholders
    ]
    if lines:
        console.print("Placeholders (suggested as dataset.null_tokens below):", markup=False)
        console.print("\n".join(lines), markup=False)
        console.print()


def _heading(info: ReadInfo, profile: Profile) -> str:
    parts = [f"{info.path}: {info.format}", f"{info.rows:,} rows", f"{len(info.columns)} columns"]
    if info.encoding:
        parts.append(info.encoding)
    if info.delimiter:
        parts.append(f"delimiter {info.delimiter!r}")
    if profile.sampled_rows < profile.rows:
        parts.append(
            f"types judged on {profile.sampled_rows:,} sampled rows, "
            f"shapes on {profile.shape_rows:,}"
        )
    return ", ".join(parts)


def _cells(column: ColumnProfile) -> list[str]:
    """One row per column; lists go one item per line so narrow terminals stay readable."""
    looks = column.semantic_type or "text"
    if column.semantic_type and column.type_share < 1.0:
        looks += f" {column.type_share:.0%}"
    if column.pii:
        looks += "\npii, masked" if column.masked else "\npii"
    if column.min_length is None:
        length = "-"
    elif column.min_length == column.max_length:
        length = str(column.min_length)
    else:
        length = f"{column.min_length}-{column.max_length}"
    shapes = "\n".join(s.value or "" for s in column.shapes[:SHOWN_SHAPES])
    values = "\n".join(f"{_cut(v.value)} ({v.count:,})" for v in column.top_values)
    return [
        column.name,
        looks,
        f"{column.null_share:.1%}",
        f"{column.distinct:,}",
        length,
        shapes,
        values,
    ]


def _cut(value: str | None) -> str:
    text = "" if value is None else value.replace("\n", "⏎")
    return text if len(text) <= VALUE_WIDTH else text[: VALUE_WIDTH - 1] + "…"


class _Flow(dict[str, Any]):
    """A mapping written on one line: `- {type: length, min: 1, max: 40}`."""


class _Dumper(yaml.SafeDumper):
    pass


_Dumper.add_representer(
    _Flow, lambda dumper, data: dumper.represent_mapping("tag:yaml.org,2002:map", data, True)
)


def suggested_yaml(profile: Profile, info: ReadInfo) -> str:
    """The suggested `columns:` section as a complete, loadable rule file."""
    columns = {
        name: {
            key: [_Flow(c) if isinstance(c, dict) else c for c in value]
            if key == "checks"
            else value
            for key, value in spec.items()
        }
        for name, spec in profile.suggested_rules.get("columns", {}).items()
    }
    document: dict[str, Any] = {"version": 1, **profile.suggested_rules, "columns": columns}
    body = yaml.dump(
        document,
        Dumper=_Dumper,
        sort_keys=False,
        allow_unicode=True,
        default_flow_style=False,
        width=100,
    )
    return f"# suggested by `crmclean profile {info.name}`\n{body}"
