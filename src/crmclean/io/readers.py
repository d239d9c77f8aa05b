"""Load a customer table (CSV, Parquet, NDJSON, JSON, Excel) into the frame every step expects:
a String `record_id` first, every other column String unless typed, plus facts about the file.

Problems become one-line InputErrors (exit 3) naming the file, the line and what to do.
"""

from __future__ import annotations

import difflib
import hashlib
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import polars as pl

from crmclean.core.contracts import RECORD_ID
from crmclean.core.masking import redact_engine_message
from crmclean.errors import InputError, looks_like_column_name, shown_column_names
from crmclean.io.csv_reader import read_csv
from crmclean.io.regular_file import require_regular_file
from crmclean.io.sniff import SAMPLE_BYTES, check_names, detect_format
from crmclean.io.standard_input import STDIN, is_stdin, shown_name, stdin_copy

_TRUE = ["true", "t", "yes", "y", "1", "ja", "wahr"]
_FALSE = ["false", "f", "no", "n", "0", "nein", "falsch"]


@dataclass(frozen=True)
class ReadInfo:
    """What was read, for summaries and the HTML report (the fingerprint pins the exact file).

    `path` is the file, or for a database the URL without its password (with `table` or the
    `query_sha256` of what was asked), or `<DataFrame>` for a frame handed to the Python API.
    """

    path: Path | str
    format: str  # csv, parquet, ndjson, json, excel; postgresql, sqlite, duckdb; dataframe
    encoding: str | None  # text formats only
    delimiter: str | None  # CSV only
    rows: int
    columns: tuple[str, ...]  # as in the file, without record_id
    size_bytes: int
    sha256: str  # of the file; empty where there is no file
    table: str | None = None  # database inputs read by table
    query_sha256: str | None = None  # database inputs read by query: the query is not written

    @property
    def name(self) -> str:
        """The file's name, or the whole location where it is no file."""
        return self.path.name if isinstance(self.path, Path) else self.path

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["path"] = str(self.path)
        out["columns"] = list(self.columns)
        for key in ("table", "query_sha256"):
            if out[key] is None:
                del out[key]  # file inputs keep the keys they always had
        return out


Locate = Callable[[int], str]


@dataclass(frozen=True)
class ReadResult:
    frame: pl.DataFrame
    info: ReadInfo
    # where a data row (0-based) stands in the file, "path:line" or "path row n", for messages
    locate: Locate | None = None


def read_table(
    path: Path,
    *,
    id_column: str | None = None,
    required_columns: Sequence[str] = (),
    encoding: str | None = None,
    delimiter: str | None = None,
    hint: str | None = None,
) -> ReadResult:
    """Read a table as text columns with a record_id; the rule file's column types are applied
    by the one setup step (crmclean.core.standardise.column_types), not here. `-` reads
    standard input (crmclean.io.standard_input)."""
    path = Path(path)
    if is_stdin(path):
        return _read_stdin(
            id_column=id_column,
            required_columns=required_columns,
            encoding=encoding,
            delimiter=delimiter,
            hint=hint,
        )
    size = _check_file(path)
    head = _head(path)
    fmt = detect_format(path, head)
    used_encoding: str | None = None
    used_delimiter: str | None = None
    if fmt == "csv":
        frame, src, locate = read_csv(path, head, encoding, delimiter)
        used_encoding, used_delimiter = src.encoding.name, src.delimiter
    else:
        frame, locate = _read_other(path, fmt)
    columns = tuple(frame.columns)
    needed = [*required_columns, *([id_column] if id_column else [])]
    check_required_columns(path, columns, needed, hint)
    frame = _with_record_id(path, frame, id_column, locate)
    info = ReadInfo(
        path, fmt, used_encoding, used_delimiter, frame.height, columns, size, _sha256(path)
    )
    return ReadResult(frame, info, locate)


def frame_table(
    frame: pl.DataFrame, *, id_column: str | None = None, name: str = "<DataFrame>"
) -> ReadResult:
    """A frame already in memory (the Python API's input, a database's rows) as `read_table`
    gives a file: names checked, every column String, the record_id first."""
    if frame.width == 0:
        raise InputError(f"{name}: has no columns", "pass a table with at least one column")
    names = [str(c).strip() for c in frame.columns]
    check_names(name, names)
    frame = frame.rename(dict(zip(frame.columns, names, strict=True)))
    check_required_columns(name, names, [id_column] if id_column else [])

    def locate(row: int) -> str:
        return f"{name} row {row + 1}"

    typed = _as_strings(name, frame)
    table = _with_record_id(name, typed, id_column, locate)
    info = ReadInfo(name, "dataframe", None, None, table.height, tuple(names), 0, "")
    return ReadResult(table, info, locate)


def _read_stdin(**options: Any) -> ReadResult:
    with stdin_copy() as copy:
        read = read_table(copy, **options)
    located = read.locate
    info = replace(read.info, path=Path(STDIN))

    def locate(row: int) -> str:
        return shown_name(located(row), copy) if located else f"{STDIN} row {row + 1}"

    return ReadResult(read.frame, info, locate)


def read_reference_values(path: Path, column: str) -> list[str]:
    """Distinct non-null values of one column of a reference file, in file order."""
    frame = read_table(path, required_columns=[column]).frame
    return [str(v) for v in frame.get_column(column).drop_nulls().unique(maintain_order=True)]


def check_required_columns(
    path: Path | str, columns: Sequence[str], needed: Sequence[str], hint: str | None = None
) -> None:
    """Every missing column at once, each with the closest names the file does have. `hint`
    says what to do when the columns come from an option rather than a rule file."""
    missing = [name for name in dict.fromkeys(needed) if name not in columns]
    if not missing:
        return
    parts = []
    for name in missing:
        lowered = {c.lower(): c for c in columns}
        close = difflib.get_close_matches(name, list(columns), n=2, cutoff=0.6)
        if name.lower() in lowered and lowered[name.lower()] not in close:
            close.insert(0, lowered[name.lower()])
        close = [c for c in close if looks_like_column_name(c)]
        suggestion = f" (did you mean {' or '.join(map(repr, close))}?)" if close else ""
        parts.append(f"{name!r}{suggestion}")
    fix = hint or "rename the column in the file or in the rule file"
    split = _one_column_split_by(columns)
    if split is not None:  # `--delimiter ';'` on a comma file: the header is one long name
        shown = "tab" if split == "\t" else split
        fix = (
            f"the file reads as one column whose name holds {shown!r}: is the delimiter "
            f"{shown!r}? pass --delimiter '{shown}' or leave --delimiter out to detect it; " + fix
        )
    raise InputError(
        f"{path}: lacks column(s) {'the rules need' if hint is None else 'needed'}: "
        + ", ".join(parts),
        f"{fix}; the file has: {shown_column_names(columns)}",
    )


def _one_column_split_by(columns: Sequence[str]) -> str | None:
    """The usual delimiter inside the name of a file's only column, if any: the sign that the
    file was split by the wrong one."""
    if len(columns) != 1:
        return None
    return next((d for d in (",", ";", "\t", "|") if d in columns[0]), None)


def _has_bytes(path: Path) -> bool:
    try:
        with path.open("rb") as handle:
            return bool(handle.read(1))
    except OSError:
        return False


def _check_file(path: Path) -> int:
    """A readable regular file with data: FIFOs, devices and stdin are refused before any open."""
    size = require_regular_file(path).st_size
    if size == 0:
        if _has_bytes(path):  # /proc and /sys files report 0 bytes and still read as text
            raise InputError(
                f"{path}: reports 0 bytes but has content (a /proc or /sys file?), not a data "
                "file crmclean reads",
                "copy it to a regular file first if you really mean to read it",
            )
        raise InputError(f"{path}: is empty (0 bytes)", "export the data again")
    return size


def _head(path: Path) -> bytes:
    with path.open("rb") as handle:
        return handle.read(SAMPLE_BYTES)


def _sha256(path: Path) -> str:
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def _read_other(path: Path, fmt: str) -> tuple[pl.DataFrame, Locate]:
    """Parquet, NDJSON, JSON and Excel; every column turned into String."""
    try:
        if fmt == "parquet":
            frame = pl.read_parquet(path, glob=False)
        elif fmt == "ndjson":
            frame = pl.read_ndjson(path, infer_schema_length=None)
        elif fmt == "json":
            frame = pl.read_json(path, infer_schema_length=None)
        else:
            frame = _read_excel(path)
    except InputError:
        raise  # our own diagnosis of the sheet's header
    except ImportError as exc:
        raise InputError(f"{path}: {fmt} support is not installed: {exc}", "save as CSV") from None
    except Exception as exc:  # engines raise their own types (fastexcel: CalamineError)
        raise InputError(
            f"{path}: cannot be read as {fmt}: {_first_line(exc)}", _fix_hint(fmt)
        ) from None
    if frame.width == 0 or frame.height == 0:
        raise InputError(f"{path}: has no data rows", "export the data again")
    names = [str(c).strip() for c in frame.columns]
    check_names(path, names)
    frame.columns = names
    first_data_row = 2 if fmt == "excel" else 1  # the sheet's header is row 1

    def locate(row: int) -> str:
        where = "" if fmt == "ndjson" else " row "
        return f"{path}{where or ':'}{row + first_data_row}"

    return _as_strings(path, frame), locate


def _read_excel(path: Path) -> pl.DataFrame:
    """The first sheet; header cells read by hand, as the engine renames duplicates silently."""
    sheet = pl.read_excel(
        path, sheet_id=1, has_header=False, infer_schema_length=0, raise_if_empty=False
    )
    if sheet.height == 0:
        return sheet
    header = [str(v).strip() if v is not None else "" for v in sheet.row(0)]
    check_names(path, header)
    body = sheet.slice(1)
    body.columns = header
    return body


def _first_line(exc: BaseException) -> str:
    """The library's reason, cut short: it may quote data, and errors must stay one line."""
    line = redact_engine_message((str(exc).strip().splitlines() or [type(exc).__name__])[0])
    return line if len(line) <= 120 else line[:119] + "…"


def _fix_hint(fmt: str) -> str:
    if fmt == "ndjson":
        return "each line must be one JSON object; check the line the message names"
    return "re-export the file; it may be truncated or in another format"


def _as_strings(path: Path | str, frame: pl.DataFrame) -> pl.DataFrame:
    nested = [n for n, t in frame.schema.items() if isinstance(t, pl.Struct | pl.List | pl.Array)]
    if nested:
        raise InputError(
            f"{path}: column(s) {', '.join(map(repr, nested))} hold nested values",
            "flatten them into plain columns first",
        )
    try:
        return frame.with_columns(pl.all().cast(pl.String))
    except (pl.exceptions.ComputeError, pl.exceptions.InvalidOperationError):
        unreadable = [name for name in frame.columns if not _castable(frame, name)]
        if not unreadable:
            raise
        raise InputError(
            f"{path}: column(s) {', '.join(map(repr, unreadable))} hold values crmclean cannot "
            f"read as text ({', '.join(sorted({str(frame.schema[n]) for n in unreadable}))})",
            "leave them out, or cast them to text in the query (e.g. CAST(x AS TEXT))",
        ) from None


def _castable(frame: pl.DataFrame, name: str) -> bool:
    try:
        frame.select(pl.col(name).cast(pl.String))
    except (pl.exceptions.ComputeError, pl.exceptions.InvalidOperationError):
        return False
    return True


def _with_record_id(
    path: Path | str, frame: pl.DataFrame, id_column: str | None, locate: Locate
) -> pl.DataFrame:
    if id_column is None:
        ids = pl.int_range(1, pl.len() + 1, dtype=pl.Int64).cast(pl.String)
    else:
        ids = pl.col(id_column).cast(pl.String).str.strip_chars()
        missing = frame.select(ids.is_null() | (ids == "")).to_series()
        if missing.any():
            first = int(missing.arg_max() or 0)
            raise InputError(
                f"{locate(first)}: id column {id_column!r} is empty, "
                f"{missing.sum()} row(s) without an id",
                "every record needs an id; fill it in or drop dataset.id_column",
            )
    if RECORD_ID in frame.columns and id_column != RECORD_ID:
        # crmclean's own output (clean.parquet) carries the ids it was given: read it again as is.
        own = frame.select(pl.col(RECORD_ID).cast(pl.String).eq_missing(ids).all()).item()
        if not own:
            raise InputError(
                f"{path}: already has a column named {RECORD_ID!r}",
                f"set dataset.id_column: {RECORD_ID} in the rule file, or rename the column",
            )
    rest = [c for c in frame.columns if c != RECORD_ID]
    return frame.select(ids.alias(RECORD_ID), *rest)
