"""`crmclean run INPUT --rules FILE --out DIR`: validate, clean, dedupe and build golden records in
one command, for stewards and for cron. Outputs appear all at once or not at all."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from contextlib import ExitStack, nullcontext
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import polars as pl
import typer

from crmclean.cli.app import app, stderr_console, stdout_console
from crmclean.cli.data_input import (
    DataArg,
    given_location,
    input_files,
    input_locations,
    one_input,
    spark_input,
)
from crmclean.cli.engine_choice import (
    EngineOpt,
    MemoryOpt,
    SparkMasterOpt,
    batches_of,
    choose_engine,
    engine_name,
)
from crmclean.cli.incremental_run import NightState, Outcome, asked_of, attempt, night_state
from crmclean.cli.input_errors import told
from crmclean.cli.options import (
    AsOfOpt,
    DelimiterOpt,
    EncodingOpt,
    QuietOpt,
    RulesOpt,
    ShowValuesOpt,
    TableOrJson,
    TableOrJsonOpt,
    as_of_clock,
    delimiter_char,
    examples,
)
from crmclean.cli.read_files import rule_file_inputs
from crmclean.cli.run_targets import (
    check_publish_target,
    folder_of,
    manifest_inputs,
    previous_of,
    publish_run,
)
from crmclean.cli.uri_run import staged_uris, uri_targets
from crmclean.config import load_rules
from crmclean.config.loader import LoadedRules
from crmclean.config.rule_setup import Prepared, prepare
from crmclean.core.masking import mask_violations, personal_columns
from crmclean.core.matching import model_to_dict
from crmclean.core.pipeline import RunOptions, RunResult
from crmclean.core.rule_plan import RulePlan
from crmclean.errors import InputError
from crmclean.io.database_url import PublishTarget, parse_publish_url
from crmclean.io.decisions_file import read_configured
from crmclean.io.history_file import HISTORY_FILE, with_night
from crmclean.io.json_log import JsonLog
from crmclean.io.locations import Location, location_files
from crmclean.io.lock import Lock, output_lock
from crmclean.io.match_tables import write_match_tables
from crmclean.io.output_guard import guard_output, resolved
from crmclean.io.run_folder import Previous, read_previous
from crmclean.io.storage_uri import StorageUri
from crmclean.io.writers import (
    atomic_output_dir,
    claim_target,
    write_csv,
    write_json,
    write_parquet,
)
from crmclean.report import json_report
from crmclean.report.clean_console import mask_changes
from crmclean.report.dedupe_summary import dedupe_summary
from crmclean.report.run_console import RUN_STEPS, StepProgress, run_summary, where_lines
from crmclean.report.trend import night
from crmclean.summaries import SCHEMA_VERSION
from crmclean.version import __version__


class FailOn(StrEnum):
    error = "error"
    warn = "warn"


EXAMPLES = examples(
    "crmclean run customers.csv -r rules.yaml --out out/ --previous out/ --incremental",
    "crmclean run customers.csv -r rules.yaml --out out/ -q --log-json run.log",
    "crmclean run customers.csv -r rules.yaml --out out/ -f json > summary.json",
    doc="docs/run.md",
)


@app.command("run", epilog=EXAMPLES)
def run(
    rules: RulesOpt,
    out_text: Annotated[
        str,
        typer.Option(
            "--out",
            "-o",
            help="Folder for the outputs; replaced as a whole. With --engine spark also a URI "
            "Spark writes (hdfs://, s3a://, file://), published with its manifest.json last.",
            show_default=False,
        ),
    ],
    input_path: DataArg = None,
    previous: Annotated[
        str | None,
        typer.Option(
            help="The previous run's --out folder (with --engine spark also its URI), or the "
            "URL it was published to: golden ids stay stable."
        ),
    ] = None,
    publish: Annotated[
        str | None,
        typer.Option(
            help="Also write golden, crosswalk, lineage and review into this PostgreSQL "
            "schema (postgresql://user@host/db?schema=name), swapped in atomically.",
            show_default=False,
        ),
    ] = None,
    quarantine: Annotated[
        bool,
        typer.Option(help="Set rows failing error-severity checks aside instead of matching."),
    ] = False,
    seed: Annotated[
        int | None, typer.Option(help="Training seed; matching.training.seed if unset.")
    ] = None,
    retrain: Annotated[
        bool, typer.Option(help="Train a new match model even if --previous has one.")
    ] = False,
    incremental: Annotated[
        bool,
        typer.Option(
            help="Only clean, validate and match what changed since --previous; a full run "
            "instead, saying why, when that is not safe (docs/nightly.md)."
        ),
    ] = False,
    force: Annotated[
        bool, typer.Option(help="Run blocking rules that exceed their pair limit.")
    ] = False,
    fail_on: Annotated[FailOn, typer.Option(help="Exit 1 on failed rules of this level.")] = (
        FailOn.error
    ),
    log_json: Annotated[
        Path | None, typer.Option(help="Append structured JSON log lines to this file.")
    ] = None,
    report: Annotated[bool, typer.Option(help="Build report.html in the outputs.")] = True,
    engine: EngineOpt = None,
    memory: MemoryOpt = None,
    spark_master: SparkMasterOpt = None,
    as_of: AsOfOpt = None,
    show_values: ShowValuesOpt = False,
    output_format: TableOrJsonOpt = TableOrJson.table,
    quiet: QuietOpt = False,
    encoding: EncodingOpt = None,
    delimiter: DelimiterOpt = None,
) -> None:
    """Validate, clean, deduplicate and build golden records in one run.

    Writes golden.parquet (+ .csv), crosswalk, lineage, review, changes-since-previous and
    manifest.json into --out atomically. One run at a time may write an --out folder; a
    second one stops with a message. The summary goes to stdout (a table, or the manifest
    with --format json); progress and messages go to stderr. Exit codes: 0 ok, 1 an
    error-severity rule failed, 2 usage or rule file, 3 unreadable input or output (or --out
    is locked).
    """
    started_at = datetime.now(UTC)
    clock = as_of_clock(as_of)  # exit 2 for a malformed clock, before anything is read
    # exit 2 for a malformed URL, before anything is opened
    source = given_location(input_path)
    publish_to = parse_publish_url(publish) if publish is not None else None
    # --out and --previous at a URI: local copies, published back by Spark (uri_run.py)
    out_uri, previous_uri = uri_targets(out_text, previous)
    earlier = previous_of(previous) if previous_uri is None else None
    out = Path(out_text)
    # the log is opened once nothing this run reads or writes can be it (crmclean.io.json_log)
    given = location_files(source) if source is not None else []
    local = [out if out_uri is None else None, folder_of(earlier)]
    log = JsonLog(log_json, reads=[*given, rules], folders=local)
    console = stderr_console()
    stack = ExitStack()
    try:
        given_as = str(source) if source is not None else "sources:"
        shown_out = out_uri.shown if out_uri is not None else str(out)
        log.event("run_started", input=given_as, rules=str(rules), out=shown_out)
        loaded = load_rules(rules)
        one_input(source, loaded)
        used = engine_name(engine, loaded)  # a wrong or missing engine is said before any work
        spark_input(source, used, "run", spark_master)  # a URI input: the spark engine's
        staged = stack.enter_context(staged_uris(out_uri, previous_uri, used, spark_master))
        if staged is not None:  # the run works on local copies of the URI folders
            out = staged.out or out
            earlier = staged.previous if previous_uri is not None else earlier
        previous_dir = folder_of(earlier)
        inputs = input_files(source, loaded)
        # refuse an --out holding anything this run reads, before any work (and again at write)
        guard_output(out, [*inputs, *rule_file_inputs(loaded), log_json], previous_dir)
        check_publish_target(publish_to, input_locations(source, loaded))
        log.open(reads=[*rule_file_inputs(loaded), *inputs])
        with output_lock(out) as lock:
            if lock.stale_holder:
                log.event("stale_lock_taken_over", holder=lock.stale_holder)
            claim_target(out, "run", lock)  # before any work: refuse an --out of others' files
            request = RunRequest(
                source, loaded, out, earlier, publish_to, quarantine, seed, retrain, force,
                fail_on, report, show_values, quiet, log, started_at, lock, output_format,
                encoding, delimiter_char(delimiter), engine, memory, incremental, spark_master,
                clock, out_uri, previous_uri,
            )  # fmt: skip
            code = _run_locked(request)
    except (Exception, KeyboardInterrupt) as exc:  # KeyboardInterrupt: Ctrl-C and SIGTERM
        log.event(
            "run_failed", level="error", error=str(exc) or "interrupted", kind=type(exc).__name__
        )
        raise
    finally:
        stack.close()  # the local copies of URI folders
        log.close()
    if not quiet:
        console.print(f"crmclean run: exit {code}", markup=False)
    raise typer.Exit(code)


@dataclass(frozen=True)
class RunRequest:
    """Everything one `crmclean run` was asked to do, once the rule file is loaded and --out
    locked: the options as given, the JSON log and the start time."""

    source: Location | None  # a file or a database URL; None: the rule file's sources:
    loaded: LoadedRules
    out: Path
    previous: Path | PublishTarget | None  # a run folder, or the tables a run was published to
    publish: PublishTarget | None
    quarantine: bool
    seed: int | None
    retrain: bool
    force: bool
    fail_on: FailOn
    report: bool
    show_values: bool
    quiet: bool
    log: JsonLog
    started_at: datetime
    lock: Lock  # held on --out; its token names the temp folders
    output_format: TableOrJson = TableOrJson.table
    encoding: str | None = None
    delimiter: str | None = None
    engine: str | None = None  # --engine (else the rule file's engine:, else polars)
    memory: str | None = None  # --memory: the duckdb engine's budget
    incremental: bool = False  # --incremental (docs/nightly.md)
    spark_master: str | None = None  # --spark-master: where the spark engine runs
    as_of: datetime | None = None  # --as-of: the run's clock (else the wall clock)
    out_uri: StorageUri | None = None  # --out at a URI: `out` is its local copy, published
    previous_uri: StorageUri | None = None  # --previous at a URI: `previous` is its local copy

    def previous_shown(self, previous: Previous | None) -> Path | str | None:
        """The previous run as the manifest names it: --previous's URI, not its local copy."""
        if previous is None or previous.folder is None:
            return None
        return self.previous_uri.shown if self.previous_uri is not None else previous.folder

    @property
    def shown_out(self) -> Path | str:
        """--out as the user gave it (the URI, not its local copy)."""
        return self.out_uri.shown if self.out_uri is not None else self.out


def _on_engine(
    request: RunRequest,
    plan: RulePlan,
    frame: pl.DataFrame,
    options: RunOptions,
    on_step: Callable[[str], None],
) -> RunResult:
    """The pipeline on the matching engine asked for (closed again whatever happens)."""
    rows = batches_of(request.engine, request.memory, request.loaded)
    runs_on = choose_engine(
        request.engine, request.memory, request.loaded, request.out, request.spark_master,
        said=True,
    )  # fmt: skip
    try:
        return plan.run(frame, replace(options, engine=runs_on, batch_rows=rows), on_step=on_step)
    except InputError as exc:  # e.g. repeated record ids: name the file they are in
        named = request.source or "sources"
        raise told(exc, request.loaded, named, request.show_values) from None
    finally:
        runs_on.close()


def _skipped_warnings(skipped: list[str], request: RunRequest) -> None:
    for name in skipped:
        request.log.event("rollup_table_skipped", table=name, level="warning")
        stderr_console().print(
            f"crmclean: warning: rollup table {name!r}: file not found, skipped "
            "(if_missing: skip); its measures are empty",
            markup=False,
        )


def _rollup_warnings(result: RunResult, request: RunRequest) -> None:
    """What the rollup found suspicious (a table on almost no golden record, measures over
    values that are not numbers): on stderr and in the log; manifest.json has them too."""
    console = stderr_console()
    for warning in result.value.warnings() if result.value is not None else []:
        request.log.event("rollup_warning", message=warning, level="warning")
        console.print(f"crmclean: warning: {warning}", markup=False)


def _run_locked(request: RunRequest) -> int:
    console = stderr_console()
    rules = request.loaded.rules
    steps = (*RUN_STEPS, "publish") if request.publish is not None else RUN_STEPS
    progress = StepProgress(console, steps) if not request.quiet else None
    timings: dict[str, float] = {}
    with progress.running() if progress else nullcontext():
        _step(progress, request.log, "read")
        mark = time.perf_counter()
        # the one setup step: exit 2 if the rules do not fit the input
        prepared = prepare(
            request.loaded,
            request.source,
            request.encoding,
            request.delimiter,
            movements=True,
        )
        read = prepared.read
        _skipped_warnings(prepared.skipped_tables, request)
        previous = read_previous(request.out, request.previous, rules, request.retrain)
        if request.previous is not None and previous is None:
            # the cron recipe (`--out out/ --previous out/`) must work on its very first night
            request.log.event("no_previous_run", previous=str(request.previous))
            if not request.quiet:
                console.print(
                    f"no previous run in {request.out}: every golden record is new", markup=False
                )
        decisions_path, decisions = read_configured(request.loaded.path, request.loaded.rules)
        timings["read"] = round(time.perf_counter() - mark, 3)
        request.log.event("input_read", rows=read.frame.height, sha256=read.info.sha256)

        options = RunOptions(
            seed=request.seed,
            quarantine=request.quarantine,
            previous=previous.run if previous else None,
            decisions=decisions,
            model=previous.model if previous else None,
            reference=prepared.reference,
            force=request.force,
            movements=prepared.movements,
            now=request.as_of,
        )
        result, outcome = _matched(
            request,
            prepared,
            previous,
            decisions,
            options,
            lambda n: _step(progress, request.log, n),
        )
        timings.update(result.timings)
        code = result.validation.exit_code(request.fail_on.value)
        _rollup_warnings(result, request)

        _step(progress, request.log, "write")
        mark = time.perf_counter()
        protect = [
            *input_files(request.source, request.loaded),
            *rule_file_inputs(request.loaded),
            decisions_path,
        ]
        with atomic_output_dir(
            request.out, protect, "run", folder_of(request.previous), request.lock
        ) as tmp:
            facts = json_report.RunFacts(
                input=read.info.to_dict(),
                rule_file=str(request.loaded.path),
                rule_files=request.loaded.files,
                rules_sha256=request.loaded.digest,
                started_at=request.started_at,
                finished_at=datetime.now(UTC),
                fail_on=request.fail_on.value,
                show_values=request.show_values,
            )
            files, validate_document = _write_outputs(
                tmp, result, request.loaded, facts, outcome.night
            )
            manifest = _manifest(
                request.loaded,
                manifest_inputs(prepared),
                result,
                request.previous_shown(previous),
                request.seed,
                code,
                request.started_at,
                outcome.manifest(request.incremental),
            )
            manifest.update(
                decisions_file=str(decisions_path) if decisions_path else None,
                quarantine_enabled=request.quarantine,
            )
            manifest["input_columns"] = list(read.info.columns)
            if manifest.get("movements"):
                manifest["movements"]["skipped_tables"] = prepared.skipped_tables
            timings["write"] = round(time.perf_counter() - mark, 3)
            manifest["steps"] = timings
            history = _write_history(tmp, previous, manifest, validate_document)
            manifest["outputs"] = sorted([*files, HISTORY_FILE, "manifest.json"])
            # inside the folder's swap: a failed publish leaves yesterday's folder too
            _publish(request, progress, result, manifest, timings, history)
            write_json(request.loaded.scrub(manifest), tmp / "manifest.json")
            report_path = (
                _build_report(tmp, request.shown_out, request.show_values, request.log)
                if request.report
                else None
            )
    request.log.event("run_finished", exit_code=code, rows=manifest["rows"], steps=timings)
    if request.output_format is TableOrJson.json:  # a machine format: even with --quiet
        typer.echo(
            json.dumps(request.loaded.scrub(manifest), indent=2, sort_keys=True, default=str)
        )
    elif not request.quiet:  # the result: stdout, so `crmclean run ... > summary.txt` keeps it
        results = stdout_console()
        results.print(run_summary(manifest, request.shown_out))
        for line in where_lines(request.shown_out, report_path, manifest["outputs"]):
            results.print(line, markup=False)
    return code


def _matched(
    request: RunRequest,
    prepared: Prepared,
    previous: Previous | None,
    decisions: pl.DataFrame | None,
    options: RunOptions,
    on_step: Callable[[str], None],
) -> tuple[RunResult, Outcome]:
    """The run: incremental when asked and safe (docs/nightly.md), else full, saying why."""
    asked = asked_of(
        request.loaded,
        prepared,
        decisions,
        show_values=request.show_values,
        quarantine=request.quarantine,
        retrain=request.retrain,
    )
    built, reason = (
        attempt(asked, prepared, previous, options, on_step)
        if request.incremental
        else (None, None)
    )
    if reason is not None:
        request.log.event("incremental_fallback", reason=reason, level="warning")
        stderr_console().print(  # a warning, even with --quiet: the night took longer
            f"crmclean: warning: full run instead of incremental: {reason}", markup=False
        )
    result = (
        built.result
        if built is not None
        else _on_engine(request, prepared.plan, prepared.frame, options, on_step)
    )
    return result, Outcome(
        asked, built, reason, night_state(request.loaded, prepared.frame, result, built)
    )


def _write_history(
    tmp: Path, previous: Previous | None, manifest: dict[str, Any], validate: dict[str, Any]
) -> dict[str, Any]:
    """history.json: the nights so far and this one, for the report's trend (and for
    --publish). The nights come from --previous: its folder's history.json, or the history
    its published tables carry."""
    document = with_night(previous.history if previous else [], night(manifest, validate))
    write_json(document, tmp / HISTORY_FILE)
    return document


def _publish(
    request: RunRequest,
    progress: StepProgress | None,
    result: RunResult,
    manifest: dict[str, Any],
    timings: dict[str, float],
    history: dict[str, Any],
) -> None:
    """--publish: the run's tables into PostgreSQL (crmclean.io.publish), with history.json's
    document so a run reading them back continues the trend; nothing without it."""
    if request.publish is None:
        return
    _step(progress, request.log, "publish")
    mark = time.perf_counter()
    publish_run(request.publish, result, request.loaded, manifest, history)
    timings["publish"] = round(time.perf_counter() - mark, 3)
    request.log.event("published", to=str(request.publish), steps=timings)


def _step(progress: StepProgress | None, log: JsonLog, name: str) -> None:
    log.event("step_started", step=name)
    if progress:
        progress.step(name)


def _write_outputs(
    tmp: Path,
    result: RunResult,
    loaded: LoadedRules,
    facts: json_report.RunFacts,
    night: NightState,
) -> tuple[list[str], dict[str, Any]]:
    """Write the tables and summaries (and what the next --incremental night reads); the file
    names and the validate.json document."""
    show_values = facts.show_values
    golden = result.golden
    # violations and changes are written masked, as `validate --out` and `clean --out` write them
    pii = personal_columns(loaded.rules)
    violations = result.validation.violations
    changes = result.cleaning.changes
    if not show_values:
        violations, changes = mask_violations(violations, pii), mask_changes(changes, pii)
    violations = loaded.scrub_violations(violations)
    tables: dict[str, pl.DataFrame] = {
        "golden": golden.golden,
        "crosswalk": golden.crosswalk,
        "lineage": golden.lineage,
        "review": result.review,
        "changes-since-previous": golden.changes,
        "quarantine": result.quarantine,
        "violations": violations,
        "clean": result.cleaning.frame,
        "changes": changes,
    }
    if result.value is not None:
        tables["unmatched_movements"] = result.value.movements.unmatched
    if result.dedupe is not None:
        tables["pairs"] = result.dedupe.pairs
        tables["clusters"] = result.dedupe.clusters
    for name, frame in tables.items():
        write_parquet(frame, tmp / f"{name}.parquet")
    write_csv(golden.golden, tmp / "golden.csv")
    files = [f"{name}.parquet" for name in tables] + ["golden.csv", *night.write(tmp)]
    # the same typed summary `validate --out` writes (crmclean.summaries.ValidateSummary), with
    # the rule file's ${env.X} values put back as ${env.X}
    validate_summary = json_report.build(result.validation, facts, pii)
    validate_document = loaded.scrub(validate_summary.to_dict())
    write_json(validate_document, tmp / validate_summary.file)
    files.append(validate_summary.file)
    if result.dedupe is not None and loaded.rules.matching is not None:
        # the same summary `crmclean dedupe` writes, so `explain` and `report` read either folder
        write_json(model_to_dict(result.dedupe.model), tmp / "model.json")
        elapsed = (facts.finished_at - facts.started_at).total_seconds()  # the whole run so far
        summary = dedupe_summary(result.dedupe, loaded, loaded.rules.matching, elapsed)
        write_json(loaded.scrub(summary.to_dict()), tmp / "dedupe.json")
        files += ["model.json", "dedupe.json"]
        if night.keys is not None:  # what `match` and `serve` load (docs/entry.md)
            cleaned, spec = result.cleaning.frame, loaded.rules.matching
            files += write_match_tables(
                tmp, cleaned, night.keys, golden.crosswalk, spec, night.index()
            )
    return files, validate_document


def _manifest(
    loaded: LoadedRules,
    inputs: list[dict[str, Any]],
    result: RunResult,
    previous_dir: Path | str | None,
    seed: int | None,
    code: int,
    started_at: datetime,
    incremental: dict[str, Any],
) -> dict[str, Any]:
    rules = loaded.rules
    counts = result.counts()
    changes = result.golden.changes.group_by("change").len().sort("change")
    matching = rules.matching
    return {
        "schema_version": SCHEMA_VERSION,  # read back as crmclean.summaries.RunManifest
        "command": "run",
        "crmclean_version": __version__,
        "started_at": started_at.isoformat(timespec="seconds"),
        "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "rule_file": str(resolved(loaded.path)),  # review finds it from any folder
        "rule_files": list(loaded.files),
        "rule_file_sha256": loaded.digest,
        "inputs": inputs,
        "previous": str(previous_dir) if previous_dir else None,
        "seed": seed if seed is not None else (matching.training.seed if matching else None),
        "rows": counts,
        "rows_add_up": counts["input"] == counts["matched"] + counts["quarantined"],
        "changes_since_previous": dict(changes.iter_rows()),
        "golden_ids": result.golden.id_state.to_dict(),
        "thresholds": (
            {
                "review_threshold": matching.thresholds.review,
                "auto_merge_threshold": (
                    result.dedupe.auto_merge if result.dedupe else matching.thresholds.merge_at
                ),
            }
            if matching
            else {}
        ),
        "pii_columns": sorted(personal_columns(rules)),
        "source_column": rules.dataset.source_column,
        "movements": result.value.summary() if result.value is not None else {},
        "exit_code": code,
        "exit_status": "ok" if code == 0 else "data failed",
        **incremental,  # run_mode, incremental, incremental_state (docs/nightly.md)
    }


def _build_report(tmp: Path, out: Path | str, show_values: bool, log: JsonLog) -> Path | str | None:
    """report.html inside the temp folder, so it is swapped in with the data it describes.

    The report is a view of the outputs, not one of them: if it cannot be built the night's
    golden records are still published, and the failure is said on stderr and in the log.
    """
    from crmclean.report.html import build_report

    try:
        built = build_report(tmp, show_values=show_values, shown_as=out)
    except Exception as exc:  # any report bug must not cost the night's data
        log.event("report_failed", level="warning", error=str(exc), kind=type(exc).__name__)
        stderr_console().print(
            f"crmclean: warning: report.html not built ({type(exc).__name__}: {exc}); "
            f"rebuild it later with `crmclean report {out}`",
            markup=False,
        )
        return None
    return f"{out.rstrip('/')}/{built.name}" if isinstance(out, str) else out / built.name
