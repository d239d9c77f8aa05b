"""What `crmclean run` reads besides the data: the previous run, steward decisions, leftovers of
killed runs; the rule-file fit check; and the structured JSON log for cron."""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

import polars as pl

from crmclean.config.loader import LoadedRules
from crmclean.config.models import RuleFile
from crmclean.core.golden_ids import IdState
from crmclean.core.matching import MatchModel, ModelMismatch, model_from_dict
from crmclean.core.pipeline import PreviousRun
from crmclean.errors import InputError, OutputError
from crmclean.io.decisions_file import read_decisions_file

RECORD_ID = "record_id"


class JsonLog:
    """One JSON object per line (ts, level, event, fields), appended and flushed as it happens."""

    def __init__(self, path: Path | None) -> None:
        self._handle: IO[str] | None = None
        if path is not None:
            try:
                self._handle = path.open("a", encoding="utf-8")
            except OSError as exc:
                raise OutputError(f"{path}: cannot open the log: {exc.strerror}") from None

    def event(self, event: str, level: str = "info", **fields: Any) -> None:
        if self._handle is None:
            return
        record = {
            "ts": datetime.now(UTC).isoformat(timespec="milliseconds"),
            "level": level,
            "event": event,
            "pid": os.getpid(),
            **fields,
        }
        self._handle.write(json.dumps(record, default=str, ensure_ascii=False) + "\n")
        self._handle.flush()

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None


@dataclass(frozen=True)
class Previous:
    run: PreviousRun
    model: MatchModel | None


def read_previous(folder: Path, rules: RuleFile, retrain: bool) -> Previous:
    """The previous run's crosswalk, golden records, id high-water mark and match model."""
    crosswalk_path = folder / "crosswalk.parquet"
    if not crosswalk_path.is_file():
        raise InputError(
            f"{folder}: no crosswalk.parquet from a previous run",
            "pass the --out folder of an earlier `crmclean run`",
        )
    try:
        crosswalk = pl.read_parquet(crosswalk_path, columns=[RECORD_ID, "golden_id"])
        golden_path = folder / "golden.parquet"
        golden = pl.read_parquet(golden_path) if golden_path.is_file() else None
    except (OSError, pl.exceptions.PolarsError) as exc:
        raise InputError(f"{folder}: previous outputs are not readable ({exc})") from None
    manifest = _json(folder / "manifest.json")
    state = IdState.from_dict(manifest.get("golden_ids") if manifest else None)
    model = None
    model_doc = _json(folder / "model.json")
    if rules.matching is not None and model_doc is not None and not retrain:
        try:
            model = model_from_dict(model_doc, rules.matching)
        except ModelMismatch:
            model = None  # the comparisons changed since: train afresh
    return Previous(PreviousRun(crosswalk, golden, state), model)


def _json(path: Path) -> dict[str, Any] | None:
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
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
    if path is None or not path.is_file():
        return path, None
    frame = read_decisions_file(path)
    return path, frame if frame.height else None


def remove_leftovers(out: Path) -> None:
    """Temp folders of runs killed mid-way; called while holding the lock, so none is live.

    A `.old-*` folder is the previous run's outputs only when `out` itself is missing (a run
    killed between the two renames of the swap): it is put back instead of deleted.
    """
    out = Path(out).absolute()
    parent = out.parent
    if not parent.is_dir():
        return
    for path in sorted(parent.glob(f".{out.name}.old-*")):
        if not out.exists():
            path.rename(out)
        else:
            shutil.rmtree(path, ignore_errors=True)
    for path in parent.glob(f".{out.name}.tmp-*"):
        shutil.rmtree(path, ignore_errors=True)
