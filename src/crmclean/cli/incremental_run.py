"""`run --incremental`: build on the previous run when that is safe, else say why and let the
full run go ahead; and the state every run leaves for the next night (docs/nightly.md)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from crmclean.config.loader import LoadedRules
from crmclean.config.rule_setup import Prepared
from crmclean.core.incremental import (
    IncrementalRun,
    IncrementalUnsafe,
    content_hashes,
    index_of,
    keyed_rows,
    keys_of,
    pair_totals,
    run_incremental,
)
from crmclean.core.matching.lookup import needed_columns
from crmclean.core.pipeline import RunOptions, RunResult
from crmclean.io.incremental_state import HASHES, KEYS, Asked, digest, read_state, why_full
from crmclean.io.incremental_state import state_facts as _state_facts
from crmclean.io.run_folder import Previous
from crmclean.io.writers import write_parquet


def asked_of(
    loaded: LoadedRules,
    prepared: Prepared,
    decisions: pl.DataFrame | None,
    *,
    show_values: bool,
    quarantine: bool,
    retrain: bool,
) -> Asked:
    return Asked(
        rules=loaded.rules,
        rules_sha256=loaded.digest,
        columns=list(prepared.read.info.columns),
        show_values=show_values,
        quarantine=quarantine,
        retrain=retrain,
        decisions=digest(decisions if decisions is not None else pl.DataFrame()),
        reference=digest(prepared.reference),
    )


def attempt(
    asked: Asked,
    prepared: Prepared,
    previous: Previous | None,
    options: RunOptions,
    on_step: Callable[[str], None],
) -> tuple[IncrementalRun | None, str | None]:
    """The incremental run, or None and the reason it would not be what a full run gives."""
    reason = why_full(asked, previous)
    if reason is not None or previous is None:
        return None, reason
    state = read_state(previous, asked.rules)
    try:
        with prepared.plan.located():
            return run_incremental(prepared.frame, asked.rules, state, options, on_step), None
    except IncrementalUnsafe as exc:
        return None, str(exc)


@dataclass(frozen=True)
class NightState:
    """What this run leaves for the next --incremental one."""

    hashes: pl.DataFrame
    keys: pl.DataFrame | None
    totals: list[int]
    # the keys by row of the cleaned records, when made from them (the lookup index's source)
    keyed: list[pl.DataFrame] | None = None

    def index(self) -> pl.DataFrame | None:
        """The entry lookup's block-key index, made when written (not held through the run's
        other writes); None: build it from `keys` (an incremental night's)."""
        return index_of(self.keyed) if self.keyed is not None else None

    def write(self, tmp: Path) -> list[str]:
        write_parquet(self.hashes, tmp / HASHES)
        if self.keys is None:
            return [HASHES]
        write_parquet(self.keys, tmp / KEYS)
        return [HASHES, KEYS]


@dataclass(frozen=True)
class Outcome:
    """How the run went: incremental (`built`) or full (`reason` when one was asked for)."""

    asked: Asked
    built: IncrementalRun | None
    reason: str | None
    night: NightState

    def manifest(self, requested: bool) -> dict[str, Any]:
        """manifest.json's `run_mode`, `incremental` and `incremental_state`."""
        return {
            "run_mode": "incremental" if self.built is not None else "full",
            "incremental": incremental_facts(requested, self.built, self.reason),
            "incremental_state": _state_facts(self.asked, self.night.totals),
        }


def night_state(
    loaded: LoadedRules, frame: pl.DataFrame, result: RunResult, run: IncrementalRun | None
) -> NightState:
    if run is not None:
        return NightState(run.hashes, run.keys, run.pair_totals)
    spec = loaded.rules.matching
    if spec is None:
        return NightState(content_hashes(frame), None, [])
    cleaned = result.cleaning.frame
    records = cleaned.select("record_id", *needed_columns(spec))
    keyed = keyed_rows(records, spec)
    keys = keys_of(records, keyed)
    return NightState(content_hashes(frame), keys, pair_totals(keys, spec), keyed)


def incremental_facts(
    requested: bool, run: IncrementalRun | None, reason: str | None
) -> dict[str, Any]:
    """manifest.json's `incremental`."""
    if run is None:
        return {"requested": requested, "fallback_reason": reason} if requested else {}
    return {"requested": True, "fallback_reason": None, **run.summary()}
