"""The one setup step of every command that runs a rule file on data: read the data and the
reference files it names, type the columns, and compile the checked plan (core.rule_plan).

A rule file that does not fit the data is exit 2 with every problem at its YAML position; a file
that cannot be read (the data, a reference file) is exit 3. The same answer from `validate`,
`clean`, `dedupe` and `run`, because they all come through here.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

import polars as pl

from crmclean.config.loader import LoadedRules
from crmclean.config.rollup_files import movement_location, rollup_base
from crmclean.config.source_reads import read_sources
from crmclean.core.problems import Locator, RuleSetupError, SetupProblem, format_path
from crmclean.core.rule_plan import RulePlan, compile_plan
from crmclean.core.standardise.column_types import apply_types
from crmclean.core.validation import reference_requests
from crmclean.core.value import RollupSpec, table_problems
from crmclean.errors import ConfigIssue, InputError, UsageError
from crmclean.io.database_url import SCHEMES, DatabaseUrl
from crmclean.io.locations import read_location, shown_location
from crmclean.io.movement_files import read_movements
from crmclean.io.named_files import NamedFileProblem
from crmclean.io.readers import ReadInfo, ReadResult
from crmclean.io.reference_files import read_reference
from crmclean.io.storage_uri import StorageUri


@dataclass(frozen=True)
class Prepared:
    read: ReadResult  # the data, typed as the rule file declares
    plan: RulePlan
    reference: dict[str, list[str]]  # values_from lists, by reference key
    movements: dict[str, pl.DataFrame] | None = None  # the rollup's tables, when asked for
    sources: dict[str, ReadInfo] = field(default_factory=dict)  # `sources:`: each one's read
    skipped_tables: list[str] = field(
        default_factory=list
    )  # rollup files missing, if_missing: skip

    @property
    def frame(self) -> pl.DataFrame:
        return self.read.frame


def locator(loaded: LoadedRules) -> Locator:
    """Places a problem's YAML path in the rule file (or the file it extends) it came from."""

    def locate(problem: SetupProblem) -> ConfigIssue:
        return loaded.issue(problem.path, problem.problem, problem.hint)

    return locate


def located(loaded: LoadedRules, problems: list[SetupProblem]) -> RuleSetupError:
    return RuleSetupError(problems, locator(loaded))


def prepare(
    loaded: LoadedRules,
    location: Path | str | DatabaseUrl | StorageUri | None,
    encoding: str | None = None,
    delimiter: str | None = None,
    *,
    movements: bool = False,
) -> Prepared:
    """Read the input (a file, `-` for standard input, or a database URL; None: the rule
    file's `sources:`) with --encoding / --delimiter when given, then `prepare_read`."""
    if location is None:
        combined, parts = read_sources(loaded)
        return replace(prepare_read(loaded, combined, movements=movements), sources=parts)
    id_column = loaded.rules.dataset.id_column
    read = read_location(location, id_column=id_column, encoding=encoding, delimiter=delimiter)
    return prepare_read(loaded, read, movements=movements)


def prepare_read(loaded: LoadedRules, read: ReadResult, *, movements: bool = False) -> Prepared:
    """Data already read (a file, a frame, a database's rows) typed and checked against the
    rule file, with the reference files it names; with `movements` also the rollup's tables
    (`run`), whose missing files and columns are said with every other rule problem."""
    rules = loaded.rules
    types = {name: spec.type for name, spec in rules.columns.items()}
    frame, found = apply_types(read.frame, types, rules.dataset.null_tokens, read.locate)
    reference, missing = read_references(loaded)
    tables: dict[str, pl.DataFrame] | None = None
    skipped: list[str] = []
    if movements and rules.rollup is not None:
        tables, unusable, skipped = read_rollup_tables(loaded)
        missing += unusable
    plan = compile_plan(rules, frame.schema, locator(loaded), [*found, *missing])
    typed = ReadResult(frame, read.info, read.locate)
    return Prepared(typed, plan, reference, tables, skipped_tables=skipped)


def _empty_table(rollup: RollupSpec, name: str) -> pl.DataFrame:
    """A movement table with no rows and every column the section reads from it (text, as the
    reader gives): the stand-in for a missing file the rule file lets skip."""
    table = rollup.tables[name]
    columns = [table.record_id, table.source_system, table.date, table.amount]
    columns += [
        getattr(m, "column", None) for m in rollup.measures.values() if rollup.table_of(m) == name
    ]
    names = dict.fromkeys(["record_id", *(c for c in columns if c)])
    return pl.DataFrame(schema=dict.fromkeys(names, pl.String))


def _movement_table(where: Path | DatabaseUrl) -> pl.DataFrame | None:
    """A movement table from a file or a database URL, its columns as text (as a CSV gives
    them) and its row number as record_id."""
    if isinstance(where, Path):
        return read_movements(where)
    frame = read_location(where).frame
    return frame.with_columns(
        pl.col(c).cast(pl.String) for c, dtype in frame.schema.items() if dtype != pl.String
    )


def read_rollup_tables(
    loaded: LoadedRules,
) -> tuple[dict[str, pl.DataFrame], list[SetupProblem], list[str]]:
    """The rollup's movement tables, the rule problems and the tables skipped. A file that is
    not there (unless its table says if_missing: skip) or lacks a column the section names is a
    rule problem (exit 2); one that cannot be read is exit 3, naming the table."""
    rollup = loaded.rules.rollup
    frames: dict[str, pl.DataFrame] = {}
    problems: list[SetupProblem] = []
    skipped: list[str] = []
    if rollup is None:
        return frames, problems, skipped
    for name, table in rollup.tables.items():
        yaml_path = ("rollup", "tables", name, "file")
        file = table.file
        try:
            frame = _movement_table(movement_location(file, rollup_base(loaded, name)))
        except UsageError as exc:  # a URL crmclean does not read, or a mistake in one
            # http:// or file:// in full; a database URL without its query text
            database = file.split(":", 1)[0].lower() in SCHEMES
            shown = shown_location(file) if database else file
            problems.append(SetupProblem(yaml_path, f"cannot use {shown}: {exc.message}", exc.hint))
            continue
        except NamedFileProblem as exc:
            shown = shown_location(file)
            problems.append(SetupProblem(yaml_path, f"cannot use {shown}: {exc.problem}", exc.hint))
            continue
        except InputError as exc:
            raise InputError(
                f"{loaded.where(yaml_path)} {format_path(yaml_path)}: {exc.message}", exc.hint
            ) from None
        if frame is None and rollup.tables[name].if_missing == "skip":
            frames[name] = _empty_table(rollup, name)
            skipped.append(name)
            continue
        if frame is None:
            problems.append(
                SetupProblem(
                    yaml_path,
                    f"cannot use {file}: file not found",
                    "fix the path, or set if_missing: skip on the table",
                )
            )
            continue
        columns = [c for c in frame.columns if c != "record_id"]
        problems += table_problems(rollup, name, columns, shown_location(file))
        frames[name] = frame
    return frames, problems, skipped


def read_references(loaded: LoadedRules) -> tuple[dict[str, list[str]], list[SetupProblem]]:
    """Every values_from file, relative to the rule file that names it. A file that cannot be
    read is exit 3 (naming the rule that wants it); a column it lacks is a rule problem."""
    values: dict[str, list[str]] = {}
    problems: list[SetupProblem] = []
    for yaml_path, file, column, key in reference_requests(loaded.rules):
        where = loaded.located.where(yaml_path)
        path = (Path(where[0]).parent if where else loaded.path.parent) / file
        try:
            frame = read_reference(path)
        except NamedFileProblem as exc:
            problems.append(SetupProblem(yaml_path, f"cannot use {file}: {exc.problem}", exc.hint))
            continue
        except InputError as exc:
            raise InputError(
                f"{loaded.where(yaml_path)} {format_path(yaml_path)}: {exc.message}", exc.hint
            ) from None
        if frame is None:  # the rule file names a file that is not there: its mistake
            problems.append(SetupProblem(yaml_path, f"cannot use {file}: file not found"))
            continue
        if column not in frame.columns:  # its header is the file's content: not quoted
            problems.append(
                SetupProblem(
                    (*yaml_path[:-1], "column"),
                    f"{file} has no column {column!r}",
                    "check the header row of the file and column: in the rule file",
                )
            )
            continue
        series = frame.get_column(column).drop_nulls().unique(maintain_order=True)
        values[key] = [str(v) for v in series]
    return values, problems
