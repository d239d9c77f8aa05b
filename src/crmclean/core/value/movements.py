"""Movement rows matched to the customer records they name, or set aside with the reason.

Every movement row ends in exactly one place: matched to an input record that is on a golden
record, or in `unmatched_movements` with why (no record id, bad date, bad amount, unknown source
system, unknown record id, quarantined record). Dates and amounts are parsed once, as whole
columns. In a run with `sources:` a table keyed per source system holds each system's own ids,
made the run's ids (`crm:4711`) as the sources section makes them (source_ids.py).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date as Day

import polars as pl

from crmclean.core.contracts import RECORD_ID
from crmclean.core.value.measures import AMOUNT, DATE, NUMERIC, number_column
from crmclean.core.value.source_ids import UNKNOWN_SOURCE, run_id, source_names
from crmclean.core.value.spec import MovementTableSpec, RollupSpec

ROW = "__row"  # the movement's 1-based row in its table
RIX = "__rix"  # the position of the movement's customer record among the kept records
SOURCE = "__source"  # the source system, trimmed and lower-cased, where ids are per source
GIVEN = "__given"  # the movement's record id as given (trimmed); __rid: the run's record id
# unmatched_movements.parquet: one row per movement row that is on no golden record
UNMATCHED_SCHEMA = pl.Schema(
    {
        "table": pl.String(),
        "row": pl.Int64(),
        "record_id": pl.String(),
        "source_system": pl.String(),
        "date": pl.String(),
        "amount": pl.String(),
        "reason": pl.String(),
    }
)
NO_ID = "no record id"
BAD_DATE = "bad date"
FUTURE_DATE = "date in the future"
BAD_AMOUNT = "bad amount"
MAX_AMOUNT = 1e15  # an amount at or above this (in absolute value) is a bad amount
UNKNOWN_ID = "unknown record id"
QUARANTINED = "quarantined record"
REASONS = (NO_ID, BAD_DATE, FUTURE_DATE, BAD_AMOUNT, UNKNOWN_SOURCE, UNKNOWN_ID, QUARANTINED)


@dataclass(frozen=True)
class MatchedMovements:
    """Per table the movement rows on a kept input record (record_id, __date, __amount, data
    columns), and every other row with its reason."""

    tables: dict[str, pl.DataFrame]  # with RIX: the row of the record in `record_ids`
    unmatched: pl.DataFrame  # UNMATCHED_SCHEMA
    rows: dict[str, int]  # rows read per table
    record_ids: pl.Series  # the kept records' ids; a movement's RIX indexes it
    latest: Day | None = None  # the latest date of any usable row, matched to a record or not
    # per table, per column a sum/min/max measure reads: matched rows whose value is no number
    not_numbers: dict[str, dict[str, int]] = field(default_factory=dict)

    def totals(self) -> dict[str, dict[str, int]]:
        """Per table: rows, matched, unmatched and each reason; rows == matched + unmatched."""
        by_reason = self.unmatched.group_by("table", "reason").len()
        out: dict[str, dict[str, int]] = {}
        for name, rows in self.rows.items():
            reasons = by_reason.filter(pl.col("table") == name)
            counts = dict(zip(reasons["reason"].to_list(), reasons["len"].to_list(), strict=True))
            out[name] = {
                "rows": rows,
                "matched": self.tables[name].height,
                "unmatched": int(sum(counts.values())),
                **{reason: int(counts.get(reason, 0)) for reason in REASONS},
            }
        return out


ISO_DATE = "%Y-%m-%d"
_ISO_TIME = r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}"  # an ISO date-time: its day as written


def parse_date(column: str, fmt: str) -> pl.Expr:
    text = pl.col(column).cast(pl.String).str.strip_chars()
    if fmt == ISO_DATE:
        text = pl.when(text.str.contains(_ISO_TIME)).then(text.str.slice(0, 10)).otherwise(text)
    return text.str.strptime(pl.Date, fmt, strict=False)


_COMMA_NUMBER = r"^[+-]?(\d{1,3}(\.\d{3})+|\d+)(,\d+)?$"  # 1.234,56 / 1234,56 / 1.234


def parse_amount(column: str, decimal_comma: bool) -> pl.Expr:
    text = pl.col(column).cast(pl.String).str.strip_chars()
    if decimal_comma:
        # a dot only groups thousands (1.234,56): 100.50 is a mistake, not 10050
        grouped = text.str.contains(_COMMA_NUMBER)
        plain = text.str.replace_all(".", "", literal=True).str.replace(",", ".", literal=True)
        text = pl.when(grouped).then(plain)
    number = text.cast(pl.Float64, strict=False)
    # beyond any real amount (a quadrillion): a sum of a few such values would overflow to inf
    return pl.when(number.is_finite() & (number.abs() < MAX_AMOUNT)).then(number)


def _source(table: MovementTableSpec, frame: pl.DataFrame, sources: Sequence[str]) -> pl.Expr:
    """Each row's system trimmed and lower-cased; with `sources`, the configured source's name
    it spells (null where it names none)."""

    def named(values: list[str]) -> dict[str, str | None]:
        if sources:
            return source_names(values, sources)
        return {v: v.strip().lower() for v in values}

    if table.source_system is not None:
        # a handful of systems in millions of rows: each spelling resolved once
        column = pl.col(table.source_system).cast(pl.String)
        values = frame.select(column.unique().drop_nulls()).to_series().to_list()
        return column.replace_strict(named(values), default=None, return_dtype=pl.String)
    if table.source is not None:
        return pl.lit(named([table.source])[table.source], pl.String)
    return pl.lit(None, pl.String)


def _parsed(
    name: str,
    table: MovementTableSpec,
    frame: pl.DataFrame,
    keep: list[str],
    sources: Sequence[str],
    today: Day | None,
    numeric: list[str],
) -> pl.LazyFrame:
    """The table with its row number, id as given and as the run's record id, source, date and
    amount parsed, the columns in `keep`, the `numeric` ones also as numbers (number_column),
    and the reason a row cannot be used whatever the customers (null when it can)."""
    per_source = bool(table.source_system or table.source)
    own_ids = bool(sources) and per_source  # a system's own ids in a run with `sources:`
    rid = pl.col(table.record_id).cast(pl.String).str.strip_chars()
    date = parse_date(table.date, table.date_format) if table.date else pl.lit(None, pl.Date)
    amount = pl.lit(None, pl.Float64)
    if table.amount:
        amount = parse_amount(table.amount, table.decimal_comma)
    # the first reason that holds, in this order
    reason = pl.lit(None, pl.String)
    if own_ids:
        reason = pl.when(pl.col(SOURCE).is_null()).then(pl.lit(UNKNOWN_SOURCE))
    if table.amount:
        reason = pl.when(pl.col(AMOUNT).is_null()).then(pl.lit(BAD_AMOUNT)).otherwise(reason)
    if table.date and today is not None:
        late = pl.col(DATE) > pl.lit(today, pl.Date)
        reason = pl.when(late).then(pl.lit(FUTURE_DATE)).otherwise(reason)
    if table.date:
        reason = pl.when(pl.col(DATE).is_null()).then(pl.lit(BAD_DATE)).otherwise(reason)
    given = pl.col(GIVEN)
    reason = pl.when(given.is_null() | (given == "")).then(pl.lit(NO_ID)).otherwise(reason)
    # read_table numbers the rows of a table read without an id column as its record_id
    row = (
        pl.col(RECORD_ID).cast(pl.Int64)
        if RECORD_ID in frame.columns
        else pl.int_range(1, pl.len() + 1, dtype=pl.Int64)
    )
    raw = [table.source_system, table.date, table.amount, *keep, *numeric]
    data = list(dict.fromkeys(c for c in raw if c is not None and c != RECORD_ID))
    source = _source(table, frame, sources)
    numbers = [parse_amount(c, table.decimal_comma).alias(number_column(c)) for c in numeric]
    parsed = frame.lazy().select(
        pl.lit(name).alias("table"),
        row.alias(ROW),
        rid.alias(GIVEN),
        source.alias("__sname" if own_ids else SOURCE),
        date.alias(DATE),
        amount.alias(AMOUNT),
        *numbers,
        *data,
    )
    if own_ids:
        # `crm:4711` as the sources section makes it; the system compared case-blind as below
        parsed = parsed.with_columns(
            run_id(pl.col(GIVEN), pl.col("__sname")).alias("__rid"),
            pl.col("__sname").str.to_lowercase().alias(SOURCE),
        ).drop("__sname")
    else:
        parsed = parsed.with_columns(pl.col(GIVEN).alias("__rid"))
    return parsed.with_columns(reason.alias("__reason"))


def _unmatched(parsed: pl.LazyFrame, table: MovementTableSpec, reason: pl.Expr) -> pl.LazyFrame:
    def raw(column: str | None) -> pl.Expr:
        return pl.col(column).cast(pl.String) if column else pl.lit(None, pl.String)

    return parsed.select(
        "table",
        pl.col(ROW).cast(pl.Int64).alias("row"),
        pl.col(GIVEN).alias("record_id"),
        (raw(table.source_system) if table.source_system else pl.col(SOURCE)).alias(
            "source_system"
        ),
        raw(table.date).alias("date"),
        raw(table.amount).alias("amount"),
        reason.alias("reason"),
    )


def match_movements(
    tables: Mapping[str, pl.DataFrame],
    spec: RollupSpec,
    kept: pl.DataFrame,
    quarantined: pl.DataFrame,
    source_column: str | None,
    sources: Sequence[str] = (),
    today: Day | None = None,
) -> MatchedMovements:
    """Join each movement table to the kept customer records by record id (and source system
    where the table says where its ids come from); `kept` and `quarantined` hold record_id and
    `source_column`. Ids are compared trimmed, source systems trimmed and lower-cased.

    `sources` are the configured source names of a run with `sources:`: a table keyed per
    system then holds each system's own ids, made `<source>:<id>`; a row whose system is none
    of them is unmatched as an unknown source system. A row dated after `today` (the run's
    day) is unmatched as a date in the future."""

    def keys(frame: pl.DataFrame) -> pl.DataFrame:
        source = (
            pl.col(source_column).cast(pl.String).str.strip_chars().str.to_lowercase()
            if source_column and source_column in frame.columns
            else pl.lit(None, pl.String)
        )
        rid = pl.col(RECORD_ID).str.strip_chars()
        return frame.select(rid.alias("__rid"), source.alias(SOURCE))

    known, held = keys(kept).with_row_index(RIX), keys(quarantined)
    # record ids are unique in the input, so one join on the id finds the record; the source
    # system is then compared (an id of another system is unknown). Ids repeated across
    # systems (not possible through `run`) take the join on both.
    ids_repeat = bool(known.get_column("__rid").is_duplicated().any())
    matched: dict[str, pl.DataFrame] = {}
    unmatched: list[pl.DataFrame] = [pl.DataFrame(schema=UNMATCHED_SCHEMA)]
    rows: dict[str, int] = {}
    latest: list[Day] = []
    not_numbers: dict[str, dict[str, int]] = {}
    for name, frame in tables.items():
        table = spec.tables[name]
        per_source = bool(table.source_system or table.source)
        on = ["__rid", SOURCE] if per_source else ["__rid"]
        # only what the measures read is carried on (ten million rows of text are costly)
        keep = [c for c in measure_columns(spec, name) if c in frame.columns]
        numeric = [c for c in number_columns(spec, name) if c in frame.columns]
        parsed = _parsed(name, table, frame, keep, sources, today, numeric)
        rows[name] = frame.height
        usable = parsed.filter(pl.col("__reason").is_null())
        if per_source and ids_repeat:
            joined = usable.join(known.lazy(), on=on, how="left")
            hit = pl.col(RIX).is_not_null()
        else:
            joined = usable.join(known.lazy().rename({SOURCE: "__ksrc"}), on="__rid", how="left")
            hit = pl.col(RIX).is_not_null()
            if per_source:
                hit = hit & pl.col(SOURCE).eq_missing(pl.col("__ksrc"))
        flagged = joined.with_columns(hit.alias("__hit"))
        placed = flagged.filter(pl.col("__hit")).select(
            RIX, ROW, DATE, AMOUNT, *[number_column(c) for c in numeric], *keep
        )
        given = [pl.col(c).cast(pl.String).str.strip_chars() for c in numeric]
        wrong = flagged.filter(pl.col("__hit")).select(
            (v.is_not_null() & (v != "") & pl.col(number_column(c)).is_null()).sum().alias(c)
            for c, v in zip(numeric, given, strict=True)
        )
        missing = flagged.filter(~pl.col("__hit")).join(
            held.lazy().select(on).unique().with_columns(pl.lit(True).alias("__held")),
            on=on,
            how="left",
        )
        why = pl.when(pl.col("__held").fill_null(False)).then(pl.lit(QUARANTINED))
        done = pl.collect_all(
            [
                placed,
                _unmatched(
                    parsed.filter(pl.col("__reason").is_not_null()), table, pl.col("__reason")
                ),
                _unmatched(missing, table, why.otherwise(pl.lit(UNKNOWN_ID))),
                usable.select(pl.col(DATE).max()),
                wrong,
            ]
        )
        counts = done[4].row(0, named=True) if numeric else {}
        not_numbers[name] = {c: int(n) for c, n in counts.items()}
        matched[name] = done[0]
        unmatched += done[1:3]
        last = done[3].item()
        if isinstance(last, Day):
            latest.append(last)
    return MatchedMovements(
        matched,
        pl.concat(unmatched, how="vertical_relaxed").cast(UNMATCHED_SCHEMA).sort("table", "row"),
        rows,
        known.get_column("__rid"),
        max(latest) if latest else None,
        not_numbers,
    )


def measure_columns(spec: RollupSpec, table: str) -> list[str]:
    """The columns of a table its measures read as they are (distinct counts): the numeric
    measures' columns are carried parsed (number_columns)."""
    named = (
        getattr(m, "column", None)
        for m in spec.measures.values()
        if spec.table_of(m) == table and m.type not in NUMERIC
    )
    return list(dict.fromkeys(c for c in named if c is not None))


def number_columns(spec: RollupSpec, table: str) -> list[str]:
    """The columns of a table that sum/min/max measures read as numbers."""
    named = (
        getattr(m, "column", None)
        for m in spec.measures.values()
        if spec.table_of(m) == table and m.type in NUMERIC
    )
    return list(dict.fromkeys(c for c in named if c is not None))
