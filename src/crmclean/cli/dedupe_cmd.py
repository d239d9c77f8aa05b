"""`crmclean dedupe`: standardise, then find duplicate customers; write pairs, clusters, model.

Exit codes: 0 done, 2 rule-file or model problem (or a blocking rule refused), 3 unreadable input
or unwritable output.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import polars as pl
import typer

from crmclean.cli.app import app, stderr_console, stdout_console
from crmclean.cli.input_errors import told
from crmclean.cli.options import InputArg, QuietOpt, RulesOpt, TableOrJson, TableOrJsonOpt
from crmclean.cli.read_files import rule_file_inputs
from crmclean.cli.rule_setup import prepare
from crmclean.config import load_rules
from crmclean.config.loader import LoadedRules
from crmclean.config.models import RuleFile
from crmclean.core.masking import MaskKind, personal_columns
from crmclean.core.matching import (
    DedupeResult,
    MatchingSpec,
    model_from_dict,
    model_to_dict,
)
from crmclean.core.matching import decisions as decisions_
from crmclean.core.matching.scoring import MatchModel
from crmclean.errors import ConfigError, InputError
from crmclean.io.decisions_file import read_decisions_file
from crmclean.io.regular_file import read_text
from crmclean.io.writers import atomic_output_dir, write_json, write_parquet
from crmclean.report.matching_console import print_dedupe
from crmclean.summaries import DedupeSummary


def matching_spec(loaded: LoadedRules) -> MatchingSpec:
    spec = loaded.rules.matching
    if spec is None:
        raise ConfigError(
            [loaded.issue((), "has no matching: section", "see docs/matching.md for an example")]
        )
    return spec


def read_model(path: Path, spec: MatchingSpec) -> MatchModel:
    try:
        document = json.loads(read_text(path, "model file"))
    except json.JSONDecodeError as exc:
        raise InputError(f"{path}: not a readable JSON model ({exc})") from None
    return model_from_dict(document, spec)


def read_decisions(path: Path) -> pl.DataFrame:
    return read_decisions_file(path).select(decisions_.REQUIRED_COLUMNS)


def pii_kinds(rules: RuleFile) -> dict[str, MaskKind]:
    """Personal columns and how to mask them (crmclean.core.masking.personal_columns)."""
    return personal_columns(rules)


def summary(result: DedupeResult, loaded: LoadedRules, spec: MatchingSpec) -> DedupeSummary:
    limits = {b.label: b.max_block_size or spec.max_block_size for b in spec.blocking}
    warnings = [
        f"blocking rule {r.rule}: {r.skipped_blocks} block(s) above max_block_size "
        f"{limits.get(r.rule, spec.max_block_size)} skipped ({r.skipped_pairs:,} pairs); largest "
        + ", ".join(str(n) for _, n in r.skipped_examples)
        + " records"
        for r in result.blocking
        if r.skipped_blocks
    ]
    warnings += [
        f"blocking rule {r.rule}: its largest block holds {r.top_block_share:.0%} of its pairs"
        for r in result.blocking
        if r.top_block_share > 0.2 and r.pairs > 10_000
    ]
    warnings += list(result.model.training.get("warnings", []))
    return DedupeSummary(
        rule_file=str(loaded.path.resolve()),  # explain finds it from any folder
        rules_digest=loaded.digest,
        thresholds=spec.thresholds.model_dump(),
        prior=result.model.prior,
        fingerprint=result.model.fingerprint,
        pii=dict(pii_kinds(loaded.rules)),
        matching=spec.model_dump(mode="json"),
        blocking=[
            {**r.__dict__, "skipped_examples": [[k, n] for k, n in r.skipped_examples]}
            for r in result.blocking
        ],
        stats=result.stats,
        warnings=warnings,
    )


@app.command("dedupe")
def dedupe_command(
    input_path: InputArg,
    rules: RulesOpt,
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder for pairs, clusters, model.")],
    model: Annotated[
        Path | None,
        typer.Option("--model", help="Score with this saved model.json instead of training."),
    ] = None,
    decisions: Annotated[
        Path | None,
        typer.Option("--decisions", help="Steward decisions CSV (overrides matching.decisions)."),
    ] = None,
    seed: Annotated[int | None, typer.Option("--seed", help="Override training.seed.")] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Run blocking rules above max_pairs_per_rule.")
    ] = False,
    output_format: TableOrJsonOpt = TableOrJson.table,
    quiet: QuietOpt = False,
) -> None:
    """Find duplicate customers: block, compare, train (or --model), score and cluster."""
    loaded = load_rules(rules)
    prepared = prepare(loaded, input_path)  # the one setup step: exit 2 if rules do not fit
    spec = matching_spec(loaded)
    plan = prepared.plan
    frame = plan.clean(prepared.frame, changes=False).frame
    del prepared  # the data as read: no longer needed, and large at a million records
    saved = read_model(model, spec) if model else None
    decisions_path = decisions
    if decisions_path is None and spec.decisions:
        configured = loaded.path.parent / spec.decisions
        # no steward has decided anything yet: `crmclean review` creates the file
        decisions_path = configured if configured.exists() else None
    decided = read_decisions(decisions_path) if decisions_path else None
    try:
        result = plan.dedupe(frame, model=saved, seed=seed, decisions=decided, force=force)
    except InputError as exc:  # e.g. repeated record ids: name the file they are in
        raise told(exc, loaded, input_path, show_values=False) from None
    # a typed DedupeSummary, with the rule file's ${env.X} values put back as ${env.X}
    document = loaded.scrub(summary(result, loaded, spec).to_dict())
    protect = [input_path, *rule_file_inputs(loaded), model, decisions_path]
    with atomic_output_dir(out, protect, "dedupe") as folder:
        write_parquet(result.pairs, folder / "pairs.parquet")
        write_parquet(result.clusters, folder / "clusters.parquet")
        write_parquet(result.review, folder / "review.parquet")
        write_parquet(frame, folder / "clean.parquet")
        write_json(model_to_dict(result.model), folder / "model.json")
        write_json(document, folder / "dedupe.json")
    for warning in result.model.training.get("warnings", []):  # not only in dedupe.json
        stderr_console().print(f"warning: {warning}", markup=False)
    if output_format is TableOrJson.json:
        typer.echo(json.dumps(document, indent=2, sort_keys=True, default=str))
    elif not quiet:
        print_dedupe(stdout_console(), document)
    if not quiet:
        stderr_console().print(f"wrote {out}", markup=False)
