"""The report benchmark's folder writer stays in step with the report (small size here)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

# benchmarks/ is not a package; load the script by path under a name that cannot clash.
_PATH = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_report.py"
_SPEC = importlib.util.spec_from_file_location("crmclean_bench_report", _PATH)
assert _SPEC is not None and _SPEC.loader is not None
bench = importlib.util.module_from_spec(_SPEC)
sys.modules[_SPEC.name] = bench
_SPEC.loader.exec_module(bench)


def test_benchmark_folder_gives_a_full_small_report(tmp_path: Path) -> None:
    bench.write_run(tmp_path, 3000)
    result = bench.measure(tmp_path)
    assert 0 < result["html_bytes"] < bench.MAX_BYTES
    page = (tmp_path / "report.html").read_text(encoding="utf-8")
    for section in ("rules", "columns", "standardisation", "matching", "golden", "review"):
        assert f'<section id="{section}">' in page
