"""Several source systems in one run: the `sources:` section, and their tables combined into the
one frame every step takes. Pure: the io layer reads each source, this module maps its columns
onto the rule file's, makes its record ids unique (`crm:4711`) and names its system.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import polars as pl
from pydantic import Field

from crmclean.core.contracts import RECORD_ID, SOURCE_SEPARATOR
from crmclean.core.problems import SetupProblem
from crmclean.core.spec import Spec
from crmclean.errors import shown_column_names

SOURCE_NAME = r"^[A-Za-z][A-Za-z0-9_-]*$"  # no `:`: it separates the source from its own id
DEFAULT_SOURCE_COLUMN = "source_system"


class SourceSpec(Spec):
    """One source system: where its table is and how its columns read as the rule file's."""

    location: str = Field(
        description="A file (relative to the rule file) or a database URL (docs/databases.md)"
    )
    id_column: str | None = Field(
        None, description="The system's own record id; the row number if not given"
    )
    columns: dict[str, str] = Field(
        default_factory=dict,
        description="Rule-file column: the source's column; same-named columns need no entry",
    )
    priority: int = Field(
        100, description="Survivorship: lower is more trusted (source_priority without order)"
    )


def priority_order(sources: Mapping[str, SourceSpec]) -> list[str]:
    """Source names, most trusted first (ties by name, so reruns agree)."""
    return sorted(sources, key=lambda name: (sources[name].priority, name))


def combine_sources(
    frames: Mapping[str, pl.DataFrame],
    sources: Mapping[str, SourceSpec],
    wanted: Sequence[str],
    source_column: str,
) -> tuple[pl.DataFrame, list[SetupProblem]]:
    """One frame of every source's records, in the sources' order.

    Each frame has the source's own `record_id` first (its id column, as read). A source keeps
    the rule file's columns (`wanted`): mapped ones renamed, same-named ones as they are; its
    other columns are left out. Ids become `<source>:<id>`; `source_column` names the system.
    A mapping onto a column the source lacks is a setup problem at its YAML path.
    """
    parts: list[pl.DataFrame] = []
    problems: list[SetupProblem] = []
    for name, frame in frames.items():
        spec = sources[name]
        missing = [t for t, s in spec.columns.items() if s not in frame.columns]
        for target in missing:
            problems.append(
                SetupProblem(
                    ("sources", name, "columns", target),
                    f"source {name!r} has no column {spec.columns[target]!r}",
                    "its columns: "
                    + shown_column_names([c for c in frame.columns if c != RECORD_ID]),
                )
            )
        targets = {t: s for t, s in spec.columns.items() if s in frame.columns}
        same = [c for c in dict.fromkeys(wanted) if c in frame.columns and c not in targets]
        columns = [
            *[pl.col(s).alias(t) for t, s in targets.items()],
            *[pl.col(c) for c in same],
        ]
        columns = [c for c in columns if c.meta.output_name() not in (RECORD_ID, source_column)]
        parts.append(
            frame.select(
                (pl.lit(name + SOURCE_SEPARATOR) + pl.col(RECORD_ID)).alias(RECORD_ID),
                *columns,
                pl.lit(name, pl.String).alias(source_column),
            )
        )
    if problems:
        return pl.DataFrame(), problems
    return pl.concat(parts, how="diagonal"), []
