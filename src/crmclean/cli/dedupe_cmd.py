"""`crmclean dedupe`: standardise, then find duplicate customers; write pairs, clusters, model.

Exit codes: 0 done, 2 rule-file or model problem (or a blocking rule refused), 3 unreadable input
or unwritable output.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Annotated

import typer

from crmclean.cli.app import app, stderr_console, stdout_console
from crmclean.cli.data_input import (
    DataArg,
    given_location,
    input_files,
    local_out,
    one_input,
    spark_input,
)
from crmclean.cli.engine_choice import (
    EngineOpt,
    MemoryOpt,
    SparkMasterOpt,
    choose_engine,
    engine_name,
)
from crmclean.cli.input_errors import told
from crmclean.cli.options import (
    DelimiterOpt,
    EncodingOpt,
    QuietOpt,
    RulesOpt,
    TableOrJson,
    TableOrJsonOpt,
    delimiter_char,
    examples,
)
from crmclean.cli.read_files import rule_file_inputs
from crmclean.config import load_rules
from crmclean.config.loader import LoadedRules
from crmclean.config.rule_setup import prepare
from crmclean.core.matching import MatchingSpec, model_to_dict
from crmclean.errors import ConfigError, InputError
from crmclean.io.decisions_file import existing, read_decisions
from crmclean.io.run_folder import read_model
from crmclean.io.writers import atomic_output_dir, write_json, write_parquet
from crmclean.report.dedupe_summary import dedupe_summary
from crmclean.report.matching_console import print_dedupe


def matching_spec(loaded: LoadedRules) -> MatchingSpec:
    spec = loaded.rules.matching
    if spec is None:
        raise ConfigError(
            [loaded.issue((), "has no matching: section", "see docs/matching.md for an example")]
        )
    return spec


EXAMPLES = examples(
    "crmclean dedupe customers.csv -r rules.yaml --out matched/",
    "crmclean dedupe customers.csv -r rules.yaml --out matched/ --model last/model.json",
    "crmclean dedupe customers.csv -r rules.yaml --out matched/ -f json > dedupe.json",
    doc="docs/matching.md",
)


@app.command("dedupe", epilog=EXAMPLES)
def dedupe_command(
    rules: RulesOpt,
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder for pairs, clusters, model.")],
    input_path: DataArg = None,
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
    engine: EngineOpt = None,
    memory: MemoryOpt = None,
    spark_master: SparkMasterOpt = None,
    output_format: TableOrJsonOpt = TableOrJson.table,
    quiet: QuietOpt = False,
    encoding: EncodingOpt = None,
    delimiter: DelimiterOpt = None,
) -> None:
    """Find duplicate customers: block, compare, train (or --model), score and cluster."""
    started = time.perf_counter()
    source = given_location(input_path)
    loaded = load_rules(rules)
    one_input(source, loaded)
    local_out(out, "dedupe")
    # a wrong or missing engine is said before any work; a URI input needs the spark engine
    spark_input(source, engine_name(engine, loaded), "dedupe", spark_master)
    # the one setup step: exit 2 if rules do not fit
    prepared = prepare(loaded, source, encoding, delimiter_char(delimiter))
    spec = matching_spec(loaded)
    plan = prepared.plan
    frame = plan.clean(prepared.frame, changes=False).frame
    del prepared  # the data as read: no longer needed, and large at a million records
    saved = read_model(model, spec) if model else None
    decisions_path = decisions
    if decisions_path is None and spec.decisions:
        # no steward has decided anything yet: `crmclean review` creates the file
        decisions_path = existing(loaded.path.parent / spec.decisions)
    decided = read_decisions(decisions_path) if decisions_path else None
    runs_on = choose_engine(engine, memory, loaded, out, spark_master)
    try:
        result = plan.dedupe(
            frame, model=saved, seed=seed, decisions=decided, force=force, engine=runs_on
        )
    except InputError as exc:  # e.g. repeated record ids: name the file they are in
        raise told(exc, loaded, source or "sources", show_values=False) from None
    finally:
        runs_on.close()
    # a typed DedupeSummary, with the rule file's ${env.X} values put back as ${env.X}
    summary = dedupe_summary(result, loaded, spec, time.perf_counter() - started)
    document = loaded.scrub(summary.to_dict())
    protect = [*input_files(source, loaded), *rule_file_inputs(loaded), model, decisions_path]
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
