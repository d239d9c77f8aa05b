"""The incremental run: today's records against the previous run's state, only the new, changed
and deleted records and the clusters they touch computed again; everything else carried over.
What a full run with `--previous` would give, except where docs/nightly.md says otherwise."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

import polars as pl

from crmclean.core.cleaning import CleanResult, clean
from crmclean.core.contracts import PAIR_KEYS, RECORD_ID
from crmclean.core.incremental.blocking import IncrementalUnsafe, block_keys, delta_blocking
from crmclean.core.incremental.changes import content_hashes, record_changes
from crmclean.core.incremental.clusters import touched_clusters
from crmclean.core.incremental.golden import dedupe_stats, golden_again
from crmclean.core.incremental.matching import recluster, score_pairs
from crmclean.core.incremental.state import IncrementalRun, PreviousState
from crmclean.core.matching import DedupeResult, MatchingSpec, MatchModel
from crmclean.core.matching import decisions as decisions_
from crmclean.core.matching.lookup import needed_columns
from crmclean.core.matching.threshold_choice import with_auto_merge
from crmclean.core.pipeline import RunOptions, RunResult, add_rollup
from crmclean.core.validation import validate_changed
from crmclean.core.value import match_movements

if TYPE_CHECKING:
    from crmclean.core.rules.rule_file import RuleFile


def _in(ids: pl.Series, column: str = RECORD_ID) -> pl.Expr:
    return pl.col(column).is_in(ids.implode())


@dataclass(frozen=True)
class _Matched:
    members: pl.Series  # today's records clustered again
    old_members: pl.Series  # the previous records of the clusters they replace
    clusters: pl.DataFrame  # record_id, cluster_id of `members`
    touched: int
    result: DedupeResult | None = None
    keys: pl.DataFrame | None = None
    pair_totals: tuple[int, ...] = ()


def _as_chosen(rules: RuleFile, state: PreviousState) -> RuleFile:
    """A precision target's auto_merge as the previous run chose it (its model is reused too)."""
    if rules.matching is None:
        return rules
    chosen = (state.dedupe_stats.get("auto_merge") or {}).get("chosen")
    return rules.model_copy(update={"matching": with_auto_merge(rules.matching, chosen)})


def run_incremental(
    frame: pl.DataFrame,
    rules: RuleFile,
    state: PreviousState,
    options: RunOptions,
    on_step: Callable[[str], None] | None = None,
) -> IncrementalRun:
    """`frame`: today's typed records. Raises IncrementalUnsafe when it cannot give what a
    full run gives (the caller then runs a full one)."""
    timings: dict[str, float] = {}
    rules = _as_chosen(rules, state)

    @contextmanager
    def step(name: str) -> Iterator[None]:
        if on_step is not None:
            on_step(name)
        started = time.perf_counter()
        yield
        timings[name] = round(time.perf_counter() - started, 3)

    ids = frame.get_column(RECORD_ID)
    if ids.null_count() or ids.is_duplicated().any():  # the full run names them (exit 3)
        raise IncrementalUnsafe("record ids are empty or repeated")
    with step("clean"):
        hashes = content_hashes(frame)
        changes = record_changes(hashes, state.hashes)
        delta, gone = changes.delta, changes.gone
        cleaned = clean(frame.filter(_in(delta)), rules)
        kept = state.clean.filter(~_in(gone))
        whole = pl.concat([kept, cleaned.frame], how="vertical_relaxed")
        # today's position of every row (a join of the ids alone), then the rows in that order
        where = frame.select(RECORD_ID).with_row_index("__row")
        at = whole.select(RECORD_ID).join(where, on=RECORD_ID, how="left", maintain_order="left")
        rows = at.get_column("__row")
        if kept.height != changes.unchanged or rows.null_count():  # the state disagrees
            raise IncrementalUnsafe(
                f"the previous run's clean.parquet holds {kept.height - rows.null_count():,} "
                f"of the {changes.unchanged:,} unchanged records"
            )
        whole = whole.gather(rows.arg_sort())
        carried = state.changes.filter(~_in(gone))
        all_changes = pl.concat([carried, cleaned.changes], how="vertical_relaxed")
        cleaning = CleanResult(whole, all_changes, cleaned.step_stats)
    with step("validate"):
        validation = validate_changed(
            whole, delta, state.violations, rules, reference=options.reference, now=options.now
        )
    decided = (
        decisions_.normalise(options.decisions)
        if options.decisions is not None
        else decisions_.empty()
    )
    with step("dedupe"):
        spec = rules.matching
        if spec is not None and state.model is not None:
            matched = _match(whole, cleaned.frame, frame, changes.delta, gone, spec, state.model,
                             state, decided, options.force)  # fmt: skip
        else:
            old = state.crosswalk.filter(_in(gone))[RECORD_ID]
            singles = pl.DataFrame({RECORD_ID: delta, "cluster_id": delta})
            matched = _Matched(delta, old, singles, old.len())
    result = matched.result
    with step("golden"):
        golden, review = golden_again(
            whole,
            matched.members,
            matched.old_members,
            matched.clusters,
            result.pairs if result else None,
            result.review if result else None,
            validation,
            rules,
            state,
            decided,
        )
    held = frame.clear().with_columns(pl.lit(None, pl.String).alias("quarantine_rules"))
    value = None
    if rules.rollup is not None and options.movements is not None:
        with step("rollup"):
            movements = match_movements(
                options.movements, rules.rollup, whole, held, rules.dataset.source_column
            )
            golden, review, value = add_rollup(golden, review, movements, whole, rules.rollup)
    run = RunResult(
        input_rows=frame.height,
        cleaning=cleaning,
        validation=validation,
        dedupe=result,
        quarantine=held,
        golden=golden,
        review=review,
        timings=timings,
        exit_code=validation.exit_code(),
        value=value,
    )
    rebuilt = golden.crosswalk.filter(_in(matched.members)).get_column("golden_id").n_unique()
    return IncrementalRun(
        run, changes, matched.touched, rebuilt, matched.keys, list(matched.pair_totals), hashes
    )


def _match(
    whole: pl.DataFrame,
    cleaned: pl.DataFrame,
    frame: pl.DataFrame,
    delta: pl.Series,
    gone: pl.Series,
    spec: MatchingSpec,
    model: MatchModel,
    state: PreviousState,
    decided: pl.DataFrame,
    force: bool,
) -> _Matched:
    """Block and score the new pairs, then cluster the touched clusters again."""
    if state.keys is None or state.pairs is None or state.clusters is None:
        raise ValueError("an incremental run with matching needs the previous keys and pairs")
    must = decided.filter(pl.col("decision") == "match").select(PAIR_KEYS)
    cannot = decided.filter(pl.col("decision") == "no_match").select(PAIR_KEYS)
    delta_keys = block_keys(cleaned.select(RECORD_ID, *needed_columns(spec)), spec)
    blocked = delta_blocking(state.keys, delta_keys, gone, spec, state.pair_totals, force=force)
    scored = score_pairs(whole, blocked.pairs, spec, model)
    above = scored.filter(pl.col("match_probability") >= spec.thresholds.review)
    carried = (
        state.pairs.filter(~_in(gone, "record_id_l") & ~_in(gone, "record_id_r"))
        .join(blocked.pairs.select(PAIR_KEYS), on=PAIR_KEYS, how="anti")  # scored again
        .join(blocked.unblocked, on=PAIR_KEYS, how="anti")  # no block holds them now
    )
    pairs = pl.concat([carried, above], how="vertical_relaxed").sort(PAIR_KEYS)
    strong = pairs.filter(pl.col("match_probability") >= spec.thresholds.merge_at)
    # records whose pairs were scored again or dropped: their clusters may change too
    moved = pl.concat([blocked.pairs.select(PAIR_KEYS), blocked.unblocked])
    also = pl.concat([moved["record_id_l"], moved["record_id_r"], gone]).unique()
    touched = touched_clusters(
        state.clusters, delta, also, gone, pl.concat([strong.select(PAIR_KEYS), must])
    )
    before = state.clusters.select(RECORD_ID, pl.col("cluster_id").cast(pl.String))
    old_members = before.filter(_in(touched, "cluster_id")).get_column(RECORD_ID)
    members = pl.concat([old_members, delta]).unique().sort()
    members = members.filter(members.is_in(frame.get_column(RECORD_ID).implode()))
    inside = _in(members, "record_id_l") & _in(members, "record_id_r")
    redone = recluster(
        whole, members, pairs, spec, model, must.filter(inside), cannot.filter(inside)
    )
    untouched = before.filter(~_in(touched, "cluster_id") & ~_in(gone))
    clusters = pl.concat([untouched, redone.clusters.cast({"cluster_id": pl.String})])
    clusters = clusters.sort(RECORD_ID)
    stats = dedupe_stats(
        state, blocked.pairs.height, pairs, clusters, redone.stats, spec.thresholds
    )
    result = DedupeResult(
        pairs, clusters, model, redone.cut, stats, state.blocking, spec.thresholds.merge_at
    )
    return _Matched(
        members,
        old_members,
        redone.clusters,
        touched.len(),
        result,
        blocked.keys,
        tuple(blocked.pair_totals),
    )
