"""The HTML report of a 1M-row run: under 5 MB and built in under 3 s.

Writes an outputs folder shaped like `crmclean run --out` leaves at the given size (every table
at full length: violations, changes, pairs with gamma/bf columns, clusters, golden records,
crosswalk, lineage), then times `build_report` on it. Or measures an existing run folder.

    .venv/bin/python benchmarks/bench_report.py                 # 1,000,000 rows
    .venv/bin/python benchmarks/bench_report.py --rows 100000
    .venv/bin/python benchmarks/bench_report.py --folder out/   # a real run's --out folder

Exit status 1 when a budget is exceeded.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from crmclean.core.masking import kind_for
from crmclean.io.summary_files import write_summary
from crmclean.report.html import REPORT_JSON, build_report
from crmclean.summaries import (
    DedupeSummary,
    RuleOutcome,
    RunManifest,
    ValidateSummary,
    ValidateTotals,
)

MAX_BYTES = 5_000_000
MAX_SECONDS = 3.0
COMPARISONS = ["first_name", "last_name", "email", "phone", "city"]
SOURCES = ["crm", "shop", "erp"]
COLUMNS = ["first_name", "last_name", "email", "phone", "street", "postcode", "city", "country"]


def _ids(n: int) -> pl.Series:
    return pl.Series("record_id", [f"C{i:07d}" for i in range(n)])


def write_run(folder: Path, rows: int, seed: int = 7) -> None:
    rng = np.random.default_rng(seed)
    ids = _ids(rows)
    folder.mkdir(parents=True, exist_ok=True)
    clean = pl.DataFrame(
        {"record_id": ids}
        | {c: pl.Series([f"{c}-{i % 9973}" for i in range(rows)]) for c in COLUMNS}
        | {"source_system": pl.Series(SOURCES * (rows // 3) + SOURCES[: rows % 3])}
    )
    clean.write_parquet(folder / "clean.parquet")

    n_viol = rows // 4
    pick = rng.integers(0, rows, n_viol)
    rule = rng.integers(0, 12, n_viol)
    pl.DataFrame(
        {
            "rule_id": [f"rule_{r}" for r in rule],
            "check": "pattern",
            "column": [COLUMNS[r % len(COLUMNS)] for r in rule],
            "record_id": ids.gather(pick),
            "value": [f"bad-{p}" for p in pick],
            "message": "does not match",
            "severity": ["error" if r % 3 == 0 else "warn" for r in rule],
        }
    ).write_parquet(folder / "violations.parquet")
    results = [
        {"rule_id": f"rule_{r}", "check": "pattern", "column": COLUMNS[r % len(COLUMNS)],
         "severity": "error" if r % 3 == 0 else "warn", "checked": rows,
         "violations": int((rule == r).sum()), "share": float((rule == r).sum()) / rows,
         "threshold": 0.01, "status": "fail" if r % 3 == 0 else "warn"}
        for r in range(12)
    ]  # fmt: skip
    write_summary(folder, _validate_summary(rows, results))

    n_changes = rows
    pl.DataFrame(
        {
            "record_id": ids.gather(rng.integers(0, rows, n_changes)),
            "column": [COLUMNS[i % len(COLUMNS)] for i in range(n_changes)],
            "before": "x",
            "after": "X",
            "step": [["trim", "title", "phone", "email"][i % 4] for i in range(n_changes)],
            "error": None,
        },
        schema_overrides={"error": pl.String},
    ).write_parquet(folder / "changes.parquet")

    n_pairs = rows
    left = rng.integers(0, rows - 1, n_pairs)
    pairs = {
        "record_id_l": ids.gather(left),
        "record_id_r": ids.gather(left + 1),
        "blocking_rule": [["[last_name_key]", "[email]", "[phone]"][i % 3] for i in range(n_pairs)],
    }
    total = np.full(n_pairs, -8.0)
    for c in COMPARISONS:
        gamma = rng.integers(-1, 3, n_pairs)
        bf = np.where(gamma < 0, 0.0, gamma * 2.5 - 2.0)
        pairs[f"gamma_{c}"] = pl.Series(gamma, dtype=pl.Int8)
        pairs[f"bf_{c}"] = pl.Series(bf)
        total += bf
    pairs["match_weight"] = pl.Series(total)
    pairs["match_probability"] = pl.Series(2**total / (1 + 2**total))
    pl.DataFrame(pairs).write_parquet(folder / "pairs.parquet")

    cluster_of = np.arange(rows)
    cluster_of[1::3] = cluster_of[0::3][: len(cluster_of[1::3])]  # a third are duplicates
    clusters = pl.DataFrame({"record_id": ids, "cluster_id": ids.gather(cluster_of)})
    clusters.write_parquet(folder / "clusters.parquet")
    golden_ids = clusters["cluster_id"].unique().sort()
    pl.DataFrame({"golden_id": golden_ids, "first_name": "x"}).write_parquet(
        folder / "golden.parquet"
    )
    clusters.select(
        "record_id",
        pl.col("cluster_id").alias("golden_id"),
        pl.lit(1.0).alias("match_probability"),
        pl.lit("cluster").alias("how"),
    ).write_parquet(folder / "crosswalk.parquet")
    n_golden = golden_ids.len()
    pl.DataFrame(
        {
            "golden_id": golden_ids.to_list() * len(COLUMNS),
            "column": [c for c in COLUMNS for _ in range(n_golden)],
            "record_id": golden_ids.to_list() * len(COLUMNS),
            "source_system": [SOURCES[i % 3] for i in range(n_golden * len(COLUMNS))],
            "strategy": "most_recent",
        }
    ).write_parquet(folder / "lineage.parquet")
    pl.DataFrame(pairs).head(rows // 100).select(
        "record_id_l", "record_id_r", "match_probability"
    ).write_parquet(folder / "review.parquet")
    pl.DataFrame({"golden_id": golden_ids, "change": "created"}).write_parquet(
        folder / "changes-since-previous.parquet"
    )
    pii = {c: kind_for(c) for c in ("first_name", "last_name", "email", "phone", "street")}
    write_summary(
        folder,
        DedupeSummary(
            rule_file="rules/company.yaml", rules_digest="", prior=0.01, fingerprint="",
            thresholds={"review": 0.5, "auto_merge": 0.95}, pii=pii, matching={}, blocking=[],
            stats={"candidate_pairs": n_pairs * 3}, warnings=[],
        ),
    )  # fmt: skip
    write_summary(
        folder,
        RunManifest(
            crmclean_version="bench", started_at=NOW, finished_at=NOW,
            rule_file="rules/company.yaml", rule_files=[], rule_file_sha256="",
            inputs=[{"path": "customers.csv"}], previous=None, seed=None,
            rows={"input": rows}, rows_add_up=True, changes_since_previous={}, golden_ids={},
            thresholds={}, pii_columns=sorted(pii), exit_code=1, exit_status="data failed",
            source_column="source_system",  # the report's section per source system
        ),
    )  # fmt: skip


NOW = "2026-01-01T00:00:00+00:00"


def _validate_summary(rows: int, results: list[dict[str, Any]]) -> ValidateSummary:
    """validate.json as `crmclean validate --out` writes it (crmclean.summaries)."""
    failed = sum(r["status"] == "fail" for r in results)
    warned = sum(r["status"] == "warn" for r in results)
    return ValidateSummary(
        crmclean_version="bench", started_at=NOW, finished_at=NOW,
        input={"path": "customers.csv", "rows": rows}, rule_file="rules/company.yaml",
        rule_files=[], rule_file_sha256="", values_masked=False, pii={},
        results=[RuleOutcome.from_dict(r) for r in results],
        summary=ValidateTotals(
            rows=rows, rules=len(results), passed=len(results) - failed - warned,
            warned=warned, failed=failed, violations=sum(r["violations"] for r in results),
            records_with_violations=0, status="fail" if failed else "warn", fail_on="error",
            exit_code=1,
        ),
        score=93.2, score_method="bench",
    )  # fmt: skip


CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1280,2000",
]


def _screenshot_seconds(browser: str, page: Path) -> float:
    """Wall time of headless Chromium loading, laying out and painting `page` to a PNG."""
    with tempfile.TemporaryDirectory(prefix="bench-report-browser-") as tmp:
        command = [
            browser,
            *CHROMIUM_FLAGS,
            f"--user-data-dir={tmp}/profile",
            f"--screenshot={tmp}/shot.png",
            page.resolve().as_uri(),
        ]
        start = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True, timeout=120)
        return time.perf_counter() - start


def render_seconds(html_file: Path) -> dict[str, float]:
    """Browser time for the report minus the same browser's time for an empty page (start-up)."""
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        return {}
    blank = html_file.parent / "blank.html"
    blank.write_text("<!doctype html><title>blank</title>", encoding="utf-8")
    baseline = min(_screenshot_seconds(browser, blank) for _ in range(2))
    report = min(_screenshot_seconds(browser, html_file) for _ in range(2))
    blank.unlink()
    return {
        "browser_seconds": round(report, 3),
        "render_seconds": round(max(report - baseline, 0.0), 3),
    }


def measure(folder: Path) -> dict[str, float]:
    build_report(folder)  # warm the file cache, as a report right after a run would find it
    start = time.perf_counter()
    html_file = build_report(folder)
    seconds = time.perf_counter() - start
    return {
        "seconds": round(seconds, 3),
        "html_bytes": html_file.stat().st_size,
        "json_bytes": (folder / REPORT_JSON).stat().st_size,
        **render_seconds(html_file),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--folder", type=Path, help="measure this run's --out folder instead")
    args = parser.parse_args()
    if args.folder:
        result = measure(args.folder)
        rows = None
    else:
        tmp = Path(tempfile.mkdtemp(prefix="bench-report-"))
        try:
            start = time.perf_counter()
            write_run(tmp, args.rows)
            print(f"wrote a {args.rows:,}-row run in {time.perf_counter() - start:.1f} s")
            result = measure(tmp)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        rows = args.rows
    ok = (
        result["seconds"] < MAX_SECONDS
        and result.get("render_seconds", 0.0) < MAX_SECONDS
        and result["html_bytes"] < MAX_BYTES
    )
    print(
        json.dumps(
            {"rows": rows, **result, "max_seconds": MAX_SECONDS, "max_bytes": MAX_BYTES, "ok": ok}
        )
    )
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
