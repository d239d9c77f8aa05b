"""crmclean: trustworthy customer master data (rules, standardisation, matching, golden records).

The Python API (docs/api.md): `load_rules`, `read`, `validate`, `clean`, `dedupe`, `run` and the
result types they return. Its names are a promise; CHANGELOG.md says when one changes. They are
loaded on first use, so `import crmclean` stays cheap and the CLI does not pay for them.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from crmclean.version import __version__

if TYPE_CHECKING:
    from crmclean.api import (
        CleanResult,
        ConfigError,
        CrmcleanError,
        DedupeResult,
        GoldenStep,
        InputError,
        Rules,
        RunResult,
        ValidationResult,
        clean,
        dedupe,
        load_rules,
        read,
        run,
        validate,
    )

__all__ = [
    "CleanResult",
    "ConfigError",
    "CrmcleanError",
    "DedupeResult",
    "GoldenStep",
    "InputError",
    "Rules",
    "RunResult",
    "ValidationResult",
    "__version__",
    "clean",
    "dedupe",
    "load_rules",
    "read",
    "run",
    "validate",
]


def __getattr__(name: str) -> Any:
    if name in __all__:
        return getattr(importlib.import_module("crmclean.api"), name)
    raise AttributeError(f"module 'crmclean' has no attribute {name!r}")


def __dir__() -> list[str]:
    """The API's names too (loaded lazily, so not yet in globals): notebooks complete them."""
    return sorted({*globals(), *__all__})
