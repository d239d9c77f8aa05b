"""The files `crmclean review --out` must never replace, gathered from the rule file and the
run's manifest (or dedupe.json); the rules themselves live in crmclean.io.export_file."""

from __future__ import annotations

from pathlib import Path

from crmclean.cli.read_files import rule_file_inputs
from crmclean.config.loader import LoadedRules
from crmclean.io.export_file import check_export_target
from crmclean.io.review_folder import ReviewedFolder


def guard_export(
    output: Path,
    reviewed: ReviewedFolder,
    loaded: LoadedRules,
    decisions: Path | None,
    *,
    force: bool,
) -> None:
    """Refuse (exit 3 or 2) an --out that is a file the run or review reads, lies in a
    crmclean output folder, or exists without --force."""
    protected = _protected(reviewed, loaded, decisions)
    check_export_target(output, reviewed.folder, protected, force=force)


def _protected(
    reviewed: ReviewedFolder, loaded: LoadedRules, decisions: Path | None
) -> list[tuple[Path, str]]:
    out = reviewed.folder
    rule_files = [loaded.path, *map(Path, loaded.files)]
    named = [reviewed.rule_file, *reviewed.rule_files]
    rule_files += [where for name in named for where in _spellings(out, name)]
    inputs = [
        where
        for entry in reviewed.inputs
        if isinstance(entry, dict) and isinstance(entry.get("path"), str)
        for where in _spellings(out, entry["path"])
    ]
    return [
        *([(decisions, "the decisions file")] if decisions is not None else []),
        *((path, "a rule file") for path in rule_files),
        *((path, "a file the rule file reads") for path in rule_file_inputs(loaded)),
        *((path, "the run's input") for path in inputs),
    ]


def _spellings(out: Path, named: str) -> list[Path]:
    """A path a manifest records, as the run was given it: relative to where it ran, which
    may be the folder `review` runs in or the run folder's parent (as run_rule_file reads it)."""
    return [Path(named), out / named, out.parent / named]
