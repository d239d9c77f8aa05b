"""Which values the report may show: `pii: true` columns masked unless --show-values.

The masking itself is the console's (crmclean.core.masking), so a value looks the same in the
terminal and in the report.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from crmclean.core.masking import MaskKind, cap_value, mask_value

Masker = Callable[[str | None, str | None], str | None]


def make_masker(pii: Mapping[str, MaskKind] | None, show_values: bool) -> Masker:
    """A function (column, value) -> shown value, cut to SHOWN_CHARS (core.masking.cap_value).

    pii maps each `pii: true` column to its mask kind; None means the run did not say which
    columns are personal: every value is masked. A value of a composite key ("name, email") that
    includes a personal column is masked as text, as the console does; so is a value with no
    column (a dataset-wide check) when anything is personal.
    """

    def mask(column: str | None, value: str | None) -> str | None:
        return cap_value(masked(column, value))

    def masked(column: str | None, value: str | None) -> str | None:
        if value is None or show_values:
            return value
        if pii is None:
            return mask_value(value)
        if column is not None and column in pii:
            return mask_value(value, pii[column])
        parts = column.split(", ") if column else list(pii)
        if any(part in pii for part in parts):
            return mask_value(value, "text")
        return value

    return mask
