"""Load a run folder for the duplicate check at entry, shared by `match` and `serve`: the run
(crmclean.io.match_run), its rule file, which must be the one the run used, and the index.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import polars as pl

from crmclean.config import load_rules
from crmclean.config.loader import LoadedRules
from crmclean.config.rule_setup import locator
from crmclean.core.contracts import RECORD_ID
from crmclean.core.entry_check import EntryCheck, matching_rules
from crmclean.core.masking import MaskKind, personal_columns
from crmclean.core.matching.lookup import MatchIndex
from crmclean.core.rule_plan import compile_plan
from crmclean.core.standardise.column_types import apply_types
from crmclean.errors import InputError
from crmclean.io.locations import read_location
from crmclean.io.match_run import MatchRun, read_match_run
from crmclean.io.match_tables import FILES as TABLES


@dataclass(frozen=True)
class LoadedEntryCheck:
    check: EntryCheck
    run: MatchRun
    loaded: LoadedRules
    note: str | None = None  # said once on stderr (match) or in the log (serve)

    @property
    def pii(self) -> dict[str, MaskKind]:
        return personal_columns(self.loaded.rules)


def load_entry_check(folder: Path) -> LoadedEntryCheck:
    """The run in `folder` ready to answer lookups (exit 3 if it cannot be used)."""
    run = read_match_run(folder)
    loaded = load_rules(run.rule_file)
    if loaded.digest != run.rule_file_sha256:
        raise InputError(
            f"{run.rule_file}: changed since the run in {folder} (rule_file_sha256 differs), so "
            "new records would not be cleaned and blocked as the run's were",
            "run `crmclean run` again with this rule file, or restore the one the run used",
        )
    rules = loaded.rules
    types = {name: spec.type for name, spec in rules.columns.items()}
    empty = pl.DataFrame(schema=dict.fromkeys([RECORD_ID, *run.input_columns], pl.String))
    typed, _ = apply_types(empty, types, rules.dataset.null_tokens)
    compile_plan(rules, typed.schema, locator(loaded))  # the whole rule file fits, as in the run
    plan = compile_plan(matching_rules(rules, run.spec), typed.schema, locator(loaded))
    note = None
    if run.tables is None:
        index = MatchIndex.build(run.records, run.spec, run.model)
        note = (
            f"{folder} has no {' or '.join(TABLES)} (a run of an older crmclean): the index "
            "was built while loading, which takes longer; a new `crmclean run` writes them"
        )
    else:
        try:
            index = MatchIndex.from_tables(run.records, run.spec, run.model, run.tables)
        except ValueError as exc:
            table = TABLES[1] if getattr(exc, "table", "") == "terms" else TABLES[0]
            raise InputError(
                f"{folder / table}: does not fit the run ({exc})",
                "run `crmclean run` again: the folder is not as the run wrote it",
            ) from None
    check = EntryCheck.build(plan, index, run.input_columns, run.golden)
    return LoadedEntryCheck(check, run, loaded, note)


def read_records(
    location: str | Path,
    id_column: str | None,
    encoding: str | None = None,
    delimiter: str | None = None,
) -> pl.DataFrame:
    """New records from a file (CSV, Parquet, NDJSON, Excel) or a database URL, as text,
    `record_id` first: the id column's value where the table has one, else the row number;
    `encoding`/`delimiter` for a CSV (detected if not given)."""
    frame = read_location(location, encoding=encoding, delimiter=delimiter).frame
    if id_column is not None and id_column in frame.columns:
        frame = frame.with_columns(
            pl.col(id_column).cast(pl.String).fill_null(pl.col(RECORD_ID)).alias(RECORD_ID)
        )
    return frame
