"""The one check every command runs before it replaces an output folder: nothing it reads may
lie inside it.

Paths are compared after resolving them (symlinks, `..`, relative against absolute), so
`--out ../x/../data`, `--out $PWD/data` and `--out link-to-data` are all seen as `data`.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from crmclean.errors import OutputError


def resolved(path: Path | str) -> Path:
    """The real absolute path: symlinks followed, `..` removed; a missing tail is kept as is."""
    return Path(os.path.abspath(Path(path).expanduser())).resolve(strict=False)


def real_out(out: Path | str) -> Path:
    """The folder a command publishes to and locks: `out` resolved (`..`, symlinked parents).

    A symbolic link as `--out` itself is refused (exit 3): publishing would either replace the
    link with a folder or write where it points under a second lock name, and two runs through
    two spellings must never both believe they hold the folder.
    """
    if Path(out).is_symlink():
        raise OutputError(
            f"--out {out} is a symbolic link (to {resolved(out)}); crmclean publishes a folder "
            "by replacing it and will not replace or write through a link",
            "pass the folder it points to as --out",
        )
    return resolved(out)


def _inside(child: Path, parent: Path) -> bool:
    return child == parent or parent in child.parents


def guard_output(
    out: Path,
    inputs: Iterable[Path | str | None],
    previous: Path | None = None,
) -> None:
    """Refuse (exit 3) an `out` whose replacement would delete or modify something read.

    `inputs` are the files a command reads (data, rule files and the files they extend,
    decisions, reference files, models, logs); `out` may neither be one of them nor contain
    one, and when an input is a folder `out` may not lie inside it either. `lock` and temp
    names beside `out` may not be inputs. `previous` is the previous run's folder: equal to
    `out` is the documented cron recipe, nested either way is refused.
    """
    target = resolved(out)
    beside = {resolved(target.parent / f"{target.name}.lock"): "its lock file"}
    for given in inputs:
        if given is None:
            continue
        real = resolved(given)
        if _inside(real, target):
            relation = "is" if real == target else "holds"
            raise OutputError(
                f"--out {out} {relation} the input {given}"
                f"{_both(out, target, given, real)}; replacing the folder would delete it",
                "choose an --out folder outside the folders of the inputs",
            )
        if real.is_dir() and _inside(target, real):
            raise OutputError(
                f"--out {out} lies inside the input folder {given}"
                f"{_both(out, target, given, real)}; writing there would change an input",
                "choose an --out folder outside the input folders",
            )
        if real in beside:
            raise OutputError(
                f"--out {out} would use the input {given} as {beside[real]}",
                "rename the input or choose another --out",
            )
    if previous is not None:
        prev = resolved(previous)
        if prev != target and (_inside(prev, target) or _inside(target, prev)):
            raise OutputError(
                f"--out {out} and --previous {previous} are nested"
                f"{_both(out, target, previous, prev)}; replacing one would change the other",
                "pass the same folder for both (the cron recipe) or two separate folders",
            )


def _both(out: Path, target: Path, given: Path | str, real: Path) -> str:
    """Name the real paths when a spelling hid them."""
    if str(out) == str(target) and str(given) == str(real):
        return ""
    return f" (really {target} and {real})"
