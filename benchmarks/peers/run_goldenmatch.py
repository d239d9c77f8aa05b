"""Deduplicate customers.parquet with GoldenMatch, using its documented fuzzy configuration.

Run with the benchmark virtualenv: .bench-venv/bin/python benchmarks/peers/run_goldenmatch.py
The configuration is goldenmatch.yaml beside this file (the template of GoldenMatch's docs,
mapped onto the customer columns); GoldenMatch standardises, blocks, scores and clusters by
itself. Writes clusters (record_id, cluster_id) as parquet and prints one JSON line with wall
time, peak RSS and stage timings.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from _columns import arrow_table, parse_columns, placeholders
from _measure import Stopwatch, emit, peak_rss_mb

CONFIG = Path(__file__).with_name("goldenmatch.yaml")


def adapt_config(document: dict[str, Any], columns: dict[str, str]) -> dict[str, Any]:
    """goldenmatch.yaml (written in role names) for one data set's columns: each field renamed
    to the column that plays its role; fields of absent roles dropped, and with them a
    matchkey or blocking key left without fields. Weights and thresholds stay as written."""

    def keep(fields: list[Any]) -> list[Any]:
        kept = []
        for item in fields:
            role = item["field"] if isinstance(item, dict) else item
            if role in columns:
                renamed = columns[role]
                kept.append({**item, "field": renamed} if isinstance(item, dict) else renamed)
        return kept

    adapted = dict(document)
    adapted["standardization"] = {
        columns[role]: steps
        for role, steps in document.get("standardization", {}).items()
        if role in columns
    }
    adapted["matchkeys"] = [
        {**key, "fields": keep(key["fields"])}
        for key in document["matchkeys"]
        if keep(key["fields"])
    ]
    blocking = dict(document.get("blocking", {}))
    if "keys" in blocking:
        blocking["keys"] = [
            {**key, "fields": keep(key["fields"])}
            for key in blocking["keys"]
            if keep(key["fields"])
        ]
    adapted["blocking"] = blocking
    return adapted


def null_placeholders(table: Any, columns: dict[str, str]) -> tuple[Any, dict[str, list[str]]]:
    """The profile step (_columns.placeholders) on the e-mail, the only identifying column the
    template matches exactly: values far more frequent than chance become null (compared
    without case and outer blanks)."""
    import pyarrow as pa

    nulled: dict[str, list[str]] = {}
    for role in ("email",):
        if role not in columns:
            continue
        name = columns[role]
        values = table.column(name).cast(pa.string()).to_pylist()
        keys = [v.strip().lower() if v is not None else None for v in values]
        frequent = placeholders(keys)
        nulled[name] = sorted(frequent)
        kept = [None if k in frequent else v for v, k in zip(values, keys, strict=True)]
        index = table.schema.get_field_index(name)
        table = table.set_column(index, name, pa.array(kept, type=pa.string()))
    return table, nulled


def describe(document: dict[str, Any]) -> dict[str, list[str]]:
    """The adapted configuration in brief, for the results."""

    def field(item: dict[str, Any]) -> str:
        extra = [item.get("scorer"), item.get("weight")]
        return item["field"] + (f" ({', '.join(str(x) for x in extra if x)})" if any(extra) else "")

    blocking = document.get("blocking", {})
    return {
        "matchkeys": [
            f"{key['name']}: {key['type']}"
            + (f" >= {key['threshold']}" if "threshold" in key else "")
            + " on "
            + ", ".join(field(item) for item in key["fields"])
            for key in document["matchkeys"]
        ],
        "blocking": [
            f"{blocking.get('strategy', 'static')} on " + ", ".join(key["fields"])
            for key in blocking.get("keys", [])
        ],
        "standardization": [f"{c}: {', '.join(s)}" for c, s in document["standardization"].items()],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("input", type=Path, help="customers.parquet or .csv (read as text)")
    parser.add_argument("--out", type=Path, required=True, help="clusters parquet to write")
    parser.add_argument("--id-column", default="customer_id")
    parser.add_argument("--config", type=Path, default=CONFIG)
    parser.add_argument("--columns", help="JSON role -> column; roles left out are absent")
    args = parser.parse_args()
    columns = parse_columns(args.columns)

    clock = Stopwatch()
    import goldenmatch as gm
    import pyarrow as pa
    import pyarrow.parquet as pq
    import yaml

    clock.lap("import")
    table = arrow_table(args.input)
    table, nulled = null_placeholders(table, columns)
    document = adapt_config(yaml.safe_load(args.config.read_text(encoding="utf-8")), columns)
    adapted = args.out.with_name(args.out.stem + ".goldenmatch.yaml")
    adapted.parent.mkdir(parents=True, exist_ok=True)
    adapted.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    config = gm.load_config(str(adapted))
    clock.lap("read")

    result = gm.dedupe_df(table, config=config)
    clock.lap("dedupe")

    # Cluster members are 0-based input row numbers; rows in no cluster stay singletons.
    if args.id_column == "__row_number__":  # truth ids are 1-based row numbers
        ids = [str(i + 1) for i in range(table.num_rows)]
    else:
        ids = table.column(args.id_column).cast(pa.string()).to_pylist()
    cluster_of = list(ids)
    for cluster_id, cluster in result.clusters.items():
        label = f"gm{cluster_id}"
        for row in cluster["members"]:
            cluster_of[row] = label
    args.out.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.table({"record_id": ids, "cluster_id": cluster_of}), args.out)
    clock.lap("write")

    emit(
        {
            "tool": "goldenmatch",
            "version": gm.__version__,
            "config_file": args.config.name,
            "columns": columns,
            "config": describe(document),
            "placeholders_nulled": nulled,
            "clusters_with_duplicates": result.stats.get("total_clusters"),
            "wall_s": clock.total(),
            "peak_rss_mb": peak_rss_mb(),
            "stages": clock.stages,
        }
    )


if __name__ == "__main__":
    main()
