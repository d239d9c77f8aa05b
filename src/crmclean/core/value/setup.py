"""Every way a `rollup:` section does not fit itself, the customer data or the movement tables,
as SetupProblems at their YAML paths (exit 2, all at once)."""

from __future__ import annotations

from collections.abc import Sequence

from crmclean.core.problems import SetupProblem, YamlPath
from crmclean.core.registry import did_you_mean_hint
from crmclean.core.value.measures import measures
from crmclean.core.value.source_ids import source_names
from crmclean.core.value.spec import RollupSpec
from crmclean.errors import looks_like_column_name, shown_column_names


def section_problems(
    spec: RollupSpec,
    customer_columns: Sequence[str],
    source_column: str | None = None,
    sources: Sequence[str] = (),
) -> list[SetupProblem]:
    """Names the section uses among itself, against the customer columns and, in a run with
    `sources:`, against the configured sources."""
    problems: list[SetupProblem] = []
    for name, table in spec.tables.items():
        if (
            sources
            and table.source is not None
            and source_names([table.source], sources)[table.source] is None
        ):
            hint = did_you_mean_hint(table.source, list(sources)) or "sources: " + ", ".join(
                sources
            )
            problems.append(
                SetupProblem(
                    ("rollup", "tables", name, "source"),
                    f"no source {table.source!r} in the sources: section",
                    hint,
                )
            )
        per_source = table.source_system or table.source
        if per_source and (source_column is None or source_column not in customer_columns):
            field = "source_system" if table.source_system else "source"
            problems.append(
                SetupProblem(
                    ("rollup", "tables", name, field),
                    "ids per source system need the customers' source column",
                    "set dataset.source_column, or drop this setting if ids are unique",
                )
            )
    tables = list(spec.tables)
    have = set(customer_columns)
    for name, measure in spec.measures.items():
        path: YamlPath = ("rollup", "measures", name)
        if measure.table is None and len(tables) > 1:
            problems.append(
                SetupProblem((*path, "table"), "missing", "name one of " + ", ".join(tables))
            )
        elif measure.table is not None and measure.table not in spec.tables:
            hint = did_you_mean_hint(measure.table, tables) or "tables: " + ", ".join(tables)
            problems.append(SetupProblem((*path, "table"), f"no table {measure.table!r}", hint))
        if name in have:
            problems.append(
                SetupProblem(path, "the customer data has a column of this name", "rename it")
            )
    rule = spec.key_account
    wanted: list[tuple[YamlPath, str | None]] = [
        (("rollup", "key_account", "measure"), rule.measure if rule else None),
        (("rollup", "order_review_by"), spec.order_review_by),
    ]
    for path, measure_name in wanted:
        if measure_name is not None and measure_name not in spec.measures:
            known = list(spec.measures)
            hint = did_you_mean_hint(measure_name, known) or "measures: " + ", ".join(known)
            problems.append(
                SetupProblem(path, f"no measure {measure_name!r} in rollup.measures", hint)
            )
    flag = rule.flag_column if rule else None
    if flag is not None and flag not in have:
        problems.append(
            SetupProblem(
                ("rollup", "key_account", "flag_column"),
                "no such column",
                did_you_mean_hint(flag, [*have]),
            )
        )
    if "key_account" in have:
        problems.append(
            SetupProblem(
                ("rollup",),
                "the customer data has a column key_account, which the rollup adds",
                "rename the column, or use it as key_account.flag_column",
            )
        )
    return problems


def table_problems(
    spec: RollupSpec, name: str, columns: Sequence[str], shown: str | None = None
) -> list[SetupProblem]:
    """Columns one movement table lacks, for its own settings and every measure over it.
    `shown`: the table's name in messages (a database URL without its query text)."""
    table = spec.tables[name]
    file = shown or table.file
    have = set(columns)
    problems: list[SetupProblem] = []

    def need(path: tuple[str | int, ...], column: str) -> None:
        if column not in have:
            plain = [c for c in columns if looks_like_column_name(c)]
            hint = did_you_mean_hint(column, plain) or (
                f"{file} has: " + shown_column_names(columns)
            )
            problems.append(SetupProblem(path, f"{file} has no column {column!r}", hint))

    base = ("rollup", "tables", name)
    need((*base, "record_id"), table.record_id)
    for field in ("source_system", "date", "amount"):
        column = getattr(table, field)
        if column is not None:
            need((*base, field), column)
    for measure_name, measure in spec.measures.items():
        if spec.table_of(measure) != name:
            continue
        path = ("rollup", "measures", measure_name)
        entry = measures.get(measure.type)
        column = getattr(measure, "column", None)
        if column is not None:
            need((*path, "column"), column)
        if (entry.needs_date or measure.within) and table.date is None:
            problems.append(
                SetupProblem(path, f"needs a date: table {name!r} has no date column", "set date:")
            )
        if entry.needs_amount and column is None and table.amount is None:
            problems.append(
                SetupProblem(
                    path, f"needs an amount: table {name!r} has no amount column", "set amount:"
                )
            )
    return problems
