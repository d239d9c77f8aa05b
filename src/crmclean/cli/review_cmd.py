"""`crmclean review OUT`: a steward decides the borderline pairs of a run, in the terminal or in
a spreadsheet. Every decision is appended to the rule file's decisions file at once (flushed and
fsynced, so Ctrl-C loses nothing) and the next `crmclean run` honours it."""

from __future__ import annotations

import getpass
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import polars as pl
import typer

from crmclean.cli.app import app, stderr_console, stdout_console
from crmclean.cli.options import (
    DelimiterOpt,
    EncodingOpt,
    QuietOpt,
    ShowValuesOpt,
    delimiter_char,
    examples,
)
from crmclean.cli.review_export import guard_export
from crmclean.cli.review_import import refuse_pairs
from crmclean.cli.review_keys import key_reader
from crmclean.cli.review_modes import full_screen, in_order
from crmclean.cli.review_precision import precision_of, sample_queue
from crmclean.config import load_rules
from crmclean.config.loader import LoadedRules
from crmclean.core.contracts import PAIR_KEYS
from crmclean.core.masking import MaskKind, cap_expr, mask_expr, personal_columns
from crmclean.core.matching import decisions as decisions_
from crmclean.errors import CrmcleanError, InputError, UsageError
from crmclean.io.decisions_file import DecisionsLog, decisions_path, undecided
from crmclean.io.export_file import write_export
from crmclean.io.readers import read_table
from crmclean.io.regular_file import is_present
from crmclean.io.review_folder import (
    ReviewedFolder,
    read_golden_values,
    read_members,
    read_queue,
    read_record_ids,
    read_reviewed,
)
from crmclean.io.run_folder import read_model_document, run_rule_file
from crmclean.io.writers import csv_text
from crmclean.report.review_console import pair_view, session_summary
from crmclean.report.review_fields import Order, cluster_columns
from crmclean.report.review_sheet import WEIGHT, sheet_columns, with_agreement
from crmclean.report.value_mask import make_masker

ANSWERS = {
    "y": "match",
    "yes": "match",
    "match": "match",
    "n": "no_match",
    "no": "no_match",
    "no_match": "no_match",
}


class ReviewFormat(StrEnum):
    table = "table"
    csv = "csv"


def _loaded_rules(rules: Path | None, reviewed: ReviewedFolder) -> LoadedRules:
    if rules is None:
        rules = run_rule_file(reviewed.folder, reviewed.rule_file)
    return load_rules(rules)


EXAMPLES = examples(
    "crmclean review out/",
    "crmclean review out/ -f csv --out queue.csv --delimiter ';'",
    "crmclean review matched/ --import queue.csv --by anna",
    doc="docs/review.md",
)


@app.command("review", epilog=EXAMPLES)
def review(
    out: Annotated[
        Path,
        typer.Argument(help="The --out folder of a run or of a dedupe.", show_default=False),
    ],
    rules: Annotated[
        Path | None, typer.Option("--rules", "-r", help="Rule file (default: the run's).")
    ] = None,
    output_format: Annotated[
        ReviewFormat,
        typer.Option("--format", "-f", help="table: review here; csv: export the queue."),
    ] = ReviewFormat.table,
    output: Annotated[
        Path | None,
        typer.Option(
            "--out", "-o", help="With --format csv: write the queue here (UTF-8 with BOM)."
        ),
    ] = None,
    old_output: Annotated[
        Path | None, typer.Option("--output", hidden=True, help="Old name of --out.")
    ] = None,
    import_file: Annotated[
        Path | None,
        typer.Option("--import", help="Read decisions (match/no_match or y/n) from a CSV."),
    ] = None,
    by: Annotated[str | None, typer.Option(help="Your name in the decisions file.")] = None,
    force: Annotated[
        bool, typer.Option("--force", help="With --out: replace an existing export.")
    ] = False,
    show_values: ShowValuesOpt = False,
    quiet: QuietOpt = False,
    encoding: EncodingOpt = None,
    delimiter: DelimiterOpt = None,
    order: Annotated[
        Order | None,
        typer.Option(
            help="value: key accounts and the customer's value first (the run's rollup, or "
            "--value-column); uncertainty: probability nearest 0.5 first; queue: as the run "
            "wrote it. Default: value when the run rolled up a customer value, else uncertainty.",
            show_default=False,
        ),
    ] = None,
    value_column: Annotated[
        str | None,
        typer.Option(
            help="With --order value: a numeric column of the data or of the golden records "
            "(a rollup measure such as revenue_12m)."
        ),
    ] = None,
    plain: Annotated[
        bool, typer.Option(help="One pair after another as lines, not the full screen.")
    ] = False,
    sample: Annotated[
        int | None,
        typer.Option(
            min=1,
            help="Review N random automatic merges instead of the queue: your labels estimate "
            "the precision of the merges.",
        ),
    ] = None,
    seed: Annotated[int, typer.Option(help="With --sample: the same seed draws the same.")] = 1,
) -> None:
    """Decide the review band: y match, n no, s skip, u undo, c note, / search, q quit.

    Decisions go to the rule file's `matching.decisions` file as they are made; the next
    `crmclean run` honours them. Personal values are masked unless --show-values.
    --delimiter sets the export's separator (`;` for Excel in a German locale, with decimal
    commas) and the --import file's; --encoding the --import file's.
    """
    output = _renamed_output(output, old_output)
    sep = delimiter_char(delimiter)
    reviewed = read_reviewed(out)
    loaded = _loaded_rules(rules, reviewed)
    queue = read_queue(reviewed, loaded.rules)
    path = decisions_path(loaded.path, loaded.rules)
    pii = personal_columns(loaded.rules)
    if path is not None:
        is_present(path, "decisions file")  # a FIFO or device there would block the appends
    if sample is not None:  # label random automatic merges: the precision estimate
        queue = sample_queue(reviewed, loaded.rules, path, sample, seed)
    if output_format is ReviewFormat.csv and import_file is None:
        # exporting needs no decisions file: without one, every pair of the queue is pending
        pending = undecided(queue, path) if path is not None else queue
        pending = in_order(pending, order, value_column, lambda: read_golden_values(reviewed))
        if output is not None:  # never over the decisions, rules, input or a run's files
            guard_export(output, reviewed, loaded, path, force=force)
        _export(pending, output, pii, show_values, (sep or ",", quiet, _level_names(out)))
        return
    if path is None:
        raise UsageError(
            f"{loaded.path}: matching.decisions is not set",
            "add `decisions: decisions.csv` under matching: (exporting with -f csv needs none)",
        )
    steward = by or _user()
    if import_file is not None:
        known = read_record_ids(reviewed)
        _import(import_file, path, steward, known, (encoding, sep), quiet)
        _say_precision(reviewed, path, quiet)
        return
    pending = in_order(
        undecided(queue, path), order, value_column, lambda: read_golden_values(reviewed)
    )
    if not sys.stdin.isatty():
        raise UsageError(
            "review needs a terminal", "export with --format csv and read back with --import"
        )
    mask = make_masker(pii, show_values)
    if plain:
        _session(pending, path, steward, mask, _level_names(out))
    else:
        source = reviewed.source_column or loaded.rules.dataset.source_column
        members = read_members(reviewed, source, cluster_columns(pending.columns))
        full_screen(pending, path, steward, mask, _level_names(out), members)
    _say_precision(reviewed, path, quiet)


def _say_precision(reviewed: ReviewedFolder, path: Path, quiet: bool) -> None:
    try:
        estimate = precision_of(reviewed, path)
    except CrmcleanError as exc:  # the decisions are saved; only the estimate is not possible
        if not quiet:
            stderr_console().print(f"crmclean: note: no precision estimate: {exc}", markup=False)
        return
    if estimate is not None and not quiet:
        stderr_console().print(f"automatic merges: {estimate.sentence()}", markup=False)


def _renamed_output(output: Path | None, old: Path | None) -> Path | None:
    """`--output` (every other command says `--out`) still works, with a note."""
    if old is None:
        return output
    if output is not None:
        raise UsageError("give --out only (--output is its old name)")
    stderr_console().print(
        "crmclean: note: review --output is now --out; the old name will go", markup=False
    )
    return old


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no login name in a bare container
        return "steward"


def _level_names(out: Path) -> dict[str, dict[int, str]]:
    """Comparison -> gamma -> label from the run's model.json ("exact", "jaro_winkler >= 0.9")."""
    try:
        model = read_model_document(out / "model.json")
        return {
            str(c["name"]): {int(lv["gamma"]): str(lv["label"]) for lv in c["levels"]}
            for c in model["comparisons"]
        }
    except (InputError, ValueError, KeyError, TypeError):
        return {}  # no model (no matching section) or an older format: show level numbers


def _session(
    pending: pl.DataFrame,
    path: Path,
    steward: str,
    mask: Any,
    levels: dict[str, dict[int, str]],
) -> None:
    console = stdout_console()
    total = pending.height  # pairs are fetched one at a time: the queue may be large
    log = DecisionsLog(path)
    history: list[tuple[int, str, tuple[int, int] | None]] = []
    counts = {"match": 0, "no_match": 0, "skipped": 0}
    index = 0
    try:
        with key_reader() as next_key:
            while index < total:
                pair = pending.row(index, named=True)
                decided = counts["match"] + counts["no_match"]
                console.rule()
                view = pair_view(
                    pair, index=index, total=total, mask=mask, decided=decided, levels=levels
                )
                console.print(view)
                key = next_key().lower()
                if key in ("y", "n"):
                    decision = ANSWERS[key]
                    row = decisions_.decision_row(
                        str(pair["record_id_l"]),
                        str(pair["record_id_r"]),
                        decision,
                        decided_by=steward,
                    )
                    history.append((index, decision, log.append(row)))
                    counts[decision] += 1
                    index += 1
                elif key == "s":
                    history.append((index, "skipped", None))
                    counts["skipped"] += 1
                    index += 1
                elif key == "u":
                    index = _undo(history, counts, log, index, console)
                elif key == "q":
                    break
    except (KeyboardInterrupt, EOFError):
        console.print("\ninterrupted; every decision made is saved", markup=False)
    finally:
        log.close()
    remaining = total - counts["match"] - counts["no_match"] - counts["skipped"]
    stderr_console().print(session_summary(counts, str(path), remaining), markup=False)


def _undo(
    history: list[tuple[int, str, tuple[int, int] | None]],
    counts: dict[str, int],
    log: DecisionsLog,
    index: int,
    console: Any,
) -> int:
    """Step back to the previous pair, taking its decision out of the file."""
    if not history:
        console.print("nothing to undo", markup=False)
        return index
    previous, what, span = history[-1]
    if span is not None and not log.undo(span):
        console.print("the decisions file changed since; the decision stays", markup=False)
        return index
    history.pop()
    counts[what] -= 1
    return previous


def _import(
    source: Path,
    path: Path,
    steward: str,
    known: pl.Series,
    csv: tuple[str | None, str | None],
    quiet: bool,
) -> None:
    """Append the decisions filled in a spreadsheet export; blank decisions are skipped."""
    read = read_table(source, encoding=csv[0], delimiter=csv[1])
    frame = read.frame
    missing = [c for c in [*PAIR_KEYS, "decision"] if c not in frame.columns]
    if missing:  # a usage problem of the file given (exit 2), like a bad decision
        raise UsageError(
            f"{source}: lacks column(s) {', '.join(missing)}",
            "import the file `crmclean review --format csv` exported, with decisions filled in",
        )
    answer = pl.col("decision").cast(pl.String).str.strip_chars().str.to_lowercase()
    rows = (
        frame.with_row_index("__row")
        .select("__row", *PAIR_KEYS, answer.alias("answer"), pl.col("decision").alias("written"))
        .filter(pl.col("answer").is_not_null() & (pl.col("answer") != ""))
    )
    unknown = rows.filter(~pl.col("answer").is_in(list(ANSWERS)))
    if unknown.height:
        index, written = unknown.select("__row", "written").row(0)
        where = read.locate(index) if read.locate else f"{source} row {index + 1}"
        more = f" (and {unknown.height - 1} more)" if unknown.height > 1 else ""
        raise UsageError(
            f"{where}: decision {written!r} is not match/no_match/y/n{more}",
            "use match or no_match (y or n) and leave undecided rows blank",
        )
    # the export guards ids against spreadsheet formulas with a leading '
    ids = [
        pl.col(c).cast(pl.String).str.strip_chars().str.strip_prefix("'").alias(c)
        for c in PAIR_KEYS
    ]
    rows = rows.with_columns(ids)
    refuse_pairs(rows, known, lambda index: read.locate(index) if read.locate else None, source)
    rows = rows.select(*PAIR_KEYS, "answer")
    log = DecisionsLog(path)
    try:
        for left, right, answer_text in rows.iter_rows():  # a steward's sheet, not the data
            row = decisions_.decision_row(left, right, ANSWERS[answer_text], decided_by=steward)
            log.append(row)
    finally:
        log.close()
    if quiet:
        return
    stderr_console().print(
        f"imported {rows.height} decision(s) into {path}; "
        f"{frame.height - rows.height} row(s) left undecided",
        markup=False,
    )


def _export(
    pending: pl.DataFrame,
    output: Path | None,
    pii: dict[str, MaskKind],
    show_values: bool,
    how: tuple[str, bool, dict[str, dict[int, str]]],
) -> None:
    """The queue as a spreadsheet-safe CSV with an empty `decision` column to fill in: per field
    both (masked) values, whether they agree and the comparison's weight, so a steward can
    decide from the sheet; with a `;` delimiter numbers have a decimal comma, as Excel in a
    German locale reads them."""
    delimiter, quiet, levels = how
    sheet = with_agreement(pending, levels)
    columns = sheet_columns(sheet)
    numbers = {"match_probability", "match_weight", "prior", "customer_value"} | {
        c for c in columns if c.endswith(WEIGHT)
    }

    def shown(column: str) -> pl.Expr:
        if column in numbers:
            number = pl.col(column).round(4 if column == "match_probability" else 2)
            if delimiter == ";":
                return number.cast(pl.String).str.replace(".", ",", literal=True).alias(column)
            return number
        name = column[:-2] if column[-2:] in ("_l", "_r") else None
        if name is None:
            return pl.col(column)
        value = pl.col(column)
        if not show_values and name in pii:
            value = mask_expr(value, pii[name])
        return cap_expr(value).alias(column)

    head = [
        *PAIR_KEYS,
        "match_probability",
        *(["match_weight", "prior"] if "match_weight" in sheet.columns else []),
        *(["reason"] if "reason" in sheet.columns else []),
        *[c for c in ("key_account", "customer_value") if c in sheet.columns],
    ]
    masked = sheet.select(
        *[shown(c) for c in [*head, *columns]], pl.lit("", pl.String).alias("decision")
    )
    if output is not None:
        write_export(masked, output, delimiter)
        if not quiet:
            stderr_console().print(f"review queue ({masked.height} pairs) written: {output}")
        return
    typer.echo(csv_text(masked, delimiter), nl=False)
