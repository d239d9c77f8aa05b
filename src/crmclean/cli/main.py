"""Entry point: registers every command module with the app."""

from __future__ import annotations

from crmclean.cli import (
    clean_cmd,  # noqa: F401  (registers commands)
    dedupe_cmd,  # noqa: F401  (registers commands)
    evaluate_cmd,  # noqa: F401  (registers commands)
    explain_cmd,  # noqa: F401  (registers commands)
    profile_cmd,  # noqa: F401  (registers commands)
    report_cmd,  # noqa: F401  (registers commands)
    review_cmd,  # noqa: F401  (registers commands)
    rules_cmd,  # noqa: F401  (registers commands)
    run_cmd,  # noqa: F401  (registers commands)
    synth_cmd,  # noqa: F401  (registers commands)
    validate_cmd,  # noqa: F401  (registers commands)
)
from crmclean.cli.app import app


def run() -> None:
    app()


if __name__ == "__main__":
    run()
