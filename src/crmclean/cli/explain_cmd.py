"""`crmclean explain OUT A B`: why two records did (not) match in the run written to OUT.

Reads OUT/dedupe.json (the matching section used), OUT/model.json, OUT/clean.parquet and
OUT/clusters.parquet. Personal values are masked unless --show-values. Exit 3 when the folder
or a record is missing, 2 when the model does not fit the run's matching section.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import polars as pl
import typer

from crmclean.cli.app import app, stdout_console
from crmclean.cli.options import ShowValuesOpt, TableOrJson, TableOrJsonOpt
from crmclean.core.masking import MaskKind, cap_value, mask_value
from crmclean.core.matching import MatchingSpec, model_from_dict
from crmclean.core.matching.explain import explain_pair, verdict
from crmclean.errors import InputError
from crmclean.io.regular_file import is_present, read_text
from crmclean.io.summary_files import read_summary
from crmclean.report.matching_console import print_explain
from crmclean.summaries import DedupeSummary

DEDUPE_HINT = "pass the --out folder of `crmclean dedupe` or `crmclean run`"


def _json(path: Path) -> Any:
    _present(path)
    try:
        return json.loads(read_text(path))
    except json.JSONDecodeError as exc:
        raise InputError(f"{path}: not readable JSON ({exc})") from None


def _present(path: Path) -> None:
    if not is_present(path):
        raise InputError(f"{path}: missing", hint=DEDUPE_HINT)


def _parquet(path: Path) -> pl.DataFrame:
    _present(path)
    try:
        return pl.read_parquet(path, glob=False)
    except (OSError, pl.exceptions.PolarsError) as exc:
        raise InputError(f"{path}: not a readable parquet file ({exc})") from None


def _decision(path: Path | None, low: str, high: str) -> str | None:
    if path is None or not is_present(path, "decisions file"):
        return None
    from crmclean.cli.dedupe_cmd import read_decisions
    from crmclean.core.matching.decisions import normalise

    decided = normalise(read_decisions(path)).filter(
        (pl.col("record_id_l") == low) & (pl.col("record_id_r") == high)
    )
    return str(decided.get_column("decision")[0]) if decided.height else None


@app.command("explain")
def explain_command(
    out: Annotated[Path, typer.Argument(help="The --out folder of a `crmclean dedupe` run.")],
    record_a: Annotated[str, typer.Argument(help="A record id.")],
    record_b: Annotated[str, typer.Argument(help="Another record id.")],
    show_values: ShowValuesOpt = False,
    output_format: TableOrJsonOpt = TableOrJson.table,
) -> None:
    """Explain a pair: values, comparison level and Bayes factor per field, and the verdict."""
    summary = read_summary(out, DedupeSummary)
    if summary is None:
        raise InputError(f"{out / 'dedupe.json'}: missing", hint=DEDUPE_HINT)
    spec = MatchingSpec.model_validate(summary.matching)
    model = model_from_dict(_json(out / "model.json"), spec)
    frame = _parquet(out / "clean.parquet")
    clusters = _parquet(out / "clusters.parquet")
    explanation = explain_pair(frame, spec, model, record_a, record_b)
    low, high = explanation["record_id_l"], explanation["record_id_r"]
    ids = clusters.filter(pl.col("record_id").is_in([low, high])).get_column("cluster_id")
    same = ids.len() == 2 and ids[0] == ids[1]
    decisions_path = None
    if spec.decisions and summary.rule_file:
        decisions_path = Path(summary.rule_file).parent / spec.decisions
    explanation["same_cluster"] = bool(same)
    explanation["verdict"] = verdict(explanation, spec, same, _decision(decisions_path, low, high))
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
    else:
        print_explain(stdout_console(), explanation)
