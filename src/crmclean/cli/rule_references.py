"""The reference files a rule file names (`values_from:`), read for every command alike.

Each is named relative to the rule file that writes it (an `extends:`-ed file's own folder) and
must be a regular CSV/Parquet file of bounded size; a problem is a rule-file error (exit 2)
located at its `values_from:` key, and never quotes the file's content.
"""

from __future__ import annotations

from pathlib import Path

from crmclean.config.loader import LoadedRules
from crmclean.core.validation import reference_requests
from crmclean.errors import ConfigError, InputError
from crmclean.io.readers import read_reference_values


def read_references(loaded: LoadedRules) -> dict[str, list[str]]:
    """Values of every values_from column, keyed as the checks look them up."""
    values: dict[str, list[str]] = {}
    issues = []
    for yaml_path, file, column, key in reference_requests(loaded.rules):
        where = loaded.located.where(yaml_path)
        base = Path(where[0]).parent if where else loaded.path.parent
        try:
            values[key] = read_reference_values(base / file, column)
        except InputError as exc:
            issues.append(loaded.issue(yaml_path, f"cannot use {file}: {exc.message}", exc.hint))
    if issues:
        raise ConfigError(issues)
    return values
