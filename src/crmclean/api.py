"""The Python API: what `import crmclean` promises (docs/api.md; CHANGELOG.md says when it changes).

Each function takes the data as a polars DataFrame or a location (a file path, or a database URL
where the CLI takes one; None reads the rule file's `sources:`) and a rule file (a path, or what
`load_rules` returned), runs the same setup step and core pipeline as the CLI, and returns the
typed result the CLI renders. Nothing here prints, exits or writes: problems raise
`CrmcleanError` subclasses (`ConfigError` and `RuleSetupError` for rule files, `InputError` for
data), each with the exit code the CLI uses.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import polars as pl

from crmclean.config import loader
from crmclean.config.loader import LoadedRules
from crmclean.config.rule_setup import Prepared, prepare, prepare_read
from crmclean.core.cleaning import CleanResult
from crmclean.core.golden.step import GoldenStep
from crmclean.core.matching import DedupeResult
from crmclean.core.pipeline import RunOptions, RunResult
from crmclean.core.validation import ValidationResult
from crmclean.errors import ConfigError, CrmcleanError, InputError, UsageError
from crmclean.io.decisions_file import read_configured, read_decisions
from crmclean.io.locations import parse_previous, read_location
from crmclean.io.readers import frame_table
from crmclean.io.run_folder import read_previous

__all__ = [
    "CleanResult",
    "ConfigError",
    "CrmcleanError",
    "Data",
    "DedupeResult",
    "GoldenStep",
    "InputError",
    "Rules",
    "RunResult",
    "ValidationResult",
    "clean",
    "dedupe",
    "load_rules",
    "read",
    "run",
    "validate",
]

Rules = LoadedRules  # a checked rule file and where it came from
Data = pl.DataFrame | str | Path  # a frame, a file path or a database URL
RulesArg = LoadedRules | str | Path


def load_rules(path: str | Path, environ: dict[str, str] | None = None) -> Rules:
    """Read and check a rule file (`extends:`, `vars:`, `${env.X}` from `environ` or os.environ).

    Raises ConfigError naming every problem at its `file:line:col` and YAML path.
    """
    return loader.load_rules(path, environ)


def read(data: Data | None, rules: RulesArg) -> pl.DataFrame:
    """The data as every step sees it: `record_id` first, columns typed as the rule file says."""
    return _prepared(data, _rules(rules)).frame


def validate(
    data: Data | None, rules: RulesArg, *, now: datetime | None = None
) -> ValidationResult:
    """Run the rule file's checks; `result.exit_code()` is what `crmclean validate` exits with."""
    prepared = _prepared(data, _rules(rules))
    when = now or datetime.now(UTC)
    return prepared.plan.validate(prepared.frame, reference=prepared.reference, now=when)


def clean(data: Data | None, rules: RulesArg) -> CleanResult:
    """Standardise and derive: `result.frame` is clean.parquet, `result.changes` every change."""
    prepared = _prepared(data, _rules(rules))
    return prepared.plan.clean(prepared.frame)


def dedupe(
    data: Data | None,
    rules: RulesArg,
    *,
    seed: int | None = None,
    decisions: str | Path | pl.DataFrame | None = None,
    force: bool = False,
) -> DedupeResult:
    """Clean, then find duplicate customers (pairs, clusters, the trained model), as
    `crmclean dedupe`. `decisions` overrides the rule file's `matching.decisions` file."""
    loaded = _rules(rules)
    prepared = _prepared(data, loaded)
    frame = prepared.plan.clean(prepared.frame, changes=False).frame
    decided = _decisions(loaded, decisions)
    return prepared.plan.dedupe(frame, seed=seed, decisions=decided, force=force)


def run(
    data: Data | None,
    rules: RulesArg,
    *,
    previous: str | Path | None = None,
    quarantine: bool = False,
    seed: int | None = None,
    retrain: bool = False,
    force: bool = False,
    now: datetime | None = None,
) -> RunResult:
    """clean -> validate -> dedupe -> golden records, as `crmclean run` computes them.

    `previous` is an earlier `crmclean run --out` folder: its golden ids stay stable and its
    match model is reused unless `retrain`. The result holds the golden records, crosswalk,
    lineage and review queue (`result.golden`, `result.review`); writing them is the CLI's job.
    """
    loaded = _rules(rules)
    prepared = _prepared(data, loaded)
    before = None
    if previous is not None:
        before = read_previous(None, parse_previous(previous), loaded.rules, retrain)
        if before is None:
            raise InputError(
                f"{previous}: no crosswalk.parquet or manifest.json from a previous run",
                "pass the --out folder of an earlier `crmclean run`",
            )
    options = RunOptions(
        seed=seed,
        quarantine=quarantine,
        previous=before.run if before else None,
        decisions=_decisions(loaded, None),
        model=before.model if before else None,
        reference=prepared.reference,
        now=now,
        force=force,
    )
    return prepared.plan.run(prepared.frame, options)


def _rules(rules: RulesArg) -> LoadedRules:
    return rules if isinstance(rules, LoadedRules) else load_rules(rules)


def _prepared(data: Data | None, loaded: LoadedRules) -> Prepared:
    id_column = loaded.rules.dataset.id_column
    if data is None:
        if not loaded.rules.sources:
            raise UsageError(f"{loaded.path}: has no sources: section", "pass the data")
        return prepare(loaded, None)
    if isinstance(data, pl.DataFrame):
        return prepare_read(loaded, frame_table(data, id_column=id_column))
    if isinstance(data, str | Path):
        return prepare_read(loaded, read_location(data, id_column=id_column))
    raise TypeError(f"data must be a polars DataFrame, a path or a URL, not {type(data).__name__}")


def _decisions(
    loaded: LoadedRules, decisions: str | Path | pl.DataFrame | None
) -> pl.DataFrame | None:
    if isinstance(decisions, pl.DataFrame):
        return decisions
    if decisions is not None:
        return read_decisions(Path(decisions))
    return read_configured(loaded.path, loaded.rules)[1]
