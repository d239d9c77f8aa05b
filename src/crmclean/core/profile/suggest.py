"""Turn a profile into a starting rule file: the `columns:` section a steward would write first.

Only check types that are registered right now are suggested, and every suggestion is validated
by that check's own spec model, so the snippet always loads (`crmclean rules check`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from crmclean.core.checks import checks
from crmclean.core.profile.roles import unique_id_column

if TYPE_CHECKING:
    from crmclean.core.profile.model import ColumnProfile

# Semantic type -> the check that verifies it, when that check type exists.
TYPE_CHECKS = {
    "email": "email_valid",
    "phone": "phone_valid",
    "postcode": "postcode_valid",
    "country": "country_valid",
    "date": "date_valid",
    "datetime": "date_valid",
}
MAX_ALLOWED_VALUES = 12  # more distinct values than this is not a code list
NO_UNIQUE = ("boolean", "country", "date", "datetime", "decimal")


def suggest_rules(columns: list[ColumnProfile], rows: int) -> dict[str, Any]:
    """`{"columns": {name: {type, pii, checks}}}`, in the schema of core/rules/rule_file.py."""
    section: dict[str, Any] = {}
    for column in columns:
        spec: dict[str, Any] = {}
        if column.semantic_type:
            spec["type"] = column.semantic_type
        if column.pii:
            spec["pii"] = True
        suggested = [c for c in _candidates(column, rows) if _valid(c)]
        if suggested:
            spec["checks"] = [_shorthand(c) for c in suggested]
        section[column.name] = spec
    id_column = unique_id_column(columns, rows)
    return ({"dataset": {"id_column": id_column}} if id_column else {}) | {"columns": section}


def _candidates(column: ColumnProfile, rows: int) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    present = rows - column.nulls
    if rows and column.nulls == 0:
        out.append({"type": "not_null"})
    if present > 1 and column.distinct == present and column.semantic_type not in NO_UNIQUE:
        out.append({"type": "unique"})
    if column.semantic_type in TYPE_CHECKS:
        out.append({"type": TYPE_CHECKS[column.semantic_type]})
    if _is_code_list(column, present):
        values = sorted(v.value for v in column.top_values if v.value is not None)
        out.append({"type": "allowed_values", "values": values})
    elif column.semantic_type is None and column.max_length is not None:
        out.append({"type": "length", "min": column.min_length, "max": column.max_length})
    return out


def _is_code_list(column: ColumnProfile, present: int) -> bool:
    """A few values, each repeated (status, segment), never a personal column: a value seen
    once may be a typo (`Atlantis`), and a list of it would make the typo allowed."""
    return (
        not column.pii
        and column.semantic_type in (None, "country")
        and 1 < column.distinct <= min(MAX_ALLOWED_VALUES, len(column.top_values))
        and present >= 4 * column.distinct
        and all(value.count > 1 for value in column.top_values)
    )


def _valid(candidate: dict[str, Any]) -> bool:
    name = candidate["type"]
    if name not in checks:
        return False
    try:
        checks.get(name).spec.model_validate(candidate)
    except ValidationError:
        return False
    return True


def _shorthand(candidate: dict[str, Any]) -> str | dict[str, Any]:
    """`- not_null` rather than `- {type: not_null}` when a check needs no options."""
    return candidate["type"] if len(candidate) == 1 else candidate
