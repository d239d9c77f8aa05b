"""`crmclean synth`: write a synthetic customer file with known duplicates (and the truth)."""

from __future__ import annotations

from collections.abc import Iterator
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import polars as pl
import typer

from crmclean.cli.app import app, stderr_console
from crmclean.cli.options import QuietOpt, examples
from crmclean.errors import UsageError
from crmclean.io.appended_files import AppendedCsv, AppendedParquet
from crmclean.io.writers import atomic_output_dir, write_csv, write_json, write_parquet
from crmclean.synth import (
    CHUNK_ROWS,
    DEFAULT_DUP_SHARE,
    SynthResult,
    generate_chunks,
    generate_detailed,
)
from crmclean.synth.orders import generate_orders


class SynthFormat(StrEnum):
    csv = "csv"
    parquet = "parquet"
    both = "both"


EXAMPLES = examples(
    "crmclean synth --out synth/ --rows 5000",
    "crmclean synth --out synth/ --rows 1000000 -f parquet --seed 11",
    "crmclean synth --out synth/ --world --dup-share 0.3",
    doc="docs/synth.md",
)


@app.command("synth", epilog=EXAMPLES)
def synth(
    out: Annotated[
        Path, typer.Option("--out", "-o", help="Folder to write into (replaced atomically).")
    ],
    rows: Annotated[int, typer.Option("--rows", "-n", min=1, help="Number of records.")] = 5000,
    seed: Annotated[int, typer.Option("--seed", help="Same seed, byte-identical output.")] = 7,
    output_format: Annotated[
        SynthFormat, typer.Option("--format", "-f", help="customers as csv, parquet or both.")
    ] = SynthFormat.csv,
    dup_share: Annotated[
        float,
        typer.Option(min=0.0, max=1.0, help="Share of customers that have 1..max-dups duplicates."),
    ] = DEFAULT_DUP_SHARE,
    max_dups: Annotated[
        int, typer.Option(min=1, max=20, help="Most duplicates one customer can have.")
    ] = 4,
    world: Annotated[
        bool,
        typer.Option(
            "--world",
            help="Add the world's differences: newsletter, point-of-sale and call-centre "
            "sources, initials, e-mail domain typos, new phones after moves, placeholders.",
        ),
    ] = False,
    orders: Annotated[
        bool,
        typer.Option(
            "--orders",
            help="Also write orders.csv: orders keyed by the customer ids (some unknown), "
            "for a rollup: section (docs/value.md).",
        ),
    ] = False,
    quiet: QuietOpt = False,
) -> None:
    """Generate customer master data with planted duplicates, hard non-duplicates and bad
    values: customers.csv/.parquet, truth.csv (record_id, entity_id), entities.csv (which
    entities are hard non-duplicates of which), defects.csv (planted bad values),
    differences.csv (the kinds of difference drawn per record), synth.json; with --orders
    also orders.csv."""
    if rows > CHUNK_ROWS:  # ten million customers in the memory of one million
        if orders:
            raise UsageError(
                f"--orders: at most {CHUNK_ROWS:,} rows (orders are drawn over all customers "
                "at once)",
                hint=f"use --rows {CHUNK_ROWS} or fewer with --orders",
            )
        parts = generate_chunks(
            rows, seed, chunk_rows=CHUNK_ROWS, dup_share=dup_share, max_dups=max_dups, world=world
        )
        with atomic_output_dir(out, command="synth") as folder:
            stats = _write_parts(parts, folder, output_format, seed, world)
    else:
        result = generate_detailed(rows, seed, dup_share=dup_share, max_dups=max_dups, world=world)
        with atomic_output_dir(out, command="synth") as folder:
            stats = _write_all(result, folder, output_format, seed, world, orders)
    if not quiet:
        stderr_console().print(
            f"wrote {stats['records']:,} records of {stats['entities']:,} customers "
            f"({stats['records_in_duplicate_groups']:,} in duplicate groups, "
            f"{stats['defects']:,} planted bad values) to {out}",
            markup=False,
        )


def _write_all(
    result: SynthResult,
    folder: Path,
    output_format: SynthFormat,
    seed: int,
    world: bool,
    orders: bool,
) -> dict[str, Any]:
    if output_format in (SynthFormat.csv, SynthFormat.both):
        # Raw values on purpose: this file is input for crmclean, not for a spreadsheet.
        write_csv(result.customers, folder / "customers.csv", spreadsheet_safe=False)
    if output_format in (SynthFormat.parquet, SynthFormat.both):
        write_parquet(result.customers, folder / "customers.parquet")
    write_csv(result.truth, folder / "truth.csv", spreadsheet_safe=False)
    write_csv(result.entities, folder / "entities.csv", spreadsheet_safe=False)
    write_csv(result.defects, folder / "defects.csv", spreadsheet_safe=False)
    write_csv(result.differences, folder / "differences.csv", spreadsheet_safe=False)
    if orders:
        write_csv(
            generate_orders(result.customers, result.truth, seed),
            folder / "orders.csv",
            spreadsheet_safe=False,
        )
    stats = summary(result, seed, world)
    write_json(stats, folder / "synth.json")
    return stats


def _write_parts(
    parts: Iterator[SynthResult],
    folder: Path,
    output_format: SynthFormat,
    seed: int,
    world: bool,
) -> dict[str, Any]:
    """The files of generate_chunks' parts, each appended as it is made (raw values, as above)."""
    tables: dict[str, AppendedCsv | AppendedParquet] = {}
    if output_format in (SynthFormat.csv, SynthFormat.both):
        tables["customers"] = AppendedCsv(folder / "customers.csv")
    if output_format in (SynthFormat.parquet, SynthFormat.both):
        tables["customers_parquet"] = AppendedParquet(folder / "customers.parquet")
    for name in ("truth", "entities", "defects", "differences"):
        tables[name] = AppendedCsv(folder / f"{name}.csv")
    counted: list[dict[str, Any]] = []
    try:
        for part in parts:
            for name, table in tables.items():
                table.append(
                    part.customers if name.startswith("customers") else getattr(part, name)
                )
            counted.append(summary(part, seed, world))
    finally:
        for table in tables.values():
            table.close()
    stats = added_up(counted)
    write_json(stats, folder / "synth.json")
    return stats


def added_up(parts: list[dict[str, Any]]) -> dict[str, Any]:
    """One summary of a data set written in parts: the counts added up, kinds by kind."""
    total = dict(parts[0])
    for part in parts[1:]:
        for key, value in part.items():
            if isinstance(value, dict):
                merged = dict(total[key])
                for kind, n in value.items():
                    merged[kind] = merged.get(kind, 0) + n
                total[key] = dict(sorted(merged.items()))
            elif isinstance(value, int) and not isinstance(value, bool) and key != "seed":
                total[key] += value
    return total


def summary(result: SynthResult, seed: int, world: bool = False) -> dict[str, Any]:
    """What was generated, for synth.json and the console line."""
    entities = result.entities
    kinds = entities.group_by("kind").len().sort("kind")
    defects = result.defects.group_by("kind").len().sort("kind")
    return {
        "seed": seed,
        "world": world,
        "records": result.customers.height,
        "entities": entities.height,
        "entities_with_duplicates": entities.filter(pl.col("records") > 1).height,
        "records_in_duplicate_groups": int(entities.filter(pl.col("records") > 1)["records"].sum()),
        "entity_kinds": dict(zip(kinds["kind"].to_list(), kinds["len"].to_list(), strict=True)),
        "defects": result.defects.height,
        "defect_kinds": dict(zip(defects["kind"].to_list(), defects["len"].to_list(), strict=True)),
    }
