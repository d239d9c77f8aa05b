"""The outputs folder of a run as the report reads it: crmclean.io.run_outputs reads the files;
the personal columns come from the summaries, else from the run's rule file (read here, since
the report sits above the rule-file loader)."""

from __future__ import annotations

from pathlib import Path

from crmclean.config import load_rules
from crmclean.core.masking import MaskKind, personal_columns
from crmclean.errors import ConfigError, CrmcleanError
from crmclean.io.run_outputs import RunOutputs, read_run_outputs


def load_run_outputs(folder: Path) -> RunOutputs:
    """Every `*.json` summary and `*.parquet` table of an outputs folder, and its personal
    columns."""
    return read_run_outputs(folder, _pii_from_rules)


def _pii_from_rules(path: Path) -> dict[str, MaskKind] | None:
    try:
        rules = load_rules(path).rules
    except (ConfigError, CrmcleanError):
        return None  # the file changed since the run: fall back to masking everything
    return personal_columns(rules)
