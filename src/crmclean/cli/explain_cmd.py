"""`crmclean explain OUT A B`: why two records did (not) match in the run written to OUT.

Reads OUT/dedupe.json (the matching section used), OUT/model.json, OUT/clean.parquet and
OUT/clusters.parquet. Personal values are masked unless --show-values. Exit 3 when the folder
or a record is missing, 2 when the model does not fit the run's matching section.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import polars as pl
import typer

from crmclean.cli.app import app, stdout_console
from crmclean.cli.options import QuietOpt, ShowValuesOpt, TableOrJson, TableOrJsonOpt, examples
from crmclean.core.masking import MaskKind, cap_value, mask_value
from crmclean.core.matching import MatchingSpec, model_from_dict
from crmclean.core.matching.explain import explain_pair, verdict
from crmclean.core.matching.threshold_choice import with_auto_merge
from crmclean.errors import InputError
from crmclean.io.decisions_file import decision_of
from crmclean.io.run_folder import read_present_json, read_present_parquet
from crmclean.io.summary_files import read_summary
from crmclean.report.matching_console import print_explain
from crmclean.summaries import DedupeSummary

DEDUPE_HINT = "pass the --out folder of `crmclean dedupe` or `crmclean run`"


EXAMPLES = examples(
    "crmclean explain out/ 1042 2311",
    "crmclean explain out/ 1042 2311 --show-values",
    "crmclean explain out/ 1042 2311 -f json",
    doc="docs/matching.md",
)


@app.command("explain", epilog=EXAMPLES)
def explain_command(
    out: Annotated[Path, typer.Argument(help="The --out folder of a `crmclean dedupe` run.")],
    record_a: Annotated[str, typer.Argument(help="A record id.")],
    record_b: Annotated[str, typer.Argument(help="Another record id.")],
    show_values: ShowValuesOpt = False,
    output_format: TableOrJsonOpt = TableOrJson.table,
    quiet: QuietOpt = False,
) -> None:
    """Explain a pair: values, comparison level and Bayes factor per field, and the verdict."""
    summary = read_summary(out, DedupeSummary)
    if summary is None:
        raise InputError(f"{out / 'dedupe.json'}: missing", hint=DEDUPE_HINT)
    # a precision target's auto_merge as the run chose it
    spec = with_auto_merge(
        MatchingSpec.model_validate(summary.matching), summary.thresholds.get("auto_merge")
    )
    model = model_from_dict(read_present_json(out / "model.json", DEDUPE_HINT), spec)
    frame = read_present_parquet(out / "clean.parquet", DEDUPE_HINT)
    clusters = read_present_parquet(out / "clusters.parquet", DEDUPE_HINT)
    explanation = explain_pair(frame, spec, model, record_a, record_b)
    low, high = explanation["record_id_l"], explanation["record_id_r"]
    ids = clusters.filter(pl.col("record_id").is_in([low, high])).get_column("cluster_id")
    same = ids.len() == 2 and ids[0] == ids[1]
    decisions_path = None
    if spec.decisions and summary.rule_file:
        decisions_path = Path(summary.rule_file).parent / spec.decisions
    explanation["same_cluster"] = bool(same)
    explanation["verdict"] = verdict(
        explanation, spec, same, decision_of(decisions_path, low, high)
    )
    if not show_values:
        pii: dict[str, MaskKind] = summary.pii  # type: ignore[assignment]
        for row in explanation["comparisons"]:
            kind = pii.get(row["column"])
            if kind is not None or not summary.pii:
                for side in ("left", "right"):
                    value = row[side]
                    row[side] = mask_value(None if value is None else str(value), kind)
    for row in explanation["comparisons"]:
        for side in ("left", "right"):
            if isinstance(row[side], str):
                row[side] = cap_value(row[side])
    if output_format is TableOrJson.json:
        typer.echo(json.dumps(explanation, indent=2, sort_keys=True, default=str))
    elif not quiet:
        print_explain(stdout_console(), explanation)
