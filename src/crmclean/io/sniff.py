"""Guess what a file is before parsing it: format from name and magic bytes, text encoding,
CSV delimiter and header. Works on a bounded sample, so a huge file costs no more than a small one.
"""

from __future__ import annotations

import codecs
import csv
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from crmclean.errors import InputError, looks_like_column_name

SAMPLE_BYTES = 4 * 1024 * 1024  # large enough that rare umlauts usually show up in it
SNIFF_RECORDS = 50
DELIMITERS = (",", ";", "\t", "|")
DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}

# Python's csv module refuses fields over 128 KiB; a CRM export with a 100 MB note is legal CSV.
csv.field_size_limit(max(csv.field_size_limit(), 2**31 - 1))

_EXTENSIONS = {
    ".csv": "csv",
    ".tsv": "csv",
    ".txt": "csv",
    ".tab": "csv",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".ndjson": "ndjson",
    ".jsonl": "ndjson",
    ".json": "json",
    ".xlsx": "excel",
    ".xlsm": "excel",
    ".xls": "excel",
    ".ods": "excel",
}
_BINARY_MAGIC = {
    b"PAR1": "parquet",
    b"PK\x03\x04": "excel",  # xlsx/ods are zip files
    b"\xd0\xcf\x11\xe0": "excel",  # legacy .xls (OLE2)
}


def detect_format(path: Path, head: bytes) -> str:
    """The format to read: binary magic wins over the extension, text formats go by extension."""
    by_magic = next((fmt for magic, fmt in _BINARY_MAGIC.items() if head.startswith(magic)), None)
    by_name = _EXTENSIONS.get(path.suffix.lower())
    if by_name in ("parquet", "excel") and by_magic != by_name:
        kind = "a Parquet" if by_name == "parquet" else "an Excel"
        raise InputError(
            f"{path}: is not {kind} file ({_describe_head(head)})",
            "re-export it, or rename it to what it really is: .csv, .ndjson",
        )
    if by_magic is not None:
        return by_magic
    first = head.lstrip(b"\xef\xbb\xbf \t\r\n")[:1]
    if by_name in ("json", "ndjson", None) and first in (b"{", b"["):
        return "json" if first == b"[" else "ndjson"  # a .json export is often one object a line
    return by_name or "csv"


def _describe_head(head: bytes) -> str:
    text = head[:40].decode("utf-8", errors="replace")
    printable = sum(ch.isprintable() or ch in "\r\n\t" for ch in text)
    if text and printable / len(text) > 0.9:
        first = text.splitlines()[0] if text.splitlines() else text
        cells = [cell.strip().strip('"') for cell in re.split(r"[,;\t|]", first[:30])]
        if all(looks_like_column_name(cell) for cell in cells if cell):
            return f"it starts like text: {first[:30]!r}"  # a header row of column names
        return "it starts like text"  # its first line is no header: it is not quoted
    return "its first bytes are not the format's signature"


@dataclass(frozen=True)
class Encoding:
    name: str  # Python codec name as reported to the user
    fits_polars: bool  # polars reads it natively (UTF-8, with or without BOM)


def detect_encoding(path: Path, sample: bytes, given: str | None = None) -> Encoding:
    """UTF-8 (with or without BOM), UTF-16 by BOM, else the best single-byte guess."""
    if given:
        try:
            name = codecs.lookup(given).name
        except LookupError:
            raise InputError(
                f"{path}: unknown encoding {given!r}", "try utf-8, utf-8-sig or cp1252"
            ) from None
        return Encoding(name, name in ("utf-8", "utf-8-sig"))
    if sample.startswith(codecs.BOM_UTF8):
        return Encoding("utf-8-sig", True)
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return Encoding("utf-16", False)
    nul = sample.find(b"\x00")
    if nul >= 0:
        line = sample.count(b"\n", 0, nul) + 1
        raise InputError(
            f"{path}: looks like a binary file, not text (NUL byte at line {line})",
            "export the data as CSV, Parquet or NDJSON",
        )
    try:
        codecs.getincrementaldecoder("utf-8")().decode(sample, final=False)
        return Encoding("utf-8", True)
    except UnicodeDecodeError as exc:
        if _UTF8_MULTIBYTE.search(sample):  # real UTF-8 beside bytes that are not: mixed
            raise mixed_encoding(path, sample, exc.start, "utf-8") from None
        undefined = _NOT_WESTERN_TEXT.search(sample)
        if undefined:  # no Windows or ISO Western export writes these: not text we can read
            raise undecodable(path, sample, undefined.start()) from None
        return Encoding(guess_single_byte(sample), False)


# A UTF-8 encoded non-ASCII character; in genuine cp1252 text such byte pairs are mojibake.
_UTF8_MULTIBYTE = re.compile(rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}")


def _byte_error(path: Path, data: bytes, start: int, problem: str, hint: str) -> InputError:
    """An error about the byte at `start`, located by its line and column."""
    line = data.count(b"\n", 0, start) + 1
    column = start - data.rfind(b"\n", 0, start)
    byte = data[start : start + 1].hex()
    return InputError(f"{path}:{line}:{column}: byte 0x{byte} {problem}", hint)


def mixed_encoding(path: Path, data: bytes, start: int, name: str) -> InputError:
    """The error for a byte that is not valid in the file's encoding, at its line and column."""
    return _byte_error(
        path,
        data,
        start,
        f"is not valid {name} (the file mixes encodings)",
        "re-save the whole file as UTF-8",
    )


# Bytes both Windows code pages we detect (cp1252, cp1250) leave undefined; in latin-1 they are
# C1 control characters. No European export writes them: the file is not text we can read.
_NOT_WESTERN_TEXT = re.compile(rb"[\x81\x90]")


def undecodable(path: Path, data: bytes, start: int) -> InputError:
    return _byte_error(
        path,
        data,
        start,
        "is neither UTF-8 nor Windows/ISO European text (undecodable bytes)",
        "re-save the file as UTF-8, or name its encoding with --encoding where offered",
    )


def guess_single_byte(sample: bytes) -> str:
    """cp1252 (Windows Western) unless charset-normalizer finds another codec clearly better."""
    from charset_normalizer import from_bytes

    matches = from_bytes(
        sample[: 256 * 1024],
        cp_isolation=["cp1252", "latin_1", "iso8859_15", "cp1250"],
    )
    # a match lists every codec that decodes the sample identically (could_be_from_charset)
    chaos = {codecs.lookup(c).name: m.chaos for m in matches for c in m.could_be_from_charset}
    best = min(chaos, key=lambda name: chaos[name]) if chaos else "cp1252"
    # short samples rarely tell cp1252 from its neighbours; Western European data is the norm
    name = "cp1252" if chaos.get("cp1252", 1.0) <= chaos.get(best, 0.0) + 0.02 else best
    return name


def check_text(path: Path, text: str) -> None:
    """Refuse binary garbage that happened to decode: real tables have few control characters."""
    if not text:
        return
    control = sum(
        1 for ch in text[:65536] if ch not in "\r\n\t" and unicodedata.category(ch) == "Cc"
    )
    if control / min(len(text), 65536) > 0.01:
        raise InputError(
            f"{path}: looks like binary data, not text ({control} control characters "
            "in the first 64 KiB)",
            "export the data as CSV, Parquet or NDJSON",
        )


def sample_records(text: str, delimiter: str, limit: int = SNIFF_RECORDS) -> list[list[str]]:
    """The first complete records of a sample (the last, possibly cut, line is dropped)."""
    cut = text.rfind("\n")
    body = text[: cut + 1] if 0 <= cut < len(text) - 1 else text
    reader = csv.reader(body.splitlines(keepends=True), delimiter=delimiter)
    records: list[list[str]] = []
    try:
        for record in reader:
            if record:
                records.append(record)
            if len(records) >= limit:
                break
    except csv.Error:
        pass  # a sample cut inside a quoted field: what we have is enough to judge
    return records


def sniff_delimiter(text: str, suffix: str = "") -> str:
    """The candidate giving the most fields, consistently from record to record."""
    preferred = "\t" if suffix.lower() in (".tsv", ".tab") else ","
    best: tuple[float, int, bool] = (0.0, 1, True)
    chosen = preferred
    for delimiter in DELIMITERS:
        records = sample_records(text, delimiter)
        if not records or len(records[0]) < 2:
            continue
        width = len(records[0])
        consistency = sum(len(r) == width for r in records) / len(records)
        score = (round(consistency, 2), width, delimiter == preferred)
        if score > best:
            best, chosen = score, delimiter
    return chosen


def header_names(path: Path, text: str, delimiter: str) -> list[str]:
    """Column names from the first record, stripped; blank or duplicate names are errors."""
    records = sample_records(text, delimiter, limit=1)
    if not records:
        raise InputError(f"{path}: has no header row", "the first line must name the columns")
    names = [name.strip().lstrip("\ufeff").strip() for name in records[0]]
    check_names(path, names)
    return names


def check_names(path: Path | str, names: list[str]) -> None:
    blank = [str(i + 1) for i, name in enumerate(names) if not name]
    if blank:
        raise InputError(
            f"{path}: column {', '.join(blank)} of the header has no name",
            "name every column in the header row; in CSV a trailing delimiter adds an empty one",
        )
    seen: dict[str, int] = {}
    for i, name in enumerate(names):
        if name in seen:
            named = f" {name!r}" if looks_like_column_name(name) else ""
            raise InputError(
                f"{path}: column name{named} appears twice (columns {seen[name] + 1} and {i + 1})",
                "rename one of them",
            )
        seen[name] = i
