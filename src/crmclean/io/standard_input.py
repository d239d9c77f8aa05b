"""`-` as the data input: standard input is copied once into a private temp file, because a
table is read more than once (sniffed, fingerprinted, read); the copy goes once it is read.
Messages and row locations name standard input, never the temp copy."""

from __future__ import annotations

import contextlib
import shutil
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

from crmclean.errors import InputError

STDIN = "-"
SHOWN = "- (standard input)"


def is_stdin(path: Path | str) -> bool:
    return str(path) == STDIN


@contextlib.contextmanager
def stdin_copy() -> Iterator[Path]:
    """A private file holding everything on standard input; removed on the way out. An
    InputError about the copy is re-worded to name standard input."""
    stream = sys.stdin
    if stream is None or stream.isatty():
        raise InputError(
            f"{STDIN}: standard input is a terminal, not data",
            "pipe the data in (`cat customers.csv | crmclean validate - ...`) or pass a path",
        )
    with tempfile.TemporaryDirectory(prefix="crmclean-stdin-") as folder:
        copy = Path(folder) / "stdin"
        with copy.open("wb") as handle:
            source = getattr(stream, "buffer", None)
            if source is not None:
                shutil.copyfileobj(source, handle)
            else:  # a text-only stream: its text as UTF-8
                handle.write(stream.read().encode())
        try:
            yield copy
        except InputError as exc:
            exc.message = shown_name(exc.message, copy)
            exc.hint = shown_name(exc.hint, copy) if exc.hint else exc.hint
            exc.args = (exc.message,)
            raise


def shown_name(text: str, copy: Path) -> str:
    """A message or location about the copy, naming standard input instead."""
    return text.replace(str(copy), SHOWN)
