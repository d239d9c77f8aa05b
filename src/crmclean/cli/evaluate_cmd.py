"""`crmclean evaluate CLUSTERS --truth TRUTH`: pairwise and B-cubed precision, recall and F1.

Exit 0, or 1 when `--min-f1` is given and pairwise F1 falls below it; 3 unreadable input.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from crmclean.cli.app import app, stdout_console
from crmclean.cli.options import (
    DelimiterOpt,
    EncodingOpt,
    QuietOpt,
    TableOrJson,
    TableOrJsonOpt,
    delimiter_char,
    examples,
)
from crmclean.core.matching.evaluation import evaluate
from crmclean.errors import DataFailed, InputError, UsageError
from crmclean.io.readers import read_table
from crmclean.report.matching_console import print_evaluation

EXAMPLES = examples(
    "crmclean evaluate matched/clusters.parquet --truth synth/truth.csv",
    "crmclean evaluate matched/clusters.parquet --truth truth.csv --truth-id customer_no",
    "crmclean evaluate matched/clusters.parquet --truth truth.csv --min-f1 0.9 -q",
    doc="docs/matching.md",
)
TRUTH_ID_HINT = (
    "the truth file needs an entity_id column, and --truth-id COLUMN names its column holding "
    "the record ids (default record_id)"
)


@app.command("evaluate", epilog=EXAMPLES)
def evaluate_command(
    clusters_path: Annotated[
        Path, typer.Argument(help="clusters.parquet (record_id, cluster_id) of a dedupe run.")
    ],
    truth: Annotated[
        Path, typer.Option("--truth", help="Known entities: record_id, entity_id (CSV/Parquet).")
    ],
    truth_id: Annotated[
        str, typer.Option("--truth-id", help="Column of the truth file holding the record id.")
    ] = "record_id",
    min_f1: Annotated[
        float | None, typer.Option("--min-f1", help="Exit 1 when pairwise F1 is below this.")
    ] = None,
    output_format: TableOrJsonOpt = TableOrJson.table,
    quiet: QuietOpt = False,
    encoding: EncodingOpt = None,
    delimiter: DelimiterOpt = None,
) -> None:
    """Score clusters against the truth: pairwise and B-cubed precision, recall and F1."""
    clusters = read_table(
        clusters_path, id_column="record_id", required_columns=["cluster_id"]
    ).frame
    clusters = clusters.select("record_id", "cluster_id")
    try:
        truth_frame = read_table(
            truth,
            id_column=truth_id,
            required_columns=["entity_id"],
            encoding=encoding,
            delimiter=delimiter_char(delimiter),
            hint=TRUTH_ID_HINT,
        ).frame
    except InputError as exc:
        if (exc.hint or "").startswith(TRUTH_ID_HINT):
            # the file reads fine; the fix is an option (--truth-id) or a column: usage, exit 2
            raise UsageError(exc.message, exc.hint) from None
        raise
    if "entity_id" not in truth_frame.columns:
        raise InputError(f"{truth}: no entity_id column")
    shared = clusters.join(truth_frame.select("record_id"), on="record_id", how="semi").height
    if shared == 0 and clusters.height and truth_frame.height:
        # scoring disjoint ids would say F1 1.0 over no pairs at all
        raise InputError(
            f"{truth}: none of its record ids is in {clusters_path}",
            f"is {truth_id!r} the column holding the record ids? If not, pass --truth-id COLUMN",
        )
    result = evaluate(clusters, truth_frame.select("record_id", "entity_id")).to_dict()
    if output_format is TableOrJson.json:
        typer.echo(json.dumps(result, indent=2, sort_keys=True))
    elif not quiet:
        print_evaluation(stdout_console(), result)
    f1 = result["pairwise"]["f1"]  # type: ignore[index]
    if min_f1 is not None and f1 < min_f1:
        raise DataFailed(f"pairwise F1 {f1:.4f} is below --min-f1 {min_f1}")
