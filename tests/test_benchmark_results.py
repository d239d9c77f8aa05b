"""benchmarks/RESULTS.md is rendered from benchmarks/results.json, so that no benchmark script
that re-renders it can drop a section or a row kept only in the Markdown."""

from __future__ import annotations

import json
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[1] / "benchmarks"


def test_results_md_is_rendered_from_results_json() -> None:
    sys.path.insert(0, str(BENCH))
    try:
        from results_md import render_markdown
    finally:
        sys.path.remove(str(BENCH))
    results = json.loads((BENCH / "results.json").read_text(encoding="utf-8"))
    rendered = render_markdown(results)
    committed = (BENCH / "RESULTS.md").read_text(encoding="utf-8")
    assert rendered == committed, (
        "benchmarks/RESULTS.md differs from what results.json renders: record numbers with the "
        "benchmark's --record (or add them to results.json), never by editing RESULTS.md"
    )


def test_every_section_of_results_json_is_rendered() -> None:
    results = json.loads((BENCH / "results.json").read_text(encoding="utf-8"))
    committed = (BENCH / "RESULTS.md").read_text(encoding="utf-8")
    headings = {
        "accuracy": "## Match quality on three yardsticks",
        "peers_yardsticks": "## Peers on the yardsticks",
        "entry_check": "## Duplicate check at entry",
        "engines": "## Engines: the cost curve",
        "rollup": "## Customer value: rollup",
        "incremental": "## Incremental nights",
        "databases": "## Databases: read from PostgreSQL",
    }
    for key, heading in headings.items():
        if results.get(key):
            assert heading in committed, key
