"""`crmclean report OUT_DIR`: (re)build report.html and report.json from a run's outputs."""

from __future__ import annotations

from contextlib import nullcontext
from pathlib import Path
from typing import Annotated

import typer

from crmclean.cli.app import app, stderr_console
from crmclean.cli.options import QuietOpt, ShowValuesOpt
from crmclean.io.lock import output_lock
from crmclean.io.output_guard import resolved
from crmclean.report.html import build_report


@app.command("report")
def report(
    out_dir: Annotated[
        Path,
        typer.Argument(help="The --out folder of a `validate` or `run`.", show_default=False),
    ],
    show_values: ShowValuesOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Build one self-contained HTML report (and report.json) from the outputs of a run.

    The page opens offline and prints; personal values are masked unless --show-values.
    The path of the HTML file is printed on stdout.
    """
    # the report is rebuilt inside the folder: no run may swap it meanwhile (a symlink to the
    # folder is fine here: the lock is the one of the folder it points to)
    locked = resolved(out_dir)
    with output_lock(locked, "report") if out_dir.is_dir() else nullcontext():
        path = build_report(out_dir, show_values=show_values)
    if not quiet:
        stderr_console().print(f"report written: {path}", markup=False)
    typer.echo(str(path))
