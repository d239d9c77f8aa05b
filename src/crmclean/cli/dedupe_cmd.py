"""`crmclean dedupe`: standardise, then find duplicate customers; write pairs, clusters, model.

Exit codes: 0 done, 2 rule-file or model problem (or a blocking rule refused), 3 unreadable input
or unwritable output.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import polars as pl
import typer

from crmclean.cli.app import app, stderr_console, stdout_console
from crmclean.cli.options import InputArg, QuietOpt, RulesOpt
from crmclean.config import load_rules
from crmclean.config.loader import LoadedRules
from crmclean.config.models import RuleFile
from crmclean.core.cleaning import clean
from crmclean.core.masking import kind_for
from crmclean.core.matching import (
    DedupeResult,
    MatchingSpec,
    column_problems,
    dedupe,
    model_from_dict,
    model_to_dict,
)
from crmclean.core.matching import decisions as decisions_
from crmclean.core.matching.scoring import MatchModel
from crmclean.errors import ConfigError, InputError, UsageError
from crmclean.io.readers import read_table
from crmclean.io.writers import atomic_output_dir, write_json, write_parquet
from crmclean.report.matching_console import print_dedupe


def matching_spec(loaded: LoadedRules) -> MatchingSpec:
    spec = loaded.rules.matching
    if spec is None:
        raise ConfigError(
            [loaded.issue((), "has no matching: section", "see docs/matching.md for an example")]
        )
    return spec


def read_model(path: Path, spec: MatchingSpec) -> MatchModel:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(f"{path}: model file not found") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"{path}: not a readable JSON model ({exc})") from None
    return model_from_dict(document, spec)


def read_decisions(path: Path) -> pl.DataFrame:
    frame = read_table(path).frame
    problems = decisions_.problems(frame)
    if problems:
        raise UsageError(f"{path}: " + "; ".join(problems), hint="see docs/matching.md#decisions")
    return frame.select(decisions_.REQUIRED_COLUMNS)


def load_cleaned(input_path: Path, rules: RuleFile) -> pl.DataFrame:
    types = {name: c.type for name, c in rules.columns.items()}
    frame = read_table(input_path, id_column=rules.dataset.id_column, types=types).frame
    return clean(frame, rules).frame


def pii_kinds(rules: RuleFile) -> dict[str, str]:
    """`pii: true` columns and how to mask them; derived keys inherit it from their sources."""
    kinds: dict[str, str] = {
        name: kind_for(name, c.type) for name, c in rules.columns.items() if c.pii
    }
    for name, derived in rules.derive.items():
        inherited = [kinds[source] for source in derived.sources if source in kinds]
        if inherited:
            kinds[name] = inherited[0]
    return kinds


def summary(result: DedupeResult, loaded: LoadedRules, spec: MatchingSpec) -> dict[str, Any]:
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
    return {
        "command": "dedupe",
        "rule_file": str(loaded.path),
        "rules_digest": loaded.digest,
        "thresholds": spec.thresholds.model_dump(),
        "prior": result.model.prior,
        "fingerprint": result.model.fingerprint,
        "pii": pii_kinds(loaded.rules),
        "matching": spec.model_dump(mode="json"),
        "blocking": [
            {**r.__dict__, "skipped_examples": [[k, n] for k, n in r.skipped_examples]}
            for r in result.blocking
        ],
        "stats": result.stats,
        "warnings": warnings,
    }


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
    output_format: Annotated[
        str, typer.Option("--format", help="table or json (the dedupe.json summary).")
    ] = "table",
    quiet: QuietOpt = False,
) -> None:
    """Find duplicate customers: block, compare, train (or --model), score and cluster."""
    if output_format not in ("table", "json"):
        raise UsageError(f"--format must be table or json, not {output_format!r}")
    loaded = load_rules(rules)
    spec = matching_spec(loaded)
    frame = load_cleaned(input_path, loaded.rules)
    problems = column_problems(frame.columns, spec)
    if problems:
        raise ConfigError([loaded.issue(p, m, h) for p, m, h in problems])
    saved = read_model(model, spec) if model else None
    decisions_path = decisions
    if decisions_path is None and spec.decisions:
        configured = loaded.path.parent / spec.decisions
        # no steward has decided anything yet: `crmclean review` creates the file
        decisions_path = configured if configured.exists() else None
    decided = read_decisions(decisions_path) if decisions_path else None
    try:
        result = dedupe(frame, spec, model=saved, seed=seed, decisions=decided, force=force)
    except InputError as exc:  # e.g. repeated record ids: name the file they are in
        raise exc.about(input_path) from None
    document = summary(result, loaded, spec)
    with atomic_output_dir(out, protect=[input_path, rules]) as folder:
        write_parquet(result.pairs, folder / "pairs.parquet")
        write_parquet(result.clusters, folder / "clusters.parquet")
        write_parquet(result.review, folder / "review.parquet")
        write_parquet(frame, folder / "clean.parquet")
        write_json(model_to_dict(result.model), folder / "model.json")
        write_json(document, folder / "dedupe.json")
    for warning in result.model.training.get("warnings", []):  # not only in dedupe.json
        stderr_console().print(f"warning: {warning}", markup=False)
    if output_format == "json":
        typer.echo(json.dumps(document, indent=2, sort_keys=True, default=str))
    elif not quiet:
        print_dedupe(stdout_console(), document)
    if not quiet:
        stderr_console().print(f"wrote {out}", markup=False)
