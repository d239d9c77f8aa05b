"""What `crmclean run` reads besides the data: the previous run, steward decisions, leftovers of
killed runs; the rule-file fit check; and the structured JSON log for cron."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from crmclean.config.loader import LoadedRules
from crmclean.core.golden.ids import IdState
from crmclean.core.golden.step import PreviousRun
from crmclean.core.matching import MatchModel, ModelMismatch, model_from_dict
from crmclean.core.rule_file import RuleFile
from crmclean.errors import InputError
from crmclean.io.decisions_file import read_decisions_file
from crmclean.io.json_log import JsonLog
from crmclean.io.output_guard import resolved
from crmclean.io.regular_file import is_present, read_text
from crmclean.io.run_folder import holds_run, read_run_folder

RECORD_ID = "record_id"
__all__ = ["JsonLog", "Previous", "read_decisions", "read_previous"]


@dataclass(frozen=True)
class Previous:
    run: PreviousRun
    model: MatchModel | None
    folder: Path | None  # the --previous run read; None when only --out's id mark carried over


def read_previous(
    out: Path, folder: Path | None, rules: RuleFile, retrain: bool
) -> Previous | None:
    """The previous run's crosswalk, golden records, id high-water mark and match model.

    Every run folder involved is checked whole (crmclean.io.run_folder): `--previous`, and `--out`
    when it already holds a run, since its ids were handed out too. New ids start above the
    higher of both marks. `--previous` equal to `--out` before any run is the first night: None.
    """
    out_run = read_run_folder(out) if out.is_dir() and holds_run(out) else None
    if folder is not None and resolved(folder) == resolved(out):
        previous = out_run
    elif folder is not None:
        if not (folder.is_dir() and holds_run(folder)):
            raise InputError(
                f"{folder}: no crosswalk.parquet or manifest.json from a previous run",
                "pass the --out folder of an earlier `crmclean run`",
            )
        previous = read_run_folder(folder)
    else:
        previous = None
    runs = [r for r in (previous, out_run) if r is not None]
    if not runs:
        return None
    mark = max(r.id_state.high_water_mark for r in runs)
    state = IdState(mark, runs[0].id_state.prefix)
    if previous is None:  # --out held a run: carry its mark only, every record is new
        empty = pl.DataFrame(schema={RECORD_ID: pl.String, "golden_id": pl.String})
        return Previous(PreviousRun(empty, None, state), None, None)
    model = None
    model_doc = _json(previous.folder / "model.json")
    if rules.matching is not None and model_doc is not None and not retrain:
        try:
            model = model_from_dict(model_doc, rules.matching)
        except ModelMismatch:
            model = None  # the comparisons changed since: train afresh
    return Previous(PreviousRun(previous.crosswalk, previous.golden, state), model, folder)


def _json(path: Path) -> dict[str, Any] | None:
    if not is_present(path):
        return None
    try:
        data = json.loads(read_text(path))
    except json.JSONDecodeError as exc:
        raise InputError(f"{path}: not readable JSON ({exc})") from None
    return data if isinstance(data, dict) else None


def decisions_path(loaded: LoadedRules) -> Path | None:
    matching = loaded.rules.matching
    if matching is None or not matching.decisions:
        return None
    return loaded.path.parent / matching.decisions


def read_decisions(loaded: LoadedRules) -> tuple[Path | None, pl.DataFrame | None]:
    """The steward decisions file named by `matching.decisions` (absent: no decisions yet)."""
    path = decisions_path(loaded)
    if path is None or not is_present(path, "decisions file"):
        return path, None
    frame = read_decisions_file(path)
    return path, frame if frame.height else None
