"""The files `crmclean review --out` must never replace, gathered from the rule file and the
run's manifest; the rules themselves live in crmclean.io.export_file."""

from __future__ import annotations

from pathlib import Path

from crmclean.cli.read_files import rule_file_inputs
from crmclean.config.loader import LoadedRules
from crmclean.io.export_file import check_export_target
from crmclean.summaries import RunManifest


def guard_export(
    output: Path,
    out: Path,
    loaded: LoadedRules,
    manifest: RunManifest,
    decisions: Path | None,
    *,
    force: bool,
) -> None:
    """Refuse (exit 3 or 2) an --out that is a file the run or review reads, lies in a
    crmclean output folder, or exists without --force."""
    check_export_target(output, out, _protected(out, loaded, manifest, decisions), force=force)


def _protected(
    out: Path, loaded: LoadedRules, manifest: RunManifest, decisions: Path | None
) -> list[tuple[Path, str]]:
    rule_files = [loaded.path, *map(Path, loaded.files)]
    named = [manifest.rule_file, *manifest.rule_files]
    rule_files += [where for name in named for where in _spellings(out, name)]
    inputs = [
        where
        for entry in manifest.inputs
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
