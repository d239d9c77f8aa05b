"""Is a previous run's output complete and consistent enough to carry golden ids forward?

Golden ids are handed out once, ever. A crosswalk that lost rows, holds null or foreign ids, or
ids above the recorded high-water mark would make the next run mint ids that some customer
already had; so the previous run must agree with itself or the next run stops.
"""

from __future__ import annotations

from collections.abc import Mapping

import polars as pl

from crmclean.core.contracts import RECORD_ID
from crmclean.core.golden.ids import ID_DIGITS, IdState


def _count(frame: pl.DataFrame, expr: pl.Expr) -> int:
    return int(frame.select(expr.sum()).item() or 0)


def id_problems(ids: pl.Series, state: IdState, where: str) -> list[str]:
    frame = ids.to_frame("golden_id")
    # [0-9], not \d: polars' \d is Unicode-aware and would pass full-width digits (G０...)
    pattern = rf"^{state.prefix}[0-9]{{{ID_DIGITS}}}$"
    problems = []
    nulls = _count(frame, pl.col("golden_id").is_null())
    if nulls:
        problems.append(f"{where} has {nulls:,} empty golden_id(s)")
    bad = frame.filter(
        pl.col("golden_id").is_not_null() & ~pl.col("golden_id").str.contains(pattern)
    )
    if bad.height:
        problems.append(
            f"{where} has {bad.height:,} golden_id(s) not of the form "
            f"{state.prefix}{'0' * ID_DIGITS} (e.g. {bad['golden_id'][0]!r})"
        )
    top = frame.select(
        pl.col("golden_id").str.strip_prefix(state.prefix).cast(pl.Int64, strict=False).max()
    ).item()
    if top is not None and top > state.high_water_mark:
        problems.append(
            f"{where} holds id {state.prefix}{top:0{ID_DIGITS}d} above the high-water mark "
            f"{state.high_water_mark} of manifest.json"
        )
    return problems


def run_problems(
    crosswalk: pl.DataFrame,
    golden_ids: pl.Series,
    state: IdState,
    rows: Mapping[str, object],
) -> list[str]:
    """Everything that makes the previous run's outputs disagree with themselves.

    `crosswalk` is (record_id, golden_id), `golden_ids` the golden_id column of golden.parquet,
    `rows` the manifest's row counts (input, quarantined, matched, golden).
    """
    problems: list[str] = []
    values = [rows.get(k) for k in ("input", "quarantined", "matched", "golden")]
    counts = [v for v in values if isinstance(v, int) and not isinstance(v, bool) and v >= 0]
    if len(counts) != len(values):
        return ["manifest.json rows lacks input, quarantined, matched or golden counts"]
    input_, quarantined, matched, golden = counts
    if input_ != matched + quarantined:
        problems.append(
            f"manifest.json rows do not add up: input {input_:,} != matched {matched:,} "
            f"+ quarantined {quarantined:,}"
        )
    if crosswalk.height != matched:
        problems.append(
            f"crosswalk.parquet has {crosswalk.height:,} rows, manifest.json says {matched:,}"
        )
    if golden_ids.len() != golden:
        problems.append(
            f"golden.parquet has {golden_ids.len():,} rows, manifest.json says {golden:,}"
        )
    null_records = crosswalk[RECORD_ID].null_count()
    if null_records:
        problems.append(f"crosswalk.parquet has {null_records:,} empty record_id(s)")
    repeated = crosswalk.height - null_records - crosswalk[RECORD_ID].drop_nulls().n_unique()
    if repeated:
        problems.append(f"crosswalk.parquet lists {repeated:,} record(s) more than once")
    problems += id_problems(crosswalk["golden_id"], state, "crosswalk.parquet")
    problems += id_problems(golden_ids, state, "golden.parquet")
    if golden_ids.is_duplicated().any():
        problems.append("golden.parquet repeats a golden_id")
    in_crosswalk = crosswalk["golden_id"].drop_nulls().unique()
    golden_set = golden_ids.drop_nulls().unique()
    if not in_crosswalk.sort().equals(golden_set.sort()):
        problems.append(
            f"crosswalk.parquet names {in_crosswalk.len():,} golden ids, golden.parquet "
            f"{golden_set.len():,}, and they are not the same ids"
        )
    return problems
