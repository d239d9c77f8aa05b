"""The state an incremental run reads from the previous run folder (docs/nightly.md), and the
reasons an `--incremental` run is a full one instead. Every run writes the state
(record_hashes.parquet, blocking_keys.parquet and manifest.json's `incremental_state`)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from crmclean.core.golden.strategies import HighestMeasureSpec
from crmclean.core.incremental import HASH_SCHEMA, KEYS_SCHEMA, PreviousState
from crmclean.core.matching import MatchModel
from crmclean.core.matching.blocking import BlockingRuleStats
from crmclean.core.matching.scoring import fingerprint
from crmclean.core.rules.rule_file import RuleFile
from crmclean.errors import InputError
from crmclean.io.regular_file import is_present, read_text
from crmclean.io.run_folder import Previous
from crmclean.version import __version__

HASHES = "record_hashes.parquet"
KEYS = "blocking_keys.parquet"
# what an incremental run reads besides manifest, crosswalk and golden records
NEEDED = (HASHES, "clean.parquet", "changes.parquet", "violations.parquet", "lineage.parquet",
          "review.parquet")  # fmt: skip
MATCHING = (KEYS, "pairs.parquet", "clusters.parquet", "model.json", "dedupe.json")


def digest(value: Any) -> str:
    """sha256 of a JSON-able value (the reference lists) or a frame (the decisions)."""
    if isinstance(value, pl.DataFrame):
        text = value.write_csv()
    else:
        text = json.dumps(value, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass(frozen=True)
class Asked:
    """This run, as far as the fallback reasons need it."""

    rules: RuleFile
    rules_sha256: str
    columns: list[str]
    show_values: bool
    quarantine: bool
    retrain: bool
    decisions: str  # digest()
    reference: str  # digest()


def state_facts(asked: Asked, totals: Sequence[int]) -> dict[str, Any]:
    """manifest.json's `incremental_state`: what the next night compares itself with."""
    return {
        "polars_version": pl.__version__,
        "pair_totals": list(totals),
        "decisions_sha256": asked.decisions,
        "reference_sha256": asked.reference,
        "show_values": asked.show_values,
        "quarantine": asked.quarantine,
    }


def why_full(asked: Asked, previous: Previous | None) -> str | None:
    """Why this --incremental run must be a full one, or None when it is safe."""
    if previous is None or previous.folder is None:
        return "there is no previous run to build on"
    folder = previous.folder
    if not isinstance(folder, Path):
        return "--previous is a database: the state an incremental run reads is in a run folder"
    if asked.retrain:
        return "--retrain: a new model scores every pair again"
    if asked.quarantine:
        return "--quarantine: runs that set rows aside are full runs"
    rules = asked.rules
    if rules.survivorship is not None and _ranks_by_measure(rules):
        return "survivorship ranks members by movement measures, which change every night"
    wanted = NEEDED + (MATCHING if rules.matching is not None else ())
    missing = [name for name in wanted if not is_present(folder / name)]
    manifest = _manifest(folder)
    state = manifest.get("incremental_state")
    if missing or not isinstance(state, dict) or not state:
        lacking = ", ".join(missing) or "manifest.json's incremental_state"
        return f"the previous run in {folder} is incomplete for an incremental run ({lacking})"
    return _differences(asked, manifest, state, folder, previous.model)


def _differences(
    asked: Asked,
    manifest: Mapping[str, Any],
    state: Mapping[str, Any],
    folder: Path,
    model: MatchModel | None,
) -> str | None:
    checks: list[tuple[bool, str]] = [
        (
            manifest.get("rule_file_sha256") != asked.rules_sha256,
            "the rule file changed since the previous run",
        ),
        (
            manifest.get("crmclean_version") != __version__,
            f"the previous run was made by crmclean {manifest.get('crmclean_version')}, "
            f"this is {__version__}",
        ),
        (
            state.get("polars_version") != pl.__version__,
            f"record hashes were made with polars {state.get('polars_version')}, "
            f"this is {pl.__version__}",
        ),
        (
            list(manifest.get("input_columns") or []) != asked.columns,
            "the input's columns changed since the previous run",
        ),
        (
            bool(state.get("quarantine")) or bool(manifest.get("quarantine_enabled")),
            "the previous run set rows aside (--quarantine)",
        ),
        (
            asked.show_values and not state.get("show_values"),
            "--show-values: the previous run wrote its violations masked",
        ),
        (
            state.get("decisions_sha256") != asked.decisions,
            "the steward decisions changed since the previous run",
        ),
        (
            state.get("reference_sha256") != asked.reference,
            "a values_from reference table changed since the previous run",
        ),
    ]
    spec = asked.rules.matching
    if spec is not None:
        fitting = model is not None and model.fingerprint == fingerprint(spec)
        checks.append((not fitting, "the previous run's model has a different fingerprint"))
        totals = state.get("pair_totals")
        checks.append(
            (
                not isinstance(totals, list) or len(totals) != len(spec.blocking),
                f"the previous run in {folder} has no pair totals per blocking rule",
            )
        )
    return next((reason for failed, reason in checks if failed), None)


def _ranks_by_measure(rules: RuleFile) -> bool:
    spec = rules.survivorship
    assert spec is not None
    lists = [spec.default, *spec.columns.values()]
    lists += [g.strategies for g in spec.keep_together.values() if g.strategies]
    return any(isinstance(s, HighestMeasureSpec) for each in lists for s in each)


def _manifest(folder: Path) -> dict[str, Any]:
    data = json.loads(read_text(folder / "manifest.json"))
    return data if isinstance(data, dict) else {}


def _parquet(path: Path, schema: pl.Schema | None = None) -> pl.DataFrame:
    try:
        frame = pl.read_parquet(path, glob=False)
    except (OSError, pl.exceptions.PolarsError) as exc:
        reason = (str(exc).splitlines() or [type(exc).__name__])[0]
        raise InputError(f"{path}: not readable ({reason})") from None
    return frame.cast(schema) if schema is not None else frame


def read_state(previous: Previous, rules: RuleFile) -> PreviousState:
    """The previous run's tables, once why_full() found nothing against it."""
    folder = previous.folder
    assert isinstance(folder, Path)
    manifest = _manifest(folder)
    state = manifest["incremental_state"]
    tables = {name: _parquet(folder / name) for name in NEEDED if name != HASHES}
    common: dict[str, Any] = {
        "hashes": _parquet(folder / HASHES, HASH_SCHEMA),
        "clean": tables["clean.parquet"],
        "changes": tables["changes.parquet"],
        "violations": tables["violations.parquet"],
        "crosswalk": _parquet(folder / "crosswalk.parquet"),
        # read_previous read the golden records already (and checked them)
        "golden": previous.run.golden
        if previous.run.golden is not None
        else _parquet(folder / "golden.parquet"),
        "lineage": tables["lineage.parquet"],
        "review": tables["review.parquet"],
        "id_state": previous.run.id_state,
    }
    if rules.matching is None or previous.model is None:
        return PreviousState(**common)
    dedupe = json.loads(read_text(folder / "dedupe.json"))
    blocking = [
        BlockingRuleStats(
            **{**r, "skipped_examples": [tuple(e) for e in r.get("skipped_examples", [])]}
        )
        for r in dedupe.get("blocking", [])
    ]
    return PreviousState(
        **common,
        model=previous.model,
        keys=_parquet(folder / KEYS, KEYS_SCHEMA),
        pair_totals=[int(t) for t in state["pair_totals"]],
        pairs=_parquet(folder / "pairs.parquet"),
        clusters=_parquet(folder / "clusters.parquet"),
        blocking=blocking,
        dedupe_stats=dict(dedupe.get("stats", {})),
    )
