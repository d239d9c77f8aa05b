"""The steward decisions file (core.matching.decisions describes it): read the same way for
`dedupe`, `run`, `review` and `explain` (a file that cannot be read is exit 3, rows that are
not decisions are exit 2 naming the file and lines), and appended to by `review` only."""

from __future__ import annotations

import csv
import os
from pathlib import Path

import polars as pl

from crmclean.core.contracts import DECISION_COLUMNS, PAIR_KEYS, REQUIRED_COLUMNS
from crmclean.core.matching import decisions as decisions_
from crmclean.core.rules.rule_file import RuleFile
from crmclean.errors import InputError, OutputError, UsageError
from crmclean.io.named_files import DECISIONS_FILE, checked_named_file
from crmclean.io.regular_file import is_present, require_regular_file


def read_decisions_file(path: Path) -> pl.DataFrame:
    """The decisions log as text columns; an empty or header-only file is no decisions yet."""
    # a FIFO or device there is an unreadable input (exit 3), never a hang or "no decisions";
    # then the kind, before the size: /proc/self/environ (size 0) or /etc/passwd is exit 2
    size = require_regular_file(path, "decisions file").st_size
    checked_named_file(path, DECISIONS_FILE)  # a .csv of bounded size, even behind a link
    if size == 0:
        return decisions_.empty()
    try:
        frame = pl.read_csv(path, infer_schema=False, encoding="utf8", glob=False)
    except OSError as exc:
        raise InputError(f"{path}: cannot read the decisions file: {exc.strerror or exc}") from None
    except pl.exceptions.PolarsError:
        # polars' message quotes the offending row: only its line number is given
        raise InputError(
            f"{path}: not a readable decisions CSV ({_first_bad_line(path)})",
            "each row needs record_id_l,record_id_r,decision; quote values that hold commas",
        ) from None
    problems = decisions_.problems(frame)
    if problems:
        raise UsageError(
            f"{path}: " + "; ".join(problems),
            "fix or remove the offending rows (see docs/matching.md#decisions)",
        )
    return frame


def _first_bad_line(path: Path) -> str:
    """Where the file stops being a CSV of the header's width (a loop, but only on the error
    path); the content of that line is never quoted."""
    try:
        with path.open(encoding="utf-8", newline="") as handle:
            reader = csv.reader(handle, strict=True)
            width = len(next(reader, []))
            for row in reader:
                if len(row) != width:
                    return f"line {reader.line_num}: {len(row)} fields, the header has {width}"
    except csv.Error:
        return f"line {reader.line_num}: unbalanced quotes or a stray character"
    except UnicodeDecodeError as exc:
        return f"not UTF-8 text at byte {exc.start}"
    return "malformed CSV"


def read_decisions(path: Path) -> pl.DataFrame:
    """The decisions log, in the columns the matching step reads."""
    return read_decisions_file(path).select(REQUIRED_COLUMNS)


def decisions_path(rule_path: Path, rules: RuleFile) -> Path | None:
    """The decisions file `matching.decisions` names, beside the rule file; None when unset."""
    matching = rules.matching
    if matching is None or not matching.decisions:
        return None
    return rule_path.parent / matching.decisions


def read_configured(rule_path: Path, rules: RuleFile) -> tuple[Path | None, pl.DataFrame | None]:
    """The steward decisions file named by `matching.decisions` (absent: no decisions yet)."""
    path = decisions_path(rule_path, rules)
    if path is None or not is_present(path, "decisions file"):
        return path, None
    frame = read_decisions_file(path)
    return path, frame if frame.height else None


def existing(path: Path) -> Path | None:
    """`path` if something is there; no steward has decided anything yet otherwise
    (`crmclean review` creates the file)."""
    return path if path.exists() else None


def decision_of(path: Path | None, low: str, high: str) -> str | None:
    """The steward's last decision on the pair (low, high), if the file holds one."""
    if path is None or not is_present(path, "decisions file"):
        return None
    decided = decisions_.normalise(read_decisions(path)).filter(
        (pl.col("record_id_l") == low) & (pl.col("record_id_r") == high)
    )
    return str(decided.get_column("decision")[0]) if decided.height else None


def undecided(queue: pl.DataFrame, path: Path) -> pl.DataFrame:
    """The pairs of `queue` no steward has decided in the decisions file at `path`."""
    if not is_present(path, "decisions file") or path.stat().st_size == 0:
        return queue
    decided = read_decisions_file(path)
    if decided.height == 0:
        return queue
    return queue.join(decisions_.normalise(decided).select(PAIR_KEYS), on=PAIR_KEYS, how="anti")


def _refuse_foreign_file(path: Path) -> list[str] | None:
    """Append only to a decisions file: a file (or a link) whose first line is not a decisions
    header (the required columns, and no column a decisions file does not have) may be an input,
    a rule file or anything else, and is never written to. Returns the header's columns (None
    when there is no file or it is empty)."""
    if not os.path.lexists(path):
        return None
    require_regular_file(path, "decisions file")
    with path.open("rb") as handle:
        first = handle.readline(4096)
    if not first.strip():
        return None  # an empty file: no decisions yet
    header = first.decode("utf-8", errors="replace").lstrip("\ufeff").strip()
    columns = [c.strip().strip('"') for c in header.split(",")]
    known = set(columns) <= set(DECISION_COLUMNS)  # a hand-made file may be shorter
    if not (known and set(REQUIRED_COLUMNS) <= set(columns)):
        raise OutputError(
            f"{path}: is not a decisions file written by crmclean (its first line is not the "
            "decisions header); refusing to append to it",
            "point matching.decisions at a new file, or restore this one",
        )
    return columns


class DecisionsLog:
    """Appends decision rows; undo removes this session's last row (only if still the last).

    The header goes in with the first row, so a session that decides nothing (or undoes every
    decision) leaves no header-only file behind for other readers to trip over.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._created = not path.exists()
        # a hand-made file may have fewer columns: its rows keep its header's width and order
        self._columns = _refuse_foreign_file(path) or DECISION_COLUMNS
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._handle = path.open("a+", encoding="utf-8", newline="")
        except OSError as exc:
            raise OutputError(f"{path}: cannot open the decisions file: {exc.strerror}") from None
        if self._handle.tell() and not _ends_with_newline(path):
            self._handle.write("\n")  # edited by hand: do not glue a row onto the last line

    def append(self, row: dict[str, str]) -> tuple[int, int]:
        before = self._handle.seek(0, os.SEEK_END)
        writer = csv.writer(self._handle, lineterminator="\n")
        if before == 0:
            self._columns = DECISION_COLUMNS
            writer.writerow(DECISION_COLUMNS)
        writer.writerow([row.get(c, "") for c in self._columns])
        self._handle.flush()
        os.fsync(self._handle.fileno())
        return before, self._handle.tell()

    def undo(self, span: tuple[int, int]) -> bool:
        before, after = span
        if self._handle.seek(0, os.SEEK_END) != after:
            return False  # someone appended since: leave their rows alone
        self._handle.truncate(before)
        self._handle.flush()
        os.fsync(self._handle.fileno())
        return True

    def close(self) -> None:
        empty = self._handle.seek(0, os.SEEK_END) == 0
        self._handle.close()
        if empty and self._created:
            self.path.unlink(missing_ok=True)


def _ends_with_newline(path: Path) -> bool:
    with path.open("rb") as handle:
        handle.seek(-1, os.SEEK_END)
        return handle.read(1) == b"\n"
