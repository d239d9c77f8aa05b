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
from crmclean.core import cleaning, validation
from crmclean.core.golden_ids import IdState
from crmclean.core.matching import MatchModel, ModelMismatch, column_problems, model_from_dict
from crmclean.core.matching import decisions as decisions_
from crmclean.core.pipeline import PreviousRun
from crmclean.core.survivorship import Settings
from crmclean.core.survivorship import check_setup as survivorship_problems
from crmclean.errors import ConfigError, ConfigIssue, InputError, OutputError
from crmclean.io.regular_file import is_present, read_text, require_regular_file

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


def check_setup(loaded: LoadedRules, frame: pl.DataFrame) -> None:
    """Every way the rule file does not fit this data, all at once, before any work starts."""
    rules = loaded.rules
    columns = frame.columns
    derived = [*columns, *[name for name in rules.derive if name not in columns]]
    issues: list[ConfigIssue] = [
        loaded.issue(p.path, p.problem, p.hint) for p in cleaning.setup_problems(rules, columns)
    ]
    schema = {**frame.schema, **{name: pl.String() for name in rules.derive}}
    issues += [loaded.issue(p, m, h) for p, m, h in validation.setup_problems(rules, schema)]
    if rules.matching is not None:
        issues += [loaded.issue(p, m, h) for p, m, h in column_problems(derived, rules.matching)]
    settings = Settings.of(
        rules.survivorship, rules.dataset.source_column, rules.dataset.updated_column
    )
    issues += [
        loaded.issue(p.path, p.problem, p.hint)
        for p in survivorship_problems(settings, golden_columns(rules, columns))
    ]
    if issues:
        raise ConfigError(list(dict.fromkeys(issues)))


def golden_columns(rules: RuleFile, columns: list[str]) -> list[str]:
    """Columns golden records are built from: the data without the id column and derived keys."""
    skip = {rules.dataset.id_column, *rules.derive}
    return [c for c in columns if c not in skip]


@dataclass(frozen=True)
class Previous:
    run: PreviousRun
    model: MatchModel | None


def read_previous(folder: Path, rules: RuleFile, retrain: bool) -> Previous:
    """The previous run's crosswalk, golden records, id high-water mark and match model."""
    crosswalk_path = folder / "crosswalk.parquet"
    if not is_present(crosswalk_path, "crosswalk"):
        raise InputError(
            f"{folder}: no crosswalk.parquet from a previous run",
            "pass the --out folder of an earlier `crmclean run`",
        )
    try:
        crosswalk = pl.read_parquet(crosswalk_path, columns=[RECORD_ID, "golden_id"])
        golden_path = folder / "golden.parquet"
        golden = pl.read_parquet(golden_path) if is_present(golden_path) else None
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


def read_decisions_file(path: Path) -> pl.DataFrame:
    """The decisions log as text columns; an empty or header-only file is no decisions yet."""
    if require_regular_file(path, "decisions file").st_size == 0:
        return decisions_.empty()
    try:
        frame = pl.read_csv(path, infer_schema=False, encoding="utf8")
    except (OSError, pl.exceptions.PolarsError) as exc:
        raise InputError(f"{path}: not a readable decisions file ({exc})") from None
    problems = decisions_.problems(frame)
    if problems:
        raise InputError(f"{path}: " + "; ".join(problems), "fix or remove the offending rows")
    return frame


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
