"""The duplicate check at entry composed: new records are typed and cleaned as the run's rule file
cleans its input, then looked up in the run's index (core.matching.lookup) and answered with the
candidate golden records. Built once per run folder; `match` and `serve` call `check` per request.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import polars as pl

from crmclean.core.contracts import RECORD_ID
from crmclean.core.entry_clean import clean_fused
from crmclean.core.matching.lookup import MatchIndex, lookup, needed_columns
from crmclean.core.matching.spec import MatchingSpec
from crmclean.core.rule_plan import RulePlan
from crmclean.core.rules.rule_file import RuleFile
from crmclean.core.standardise.column_types import apply_types
from crmclean.errors import UsageError

_SCALARS = (str, int, float, bool)


_COUNTRY_STEPS = ("phone", "postcode", "street")  # steps that read the country column


def matching_rules(rules: RuleFile, spec: MatchingSpec) -> RuleFile:
    """The rule file cut down to what cleans the columns matching reads: the `derive:` keys it
    uses (and the keys they are built from), the standardise steps of their sources and of the
    columns those steps fill, and the country column's when a step reads it. A lookup cleans
    one record at a time, where every step costs the same whatever the rows: what matching
    does not read is not cleaned."""
    needed = set(needed_columns(spec))
    for name, derived in reversed(list(rules.derive.items())):
        if name in needed:
            needed |= set(derived.sources)
    derive = {name: spec_ for name, spec_ in rules.derive.items() if name in needed}
    columns = {}
    for name, column in rules.columns.items():
        fills = {out for step in column.standardise for out in step.output_columns()}
        keep = name in needed or bool(fills & needed)
        columns[name] = column if keep else column.model_copy(update={"standardise": []})
    reads_country = any(
        step.type in _COUNTRY_STEPS for c in columns.values() for step in c.standardise
    )
    country = rules.dataset.country_column
    if reads_country and country in rules.columns:
        columns[country] = rules.columns[country]
    return rules.model_copy(update={"columns": columns, "derive": derive})


@dataclass(frozen=True)
class EntryCheck:
    plan: RulePlan  # compiled from matching_rules(): cleans only what matching reads
    index: MatchIndex
    input_columns: list[str]  # the run's input columns: what a new record may name
    golden: pl.DataFrame  # golden.parquet, sorted by golden_id
    golden_ids: pl.Series  # its golden_id column, sorted

    @classmethod
    def build(
        cls, plan: RulePlan, index: MatchIndex, input_columns: list[str], golden: pl.DataFrame
    ) -> EntryCheck:
        ordered = golden.with_columns(pl.col("golden_id").cast(pl.String))
        if not ordered.get_column("golden_id").is_sorted():  # a run writes them sorted
            ordered = ordered.sort("golden_id")
        return cls(plan, index, input_columns, ordered, ordered.get_column("golden_id"))

    @property
    def id_column(self) -> str | None:
        return self.plan.rules.dataset.id_column

    def records(self, items: object) -> pl.DataFrame:
        """JSON records (an object or a list of objects, values scalars or null) as a frame of
        strings, `record_id` first (the id column's value, else the 1-based position)."""
        listed = items if isinstance(items, list) else [items]
        known = set(self.input_columns)
        rows: list[dict[str, str | None]] = []
        for position, item in enumerate(listed, start=1):
            if not isinstance(item, dict):
                raise UsageError(f"record {position}: is not a JSON object of column: value")
            unknown = sorted(str(k) for k in item if k not in known)
            if unknown:
                raise UsageError(
                    f"record {position}: unknown column(s) {', '.join(unknown)}",
                    "known columns: " + ", ".join(self.input_columns),
                )
            row: dict[str, str | None] = {}
            for key, value in item.items():
                if value is not None and not isinstance(value, _SCALARS):
                    raise UsageError(f"record {position}: {key} is not a text, number or null")
                if isinstance(value, float) and not math.isfinite(value):
                    raise UsageError(f"record {position}: {key} is not a finite number")
                if isinstance(value, str) and not _encodable(value):
                    raise UsageError(
                        f"record {position}: {key} holds a lone surrogate (\\ud800-\\udfff), "
                        "which is no character",
                        "send the text as UTF-8, with surrogate pairs joined",
                    )
                row[key] = None if value is None else _text(value)
            rows.append(row)
        schema = dict.fromkeys(self.input_columns, pl.String)
        frame = pl.DataFrame(rows, schema=schema) if rows else pl.DataFrame(schema=schema)
        ids = frame.get_column(self.id_column) if self.id_column in frame.columns else None
        positions = pl.int_range(1, frame.height + 1, eager=True).cast(pl.String)
        record_id = positions if ids is None else ids.fill_null(positions)
        return frame.select(record_id.alias(RECORD_ID), pl.all())

    def check(
        self, frame: pl.DataFrame, *, limit: int = 5, min_probability: float | None = None
    ) -> list[dict[str, Any]]:
        """One answer per record of `frame` (strings, `record_id` first, any subset of the
        input columns): its id, the decision and the candidate golden records."""
        unknown = [c for c in frame.columns if c not in {RECORD_ID, *self.input_columns}]
        if unknown:
            raise UsageError(
                f"unknown column(s) {', '.join(unknown)}",
                "known columns: " + ", ".join(self.input_columns),
            )
        filled = frame.with_columns(
            pl.lit(None, pl.String).alias(c) for c in self.input_columns if c not in frame.columns
        )
        rules = self.plan.rules
        types = {name: spec.type for name, spec in rules.columns.items()}
        typed, problems = apply_types(
            filled, types, rules.dataset.null_tokens, lambda row: f"record {row + 1}"
        )
        if problems:
            raise UsageError(problems[0].problem, problems[0].hint)
        with self.plan.located():  # one fused plan: the values plan.clean gives
            cleaned = clean_fused(typed, rules)
        answers = lookup(self.index, cleaned, limit=limit, min_probability=min_probability)
        ids = frame.get_column(RECORD_ID).cast(pl.String).to_list()
        for record_id, answer in zip(ids, answers, strict=True):
            answer["record"] = record_id
            for candidate in answer["candidates"]:
                candidate["golden"] = self.golden_record(candidate["golden_id"])
        return answers

    def golden_record(self, golden_id: str) -> dict[str, Any] | None:
        """The golden record of `golden_id` (binary search, no scan)."""
        at = int(self.golden_ids.search_sorted(golden_id))
        if at >= len(self.golden_ids) or self.golden_ids[at] != golden_id:
            return None
        return self.golden.row(at, named=True)


def _encodable(text: str) -> bool:
    """False for a JSON string holding a lone surrogate (`"\\ud800"`): not UTF-8 text."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _text(value: str | int | float | bool) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
