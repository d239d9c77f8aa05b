"""The state of one review session, apart from any screen: the pairs in order, where the
steward is, the decisions written (each appended to the decisions file at once, so a crash
loses nothing), notes, and undo."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import polars as pl

from crmclean.core.matching import decisions as decisions_
from crmclean.io.decisions_file import DecisionsLog


@dataclass
class ReviewSession:
    pending: pl.DataFrame
    log: DecisionsLog
    steward: str
    index: int = 0
    counts: dict[str, int] = field(
        default_factory=lambda: {"match": 0, "no_match": 0, "skipped": 0}
    )
    history: list[tuple[int, str, tuple[int, int] | None]] = field(default_factory=list)
    notes: dict[int, str] = field(default_factory=dict)  # pair index -> note for its decision

    @property
    def total(self) -> int:
        return self.pending.height

    @property
    def done(self) -> bool:
        return self.index >= self.total

    @property
    def decided(self) -> int:
        return self.counts["match"] + self.counts["no_match"]

    def pair(self) -> dict[str, Any]:
        return self.pending.row(self.index, named=True)

    def decide(self, decision: str) -> None:
        """Write `decision` (match / no_match) for the current pair, with its note if any."""
        pair = self.pair()
        row = decisions_.decision_row(
            str(pair["record_id_l"]),
            str(pair["record_id_r"]),
            decision,
            decided_by=self.steward,
            note=self.notes.get(self.index, ""),
        )
        self.history.append((self.index, decision, self.log.append(row)))
        self.counts[decision] += 1
        self.index += 1

    def skip(self) -> None:
        self.history.append((self.index, "skipped", None))
        self.counts["skipped"] += 1
        self.index += 1

    def undo(self) -> str:
        """Back to the previous pair, its decision taken out of the file; what happened."""
        if not self.history:
            return "nothing to undo"
        previous, what, span = self.history[-1]
        if span is not None and not self.log.undo(span):
            return "the decisions file changed since; the decision stays"
        self.history.pop()
        self.counts[what] -= 1
        self.index = previous
        return f"undone: {what.replace('_', ' ')}"

    def note(self, text: str) -> None:
        self.notes[self.index] = text

    def unsaved_notes(self) -> int:
        """Notes typed for pairs that were not decided since: they reach no file."""
        decided = {i for i, what, _ in self.history if what != "skipped"}
        return sum(1 for i, text in self.notes.items() if text and i not in decided)

    def find(self, record_id: str) -> bool:
        """Jump to the first pair from here on (then from the start) holding `record_id`."""
        ids = self.pending.select(
            (pl.col("record_id_l").cast(pl.String) == record_id)
            | (pl.col("record_id_r").cast(pl.String) == record_id)
        ).to_series()
        hits = ids.arg_true().to_list()
        if not hits:
            return False
        later = [i for i in hits if i >= self.index]
        self.index = later[0] if later else hits[0]
        return True

    def remaining(self) -> int:
        return self.total - self.decided - self.counts["skipped"]
