"""The full-screen review (Textual), made to fit 80x24: the pair side by side with per-field
agreement and weights adding up to the match weight, the golden records around the pair, and
keys for every decision. Every decision is in the decisions file the moment it is made."""

from __future__ import annotations

from typing import Any, ClassVar

import polars as pl
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import DataTable, Footer, Input, Static

from crmclean.cli.review_session import ReviewSession
from crmclean.report.review_fields import field_rows, value_width
from crmclean.report.value_mask import Masker

# the panel's 6 lines: its border, column names, these rows and a horizontal scrollbar
CLUSTER_ROWS = 3


class ReviewApp(App[None]):
    TITLE = "crmclean review"
    # nothing takes the focus by itself: the keys are the app's, and a hidden prompt holding
    # the focus would swallow y/n/s/u/q in a real terminal
    AUTO_FOCUS = None
    # the help line holds the review's own keys, PgDn included, within 80 columns
    ENABLE_COMMAND_PALETTE = False
    CSS = """
    #head { height: 2; padding: 0 1; background: $panel; }
    #fields { height: 1fr; }
    #cluster { height: 6; border-top: solid $primary; }
    #prompt { dock: bottom; display: none; }
    #prompt.open { display: block; }
    #status { height: 1; padding: 0 1; color: $warning; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y", "decide('match')", "match"),
        Binding("n", "decide('no_match')", "no match"),
        Binding("s", "skip", "skip"),
        Binding("u", "undo", "undo"),
        Binding("c", "ask('note')", "note"),
        Binding("slash", "ask('search')", "search"),
        Binding("q", "quit", "quit"),
        Binding("pagedown", "fields('down')", "more", key_display="PgDn", priority=True),
        Binding("pageup", "fields('up')", "back", key_display="PgUp", show=False, priority=True),
        Binding("escape", "cancel", "cancel", show=False, priority=True),
    ]

    def __init__(
        self,
        session: ReviewSession,
        mask: Masker,
        levels: dict[str, dict[int, str]],
        members: pl.DataFrame | None = None,
    ) -> None:
        super().__init__()
        self.session = session
        self.mask = mask
        self.levels = levels
        self.members = members  # record_id, golden_id (+ a few values): the clusters around
        self._asking = ""
        self._warned = False  # q with unsaved notes warns once

    def compose(self) -> ComposeResult:
        yield Static(id="head")
        yield DataTable(id="fields", cursor_type="none", zebra_stripes=True)
        yield DataTable(id="cluster", cursor_type="none")
        yield Static(id="status")
        yield Input(id="prompt")
        yield Footer()

    def on_mount(self) -> None:
        for table in self.query(DataTable):  # the keys are the app's: PgDn shows in the help
            table.can_focus = False
        self.query_one("#prompt", Input).can_focus = False  # only while it asks (c, /)
        self.set_focus(None)
        self.show()

    def show(self, status: str = "") -> None:
        self.query_one("#status", Static).update(status)
        if self.session.done:
            self.exit()
            return
        pair = self.session.pair()
        s = self.session
        probability = pair.get("match_probability")
        head = (
            f"Pair {s.index + 1} of {s.total} · {pair['record_id_l']} vs {pair['record_id_r']}"
            f" · probability {probability:.3f}"
            if isinstance(probability, float)
            else f"Pair {s.index + 1} of {s.total}"
        )
        note = s.notes.get(s.index)
        reason = pair.get("reason") or ""
        self.query_one("#head", Static).update(
            f"{head}\ndecided {s.decided}, skipped {s.counts['skipped']}"
            + (f" · {reason}" if reason and reason != "review band" else "")
            + (f" · note: {note}" if note else "")
        )
        fields = self.query_one("#fields", DataTable)
        fields.clear(columns=True)  # widths from the pair before would cut this one's weights
        fields.add_columns("field", "left", "right", "agree", "weight")
        width = value_width(pair, self.size.width)
        for row in field_rows(pair, self.mask, self.levels, width):
            weight = "" if row.weight is None else f"{row.weight:+.2f}"
            fields.add_row(row.field, row.left, row.right, row.agreement, weight)
        self._show_cluster(pair)

    def _show_cluster(self, pair: dict[str, Any]) -> None:
        cluster = self.query_one("#cluster", DataTable)
        cluster.clear(columns=True)
        if self.members is None or "golden_id_l" not in pair:
            cluster.display = False
            return
        golden = [pair.get("golden_id_l"), pair.get("golden_id_r")]
        around = self.members.filter(pl.col("golden_id").is_in([g for g in golden if g]))
        pair_ids = [str(pair.get("record_id_l")), str(pair.get("record_id_r"))]
        if "record_id" in around.columns:  # the pair's own two records first, then the others
            first = pl.col("record_id").cast(pl.String).is_in(pair_ids)
            around = around.sort(first, descending=True, maintain_order=True)
        shown = [c for c in around.columns if c != "golden_id"]
        cluster.add_columns("golden_id", *shown)
        # the panel holds CLUSTER_ROWS rows: the last says how many more when they do not fit
        fits = CLUSTER_ROWS if around.height <= CLUSTER_ROWS else CLUSTER_ROWS - 1
        for row in around.head(fits).iter_rows(named=True):
            cluster.add_row(
                str(row["golden_id"]),
                *[self.mask(c, None if row[c] is None else str(row[c])) or "–" for c in shown],
            )
        if around.height > fits:
            cluster.add_row(f"+{around.height - fits} more", *[""] * len(shown))
        cluster.display = True

    def action_fields(self, where: str) -> None:
        """PgDn / PgUp: the fields below the fold on a 24-line screen (city, dates ...)."""
        fields = self.query_one("#fields", DataTable)
        if where == "down":
            fields.scroll_page_down(animate=False)
        else:
            fields.scroll_page_up(animate=False)

    def action_decide(self, decision: str) -> None:
        self.session.decide(decision)
        self.show()

    def action_skip(self) -> None:
        self.session.skip()
        self.show()

    def action_undo(self) -> None:
        self.show(self.session.undo())

    async def action_quit(self) -> None:
        """A note only reaches the file with its pair's decision: warn once before it is lost."""
        unsaved = self.session.unsaved_notes()
        if unsaved and not self._warned:
            self._warned = True
            self.show(
                f"{unsaved} note(s) on undecided pairs are not saved: decide (y/n), or q again"
            )
            return
        self.exit()

    def action_ask(self, what: str) -> None:
        self._asking = what
        prompt = self.query_one("#prompt", Input)
        prompt.placeholder = (
            "note for this pair's decision (Enter)" if what == "note" else "record id (Enter)"
        )
        prompt.value = ""
        prompt.add_class("open")
        prompt.can_focus = True
        prompt.focus()

    def action_cancel(self) -> None:
        """Esc closes the note or search prompt without keeping what was typed."""
        prompt = self.query_one("#prompt", Input)
        if not prompt.has_class("open"):
            return
        prompt.remove_class("open")
        prompt.can_focus = False
        self._asking = ""
        self.set_focus(None)
        self.show("")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        prompt = self.query_one("#prompt", Input)
        prompt.remove_class("open")
        prompt.can_focus = False
        text = event.value.strip()
        if self._asking == "note":
            self.session.note(text)
            self.show("note kept for this pair's decision" if text else "")
        elif text:
            found = self.session.find(text)
            self.show("" if found else f"no pair in the queue holds record {text}")
        self.set_focus(None)
