"""Read every source of a rule file's `sources:` section and combine them (crmclean.core.sources)
into the one table a run takes. A source's file is relative to the rule file naming it; a URL is
read as any database input. A mapping that names a column a source lacks is exit 2 at its YAML
position; a source that cannot be read is exit 3 naming it."""

from __future__ import annotations

import bisect
from pathlib import Path

from crmclean.config.loader import LoadedRules
from crmclean.core.problems import RuleSetupError, SetupProblem
from crmclean.core.sources import combine_sources
from crmclean.errors import ConfigIssue, InputError
from crmclean.io.locations import Location, parse_location, read_location
from crmclean.io.readers import ReadInfo, ReadResult


def source_locations(loaded: LoadedRules) -> dict[str, Location]:
    """Each source's file (relative to the rule file that names it) or database URL."""
    found: dict[str, Location] = {}
    for name, spec in loaded.rules.sources.items():
        where = parse_location(spec.location)
        if isinstance(where, Path) and not where.is_absolute():
            named_in = loaded.located.where(("sources", name, "location"))
            base = Path(named_in[0]).parent if named_in else loaded.path.parent
            where = base / where
        found[name] = where
    return found


def read_sources(loaded: LoadedRules) -> tuple[ReadResult, dict[str, ReadInfo]]:
    """The combined table (record ids `<source>:<id>`), and what was read from each source."""
    rules = loaded.rules
    frames, infos, locates = {}, {}, []
    for name, where in source_locations(loaded).items():
        spec = rules.sources[name]
        try:
            read = read_location(where, id_column=spec.id_column)
        except InputError as exc:
            raise InputError(f"source {name!r}: {exc.message}", exc.hint) from None
        frames[name], infos[name] = read.frame, read.info
        locates.append((read.frame.height, read.locate, where))
    dataset = rules.dataset
    wanted = [*rules.columns, dataset.updated_column, dataset.country_column]
    source_column = dataset.source_column or "source_system"
    combined, problems = combine_sources(
        frames, rules.sources, [c for c in wanted if c], source_column
    )
    if problems:
        raise RuleSetupError(problems, lambda p: _issue(loaded, p))
    starts = [0]
    for height, _, _ in locates[:-1]:
        starts.append(starts[-1] + height)

    def locate(row: int) -> str:
        at = bisect.bisect_right(starts, row) - 1
        _, own, where = locates[at]
        return own(row - starts[at]) if own else f"{where} row {row - starts[at] + 1}"

    shown = "sources: " + ", ".join(rules.sources)
    columns = tuple(c for c in combined.columns if c != "record_id")
    info = ReadInfo(shown, "sources", None, None, combined.height, columns, 0, "")
    return ReadResult(combined, info, locate), infos


def _issue(loaded: LoadedRules, problem: SetupProblem) -> ConfigIssue:
    return loaded.issue(problem.path, problem.problem, problem.hint)
