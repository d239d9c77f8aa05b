"""Read a folder written by `crmclean run` (or `dedupe`): as the previous run, checked whole, and
the files `review` and `explain` read from it. Its writer is crmclean.io.writers.

A folder that holds any run artefact is a previous run: it must be complete (manifest,
crosswalk, golden records) and agree with itself (crmclean.core.golden.run_integrity), or nothing is
read from it and the next run stops with exit 3 naming what is wrong. Golden ids depend on it.
"""

from __future__ import annotations

import json
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from crmclean.core.contracts import RECORD_ID
from crmclean.core.golden.ids import IdState
from crmclean.core.golden.run_integrity import id_problems, run_problems
from crmclean.core.golden.step import PreviousRun
from crmclean.core.matching import MatchingSpec, MatchModel, ModelMismatch, model_from_dict
from crmclean.core.rules.rule_file import RuleFile
from crmclean.errors import InputError
from crmclean.io.database_url import PublishTarget
from crmclean.io.history_file import history_nights, read_history
from crmclean.io.output_guard import resolved
from crmclean.io.publish import RUN_TABLE, read_published
from crmclean.io.regular_file import is_present, read_text, require_regular_file, small_text

MANIFEST = "manifest.json"
# Files only `crmclean run` writes: one of them makes a folder a previous run.
RUN_ARTEFACTS = (
    MANIFEST,
    "crosswalk.parquet",
    "golden.parquet",
    "golden.csv",
    "lineage.parquet",
    "changes-since-previous.parquet",
)
REQUIRED = (MANIFEST, "crosswalk.parquet", "golden.parquet")
# Written into every output folder, naming the command (crmclean.io.writers).
MARKER = ".crmclean-output"
# Tables that name golden ids besides crosswalk and golden: every id there was handed out too.
OTHER_ID_TABLES = {
    "lineage.parquet": ("golden_id",),
    "review.parquet": ("golden_id_l", "golden_id_r"),
    "changes-since-previous.parquet": ("golden_id", "related_golden_id"),
}
_HINT = (
    "restore the folder from a backup; golden ids must never be handed out twice, so "
    "crmclean will not guess them (a new, empty --out starts ids afresh)"
)

_UNFINISHED = (
    "the run that wrote it did not finish (a run's manifest.json is written last) or a file "
    "was removed since: run it again, or restore the folder from a backup"
)


@dataclass(frozen=True)
class RunFolder:
    folder: Path | str  # a folder, or the published tables' URL (crmclean.io.publish)
    manifest: dict[str, Any]
    crosswalk: pl.DataFrame  # record_id, golden_id
    golden: pl.DataFrame
    id_state: IdState
    model: dict[str, Any] | None = None  # published runs: the model from crmclean_run
    history: list[dict[str, Any]] | None = None  # published runs: the nights in crmclean_run


def holds_run(folder: Path) -> bool:
    """True when `folder` holds anything `crmclean run` writes: one of its files, its marker
    ("written by crmclean run"), or a review queue that names golden ids."""
    if any((folder / name).exists() or (folder / name).is_symlink() for name in RUN_ARTEFACTS):
        return True
    marker = folder / MARKER
    if _regular(marker):
        try:
            with marker.open("rb") as handle:
                # the first line names the command; the files it published follow
                if handle.readline(200).strip() == b"written by crmclean run":
                    return True
        except OSError:
            return True  # unreadable: assume the worst, the run stops naming the folder
    review = folder / "review.parquet"
    if _regular(review):
        try:
            return "golden_id_l" in parquet_schema(review)
        except (OSError, pl.exceptions.PolarsError):
            return False
    return False


def parquet_schema(path: Path) -> pl.Schema:
    """The schema of a parquet file, read through an open handle: polars would take a path
    with `[`, `*` or `?` in it (an --out named `[o]ther`) for a glob pattern."""
    with path.open("rb") as handle:
        return pl.Schema(pl.read_parquet_schema(handle))


def _regular(path: Path) -> bool:
    try:
        return stat.S_ISREG(path.lstat().st_mode)
    except OSError:
        return False


def read_run_folder(folder: Path, *, other_tables: bool = True) -> RunFolder:
    """The previous run in `folder`, complete and consistent; InputError (exit 3) otherwise.
    `other_tables=False` leaves the ids of lineage, review and changes unchecked: a reader of
    crosswalk and golden records only (the duplicate check at entry) does not pay for them."""
    # a FIFO or device standing in for a file is named as such (exit 3), never read
    missing = [name for name in REQUIRED if not is_present(folder / name, name)]
    if missing:
        raise _broken(folder, f"{', '.join(missing)} missing")
    # a listed output lost since (lineage, violations...) is not refused here: the night needs
    # only these tables, and an incremental night falls back to a full one without the rest
    manifest = _manifest(folder)
    try:
        crosswalk = pl.read_parquet(
            folder / "crosswalk.parquet", columns=[RECORD_ID, "golden_id"], glob=False
        )
        golden = pl.read_parquet(folder / "golden.parquet", glob=False)
    except (OSError, pl.exceptions.PolarsError) as exc:
        reason = (str(exc).splitlines() or [type(exc).__name__])[0]
        raise _broken(folder, f"a table is not readable ({reason})") from None
    run = _checked(folder, manifest, crosswalk, golden)
    problems = _other_id_problems(folder, run.id_state) if other_tables else []
    if problems:
        raise _broken(folder, "; ".join(problems))
    return run


def read_published_run(target: PublishTarget) -> RunFolder:
    """The run published at `target` (`--previous URL`), checked as a run folder is."""
    published = read_published(target)
    manifest = published.manifest
    if not isinstance(manifest, dict) or manifest.get("command") != "run":
        raise _broken(target.shown, f"{RUN_TABLE} holds no manifest of a `crmclean run`")
    run = _checked(target.shown, manifest, published.crosswalk, published.golden)
    nights = history_nights(published.history)
    return RunFolder(
        run.folder, manifest, run.crosswalk, run.golden, run.id_state, published.model, nights
    )


def _checked(
    where: Path | str, manifest: dict[str, Any], crosswalk: pl.DataFrame, golden: pl.DataFrame
) -> RunFolder:
    """A previous run whose ids agree with its manifest's mark and row counts."""
    state = IdState.parse(manifest.get("golden_ids"))
    if isinstance(state, str):
        raise _broken(where, state)
    if "golden_id" not in golden.columns:
        raise _broken(where, "golden records have no golden_id column")
    crosswalk = crosswalk.cast(pl.String)
    rows = manifest.get("rows")
    problems = run_problems(
        crosswalk,
        golden["golden_id"].cast(pl.String),
        state,
        rows if isinstance(rows, dict) else {},
    )
    if problems:
        raise _broken(where, "; ".join(problems))
    return RunFolder(where, manifest, crosswalk, golden, state)


def _other_id_problems(folder: Path, state: IdState) -> list[str]:
    """Ids in lineage, review and changes must be well formed and under the mark as well."""
    problems: list[str] = []
    for name, columns in OTHER_ID_TABLES.items():
        path = folder / name
        if not is_present(path, name):
            continue
        try:
            present = [c for c in columns if c in parquet_schema(path)]
            frame = pl.read_parquet(path, columns=present, glob=False)
        except (OSError, pl.exceptions.PolarsError) as exc:
            reason = (str(exc).splitlines() or [type(exc).__name__])[0]
            raise _broken(folder, f"{name} is not readable ({reason})") from None
        ids = pl.concat([frame[c].cast(pl.String) for c in present]) if present else None
        if ids is not None:
            problems += id_problems(ids.drop_nulls(), state, name)
    return problems


def missing_outputs(folder: Path, manifest: dict[str, Any]) -> list[str]:
    """The files the manifest lists as the run's outputs that the folder lacks: the manifest
    is written last, so a folder missing one was never completely published (or lost a file
    since). A manifest without an `outputs` list (runs before it was recorded) lists none."""
    listed = manifest.get("outputs")
    names = [str(n) for n in listed] if isinstance(listed, list) else []
    return [n for n in names if n != MANIFEST and not is_present(folder / n, n)]


def _lost(names: list[str]) -> str:
    shown = ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
    return f"{MANIFEST} lists outputs that are missing ({shown})"


def require_complete_run(folder: Path) -> None:
    """A folder that holds a run is read only when its run is complete: manifest.json present
    and readable, and every output it lists there (exit 3 naming what is wrong otherwise).
    A folder holding no run (a `validate` or `dedupe` folder) passes."""
    if not (folder.is_dir() and holds_run(folder)):
        return
    try:
        if not is_present(folder / MANIFEST, MANIFEST):
            raise InputError(f"{MANIFEST} missing")
        lost = missing_outputs(folder, _manifest(folder))
    except InputError as exc:
        problem = exc.message.removeprefix(
            f"{folder}: holds an incomplete or inconsistent previous run: "
        )
        raise InputError(f"{folder}: holds an incomplete run: {problem}", _UNFINISHED) from None
    if lost:
        raise InputError(f"{folder}: holds an incomplete run: {_lost(lost)}", _UNFINISHED)


def _manifest(folder: Path) -> dict[str, Any]:
    text = small_text(folder / MANIFEST)  # never a 6 GB file or /dev/zero read whole
    if not isinstance(text, str):
        raise _broken(folder, f"{MANIFEST} {text.problem}")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise _broken(folder, f"{MANIFEST} is not readable JSON ({exc})") from None
    if not isinstance(data, dict) or data.get("command") != "run":
        raise _broken(folder, f"{MANIFEST} is not the manifest of a `crmclean run`")
    return data


def _broken(folder: Path | str, problem: str) -> InputError:
    return InputError(
        f"{folder}: holds an incomplete or inconsistent previous run: {problem}", _HINT
    )


@dataclass(frozen=True)
class Previous:
    run: PreviousRun
    model: MatchModel | None
    # the --previous run read (a folder or the published tables' URL); None when only --out's
    # id mark carried over
    folder: Path | str | None
    history: list[dict[str, Any]] = field(default_factory=list)  # its nights, for the trend


def read_previous(
    out: Path | None, folder: Path | PublishTarget | None, rules: RuleFile, retrain: bool
) -> Previous | None:
    """The previous run's crosswalk, golden records, id high-water mark and match model.

    Every run folder involved is checked whole (crmclean.io.run_folder): `--previous`, and `--out`
    when it already holds a run, since its ids were handed out too. New ids start above the
    higher of both marks. `--previous` equal to `--out` before any run is the first night: None.
    """
    holds = out is not None and out.is_dir() and holds_run(out)
    out_run = read_run_folder(out) if out is not None and holds else None
    if isinstance(folder, PublishTarget):  # `--previous URL`: the tables `--publish` wrote
        previous: RunFolder | None = read_published_run(folder)
    elif folder is not None and out is not None and resolved(folder) == resolved(out):
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
    where = previous.folder
    model_doc = _json(where / "model.json") if isinstance(where, Path) else previous.model
    if rules.matching is not None and model_doc is not None and not retrain:
        try:
            model = model_from_dict(model_doc, rules.matching)
        except ModelMismatch:
            model = None  # the comparisons changed since: train afresh
    shown = folder.shown if isinstance(folder, PublishTarget) else folder
    nights = previous.history if isinstance(where, str) else read_history(where)
    run = PreviousRun(previous.crosswalk, previous.golden, state)
    return Previous(run, model, shown, nights or [])


def _json(path: Path) -> dict[str, Any] | None:
    if not is_present(path):
        return None
    try:
        data = json.loads(read_text(path))
    except json.JSONDecodeError as exc:
        raise InputError(f"{path}: not readable JSON ({exc})") from None
    return data if isinstance(data, dict) else None


def read_model(path: Path, spec: MatchingSpec) -> MatchModel:
    """A saved model.json, fitted to the matching section `spec` (exit 2 when it does not fit)."""
    try:
        document = read_model_document(path)
    except json.JSONDecodeError as exc:
        raise InputError(f"{path}: not a readable JSON model ({exc})") from None
    return model_from_dict(document, spec)


def read_model_document(path: Path) -> Any:
    """model.json as written (json.JSONDecodeError when it is not JSON)."""
    return json.loads(read_text(path, "model file"))


def read_review_queue(out: Path) -> pl.DataFrame:
    """review.parquet of a run, as written."""
    require_regular_file(out / "review.parquet", "review queue")
    return pl.read_parquet(out / "review.parquet", glob=False)


def run_rule_file(out: Path, named: str) -> Path:
    """The rule file a run's manifest names, as given or relative to the run folder."""
    candidates = [Path(named), out / named, out.parent / named]
    return next((c for c in candidates if c.is_file()), Path(named))


def run_record_ids(out: Path) -> pl.Series:
    """Every record id of the run in `out`: matched (crosswalk) and set aside (quarantine)."""
    ids = []
    for name in ("crosswalk", "quarantine"):
        path = out / f"{name}.parquet"
        if not path.is_file():
            continue
        try:
            ids.append(
                pl.read_parquet(path, columns=["record_id"], glob=False).get_column("record_id")
            )
        except (OSError, pl.exceptions.PolarsError) as exc:
            raise InputError(f"{path}: not readable ({exc})") from None
    if not ids:
        raise InputError(
            f"{out}: holds no crosswalk.parquet", "import decisions into the --out folder of a run"
        )
    return pl.concat(ids).cast(pl.String).unique()


def read_present_json(path: Path, hint: str) -> Any:
    """A JSON file the command cannot do without (missing: exit 3 with `hint`)."""
    _present(path, hint)
    try:
        return json.loads(read_text(path))
    except json.JSONDecodeError as exc:
        raise InputError(f"{path}: not readable JSON ({exc})") from None


def read_present_parquet(path: Path, hint: str) -> pl.DataFrame:
    """A table the command cannot do without (missing or unreadable: exit 3)."""
    _present(path, hint)
    try:
        return pl.read_parquet(path, glob=False)
    except (OSError, pl.exceptions.PolarsError) as exc:
        raise InputError(f"{path}: not a readable parquet file ({exc})") from None


def _present(path: Path, hint: str) -> None:
    if not is_present(path):
        raise InputError(f"{path}: missing", hint=hint)


def input_columns(manifest: dict[str, Any]) -> list[str] | None:
    """The columns of the table a run took: `input_columns` (the combined table of a run with
    `sources:`), else those of its one input (runs written before it was recorded)."""
    listed = manifest.get("input_columns")
    if isinstance(listed, list) and listed:
        return [str(c) for c in listed]
    inputs = manifest.get("inputs")
    first = inputs[0] if isinstance(inputs, list) and inputs else None
    columns = first.get("columns") if isinstance(first, dict) else None
    return [str(c) for c in columns] if isinstance(columns, list) else None
