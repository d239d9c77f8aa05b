"""An input error from the core, named after its file and told without personal values.

The core does not know file names or which columns are personal; the commands do. A repeated
record id is a value of the id column: when that column is `pii: true` its examples are masked
in the message (and so in the JSON log) unless `--show-values`.
"""

from __future__ import annotations

from crmclean.config.loader import LoadedRules
from crmclean.core.masking import mask_value, personal_columns
from crmclean.errors import InputError, RepeatedIds


def told(exc: InputError, loaded: LoadedRules, input_path: object, show_values: bool) -> InputError:
    """`exc` naming `input_path` (a file, or a database URL shown without its password), with
    values of a personal id column masked."""
    id_column = loaded.rules.dataset.id_column
    kind = personal_columns(loaded.rules).get(id_column) if id_column else None
    if isinstance(exc, RepeatedIds) and kind is not None and not show_values:
        exc = exc.with_examples([mask_value(v, kind) or "" for v in exc.examples])
    return exc.about(input_path)
