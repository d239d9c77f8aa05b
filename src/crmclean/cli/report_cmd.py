"""`crmclean report OUT_DIR`: (re)build report.html and report.json from a run's outputs."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from crmclean.cli.app import app, stderr_console
from crmclean.cli.options import QuietOpt, ShowValuesOpt, examples
from crmclean.io.lock import folder_lock
from crmclean.io.output_owner import require_written_by_crmclean
from crmclean.io.run_folder import require_complete_run
from crmclean.report.html import build_report

EXAMPLES = examples(
    "crmclean report out/",
    "crmclean report checked/ --show-values",
    "xdg-open $(crmclean report out/ -q)",
    doc="docs/report.md",
)


@app.command("report", epilog=EXAMPLES)
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
    # the report is rebuilt inside the folder: no run may swap it meanwhile
    with folder_lock(out_dir, "report") as lock:
        if lock is not None:  # a folder: never replace a report.html crmclean did not write
            require_written_by_crmclean(out_dir, "report", "report.html and report.json")
            require_complete_run(out_dir)  # a run folder is read only once its manifest is whole
        path = build_report(out_dir, show_values=show_values)
    if not quiet:
        stderr_console().print(f"report written: {path}", markup=False)
    typer.echo(str(path))
