"""The trend across nights: what one run adds to history.json (`night`), and the report's view of
the nights (`trend_part`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from crmclean.report.report_model import Night


def night(manifest: Mapping[str, Any], validate: Mapping[str, Any]) -> dict[str, Any]:
    """One night's figures, from the run's manifest and its validate.json document."""
    rows = manifest.get("rows") or {}
    changes = manifest.get("changes_since_previous") or {}
    results = validate.get("results") or []
    return {
        "finished_at": manifest.get("finished_at"),
        "exit_code": manifest.get("exit_code"),
        "score": validate.get("score"),
        "violations": int(rows.get("violations", 0)),
        "violations_per_rule": {
            str(r["rule_id"]): int(r["violations"]) for r in results if r.get("violations")
        },
        "golden_records": int(rows.get("golden", 0)),
        "merges": int(changes.get("merged", 0)),
        "splits": int(changes.get("split", 0)),
        "review": int(rows.get("review", 0)),
    }


def trend_part(nights: Sequence[Mapping[str, Any]] | None) -> list[Night] | None:
    """The nights for the report; None unless there are at least two to compare."""
    if not nights or len(nights) < 2:
        return None
    return [
        Night(
            night=str(n.get("finished_at") or "?")[:10],
            score=n.get("score") if isinstance(n.get("score"), int | float) else None,
            violations=int(n.get("violations") or 0),
            golden_records=int(n.get("golden_records") or 0),
            merges=int(n.get("merges") or 0),
            splits=int(n.get("splits") or 0),
            review=int(n.get("review") or 0),
            violations_per_rule={
                str(k): int(v) for k, v in (n.get("violations_per_rule") or {}).items()
            },
        )
        for n in nights
    ]
