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

from _measure import Stopwatch, emit, peak_rss_mb

CONFIG = Path(__file__).with_name("goldenmatch.yaml")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("input", type=Path, help="customers.parquet")
    parser.add_argument("--out", type=Path, required=True, help="clusters parquet to write")
    parser.add_argument("--id-column", default="customer_id")
    parser.add_argument("--config", type=Path, default=CONFIG)
    args = parser.parse_args()

    clock = Stopwatch()
    import goldenmatch as gm
    import pyarrow as pa
    import pyarrow.parquet as pq

    clock.lap("import")
    table = pq.read_table(args.input)
    config = gm.load_config(str(args.config))
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
            "config": args.config.name,
            "clusters_with_duplicates": result.stats.get("total_clusters"),
            "wall_s": clock.total(),
            "peak_rss_mb": peak_rss_mb(),
            "stages": clock.stages,
        }
    )


if __name__ == "__main__":
    main()
