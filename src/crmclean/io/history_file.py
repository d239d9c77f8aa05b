"""history.json of a run folder: one entry per night, carried from `--previous` to the next
run, so the report can chart the trend. A missing or unreadable history starts a new one (the
night's data matters more than its chart); it is read bounded and through no link. A published
run carries the same document in its `crmclean_run` table (crmclean.io.publish)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from crmclean.io.regular_file import Unread, small_text

HISTORY_FILE = "history.json"
MAX_NIGHTS = 120  # four months of nightly runs; older nights drop off the chart


def read_history(folder: Path | None) -> list[dict[str, Any]]:
    """The nights recorded in `folder`'s history.json, oldest first; [] when there is none."""
    if folder is None:
        return []
    text = small_text(folder / HISTORY_FILE)
    return [] if isinstance(text, Unread) else history_nights(text)


def history_nights(text: str | None) -> list[dict[str, Any]]:
    """The nights of a history document as written (JSON text); [] when it holds none."""
    if text is None:
        return []
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        return []
    nights = data.get("nights") if isinstance(data, dict) else None
    if not isinstance(nights, list):
        return []
    return [n for n in nights if isinstance(n, dict)]


def with_night(nights: list[dict[str, Any]], night: dict[str, Any]) -> dict[str, Any]:
    """The document to write: the earlier nights and this one, capped at MAX_NIGHTS."""
    return {"schema_version": 1, "nights": [*nights, night][-MAX_NIGHTS:]}
