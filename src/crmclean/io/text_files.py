"""Write one text file (a generated rule file) atomically, never over an existing one unasked."""

from __future__ import annotations

from pathlib import Path

from crmclean.errors import OutputError, UsageError
from crmclean.io.atomic_file import replace_file
from crmclean.io.output_guard import resolved


def check_new_file(path: Path, *, force: bool = False, inputs: tuple[Path, ...] = ()) -> None:
    """Refuse a folder, an input by any spelling (even with `force`: an input is never
    replaced), and an existing file unless `force` (before any work is done)."""
    target = resolved(path)
    for given in inputs:
        if resolved(given) == target:
            raise OutputError(
                f"{path}: is the input {given}; crmclean never replaces an input",
                "write the rule file somewhere else",
            )
    if path.is_dir():
        raise UsageError(f"{path}: is a folder", "give a file name such as rules.yaml")
    if path.exists() and not force:
        raise UsageError(f"{path}: already exists", "pass --force to replace it")


def write_new_text(
    path: Path, text: str, *, force: bool = False, inputs: tuple[Path, ...] = ()
) -> None:
    """Write `text` to `path` via a temp file beside it; an existing `path` needs `force`."""
    check_new_file(path, force=force, inputs=inputs)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"{path}: cannot write: {exc.strerror or exc}") from None
    replace_file(path, text)  # exclusive temp file, no link followed, then a rename
