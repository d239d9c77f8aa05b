"""`make bench`: crmclean measured beside Splink and GoldenMatch on the same data, in one run.

For each size it generates synthetic customers with a known truth (crmclean.synth),
runs every crmclean command that exists and both peers as separate processes (wall time and
peak RSS from os.wait4, so each tool is measured alone), scores every matcher's clusters with
one evaluator (benchmarks/evaluate.py) and writes benchmarks/results.json and RESULTS.md.
Then bench_accuracy.py measures `crmclean dedupe` at the same sizes on three yardsticks (own
generator, the independent Faker set, FEBRL 1-4; skip with --no-accuracy), and
bench_peers_yardsticks.py runs the peers on the same yardstick data (10k and 100k; 1M on the own
set only; skip with --no-peer-yardsticks).

    .venv/bin/python benchmarks/run_all.py                 # 10k, 100k, 1M
    .venv/bin/python benchmarks/run_all.py --quick         # 10k only
    .venv/bin/python benchmarks/run_all.py --sizes 100k --tools splink,goldenmatch

Peers run with the benchmark virtualenv's python (.bench-venv, made by `make bench`); they
are never dependencies of crmclean. A tool that fails or runs past its time budget is
recorded with its error, never dropped.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import polars as pl

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

from evaluate import evaluate  # noqa: E402
from measure import Outcome, run_measured  # noqa: E402
from results_md import render_markdown  # noqa: E402

SIZES = {"10k": 10_000, "100k": 100_000, "1M": 1_000_000}
# Seconds a single tool may take at each size before it is stopped and recorded as over budget.
DEFAULT_BUDGET_S = {"10k": 600, "100k": 1200, "1M": 1200}
CRMCLEAN_COMMANDS = ["validate", "profile", "clean", "dedupe", "run"]
PEERS = ["splink", "goldenmatch"]
ID_ROW_NUMBER = "__row_number__"


def synth_fingerprint() -> str:
    """Hash of the generator's code and tables: cached data is reused only while it is current."""
    synth = ROOT / "src" / "crmclean" / "synth"
    digest = hashlib.sha256()
    for path in sorted([*synth.glob("*.py"), *(synth / "data").rglob("*")]):
        if path.is_file():
            digest.update(path.name.encode() + path.read_bytes())
    return digest.hexdigest()[:10]


def generate_data(label: str, rows: int, seed: int, data_dir: Path) -> Path:
    """Synthetic customers and truth for one size, cached by size, seed and generator version."""
    folder = data_dir / f"{label}-seed{seed}-{synth_fingerprint()}"
    if (folder / "truth.parquet").exists():
        return folder
    from crmclean.synth import generate

    customers, truth = generate(rows, seed)
    tmp = folder.with_name(folder.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    customers.write_parquet(tmp / "customers.parquet")
    customers.write_csv(tmp / "customers.csv")
    truth.write_parquet(tmp / "truth.parquet")
    tmp.rename(folder)
    return folder


def id_column_for(folder: Path) -> str:
    """Which customers column the truth's record_id refers to (or the 1-based row number)."""
    truth_ids = pl.read_parquet(folder / "truth.parquet", columns=["record_id"])["record_id"]
    customers = pl.read_parquet(folder / "customers.parquet")
    for column in ("record_id", "customer_id"):
        if column in customers.columns:
            ids = customers[column].cast(pl.String)
            if (
                ids.n_unique() == customers.height
                and ids.is_in(truth_ids.cast(pl.String).implode()).all()
            ):
                return column
    return ID_ROW_NUMBER


def crmclean_commands() -> list[str]:
    """The crmclean commands this checkout has (other engineers are adding them)."""
    exe = ROOT / ".venv" / "bin" / "crmclean"
    help_text = subprocess.run(
        [str(exe), "--help"],
        check=False,
        capture_output=True,
        text=True,
        env={**os.environ, "NO_COLOR": "1"},
    ).stdout
    listed = {line.strip("│ ").split(" ")[0] for line in help_text.splitlines()}
    return [name for name in CRMCLEAN_COMMANDS if name in listed]


def crmclean_argv(command: str, folder: Path, out: Path, rules: Path | None) -> list[str]:
    argv = [str(ROOT / ".venv" / "bin" / "crmclean"), command, str(folder / "customers.parquet")]
    if rules is not None:
        argv += ["--rules", str(rules)]
    if command == "profile":  # profile writes no folder: its JSON report goes to the log
        return [*argv, "--format", "json"]
    return [*argv, "--out", str(out)]


def find_clusters(out: Path) -> pl.DataFrame | None:
    """record_id, cluster_id from a crmclean output folder (clusters, else the crosswalk)."""
    for name, cluster_col in (("clusters", "cluster_id"), ("crosswalk", "golden_id")):
        for suffix, reader in ((".parquet", pl.read_parquet), (".csv", pl.read_csv)):
            hits = sorted(out.rglob(name + suffix))
            if hits:
                frame = (
                    reader(hits[0], infer_schema_length=0) if suffix == ".csv" else reader(hits[0])
                )
                return frame.select("record_id", pl.col(cluster_col).alias("cluster_id"))
    return None


def to_truth_ids(clusters: pl.DataFrame, folder: Path, id_column: str) -> pl.DataFrame:
    """crmclean's record_id is the rule file's id column or the row number; map to truth ids."""
    if id_column == ID_ROW_NUMBER:
        return clusters
    customers = pl.read_parquet(folder / "customers.parquet", columns=[id_column])
    ids = customers[id_column].cast(pl.String)
    clusters = clusters.with_columns(pl.col("record_id").cast(pl.String))
    if clusters["record_id"].is_in(ids.implode()).all():
        return clusters
    by_row = pl.DataFrame({"record_id": [str(i + 1) for i in range(len(ids))], "true_id": ids})
    return clusters.join(by_row, on="record_id").select(
        pl.col("true_id").alias("record_id"), "cluster_id"
    )


def run_size(label: str, args: argparse.Namespace, tools: list[str]) -> dict[str, Any]:
    rows = SIZES[label]
    budget = args.budget_s or DEFAULT_BUDGET_S[label]
    started = time.perf_counter()
    folder = generate_data(label, rows, args.seed, args.data_dir)
    gen_s = round(time.perf_counter() - started, 1)
    id_column = id_column_for(folder)
    truth = pl.read_parquet(folder / "truth.parquet")
    out_root = args.out_dir / label
    shutil.rmtree(out_root, ignore_errors=True)
    outcomes: list[Outcome] = []
    limits: dict[str, Any] = {
        "cwd": ROOT,
        "budget_s": budget,
        "mem_limit_mb": args.mem_limit_gb * 1024,
    }
    available = crmclean_commands()

    for command in CRMCLEAN_COMMANDS:
        name = f"crmclean {command}"
        if name not in tools and "crmclean" not in tools:
            continue
        if command not in available:
            outcomes.append(Outcome(name, "skipped", error="command not in this checkout yet"))
            continue
        out = out_root / f"crmclean-{command}"
        argv = crmclean_argv(command, folder, out, args.rules)
        print(f"[{label}] {name} ...", file=sys.stderr, flush=True)
        # Exit 1 is "the data failed a rule" (validate, run), a result rather than a crash.
        outcome = run_measured(
            argv, out_root / "logs" / f"crmclean-{command}", ok_exit_codes=(0, 1), **limits
        )
        outcome.tool = name
        if command in ("dedupe", "run") and outcome.status == "ok":
            clusters = find_clusters(out)
            if clusters is None:
                outcome.error = "no clusters/crosswalk file in the output folder"
            else:
                outcome.scores = evaluate(
                    to_truth_ids(clusters, folder, id_column), truth
                ).as_dict()
        outcomes.append(outcome)

    for peer in PEERS:
        if peer not in tools:
            continue
        clusters_path = out_root / peer / "clusters.parquet"
        argv = [
            str(args.bench_python),
            str(HERE / "peers" / f"run_{peer}.py"),
            str(folder / "customers.parquet"),
            "--out",
            str(clusters_path),
            "--id-column",
            id_column,
        ]
        print(f"[{label}] {peer} ...", file=sys.stderr, flush=True)
        outcome = run_measured(argv, out_root / "logs" / peer, **limits)
        outcome.tool = peer
        if outcome.status == "ok":
            outcome.scores = evaluate(pl.read_parquet(clusters_path), truth).as_dict()
        outcomes.append(outcome)

    if args.area_benches:  # the other engineers' per-area scripts, with their own budgets
        for script in sorted(HERE.glob("bench_*.py")):
            print(f"[{label}] {script.name} ...", file=sys.stderr, flush=True)
            argv = [sys.executable, str(script), "--rows", str(rows)]
            outcome = run_measured(
                argv, out_root / "logs" / script.stem, ok_exit_codes=(0, 1), **limits
            )
            outcome.tool = f"benchmarks/{script.name}"
            outcomes.append(outcome)

    return {
        "size": label,
        "rows": rows,
        "seed": args.seed,
        "data": str(folder.relative_to(ROOT) if folder.is_relative_to(ROOT) else folder),
        "entities": truth["entity_id"].n_unique(),
        "generate_s": gen_s,
        "budget_s": budget,
        "mem_limit_gb": args.mem_limit_gb,
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "command": " ".join([".venv/bin/python", "benchmarks/run_all.py", *sys.argv[1:]]),
        "git_commit": git_state(),
        "load_average_at_start": os.getloadavg(),
        "tools": [o.__dict__ for o in outcomes],
    }


def git_state() -> str:
    """The commit benchmarked, marked when src/ has uncommitted changes (work in progress)."""

    def git(*argv: str) -> str:
        return subprocess.run(
            ["git", *argv], check=False, capture_output=True, text=True, cwd=ROOT
        ).stdout.strip()

    dirty = git("status", "--porcelain", "--", "src", "rules")
    return git("rev-parse", "--short", "HEAD") + (
        " + uncommitted changes in src/rules" if dirty else ""
    )


def machine_facts(bench_python: Path) -> dict[str, Any]:
    meminfo = Path("/proc/meminfo").read_text().splitlines()
    total_kib = int(next(line for line in meminfo if line.startswith("MemTotal")).split()[1])
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    versions: dict[str, str] = {"python": platform.python_version(), "polars": pl.__version__}
    for package in ("crmclean", "rapidfuzz"):
        try:
            from importlib.metadata import version

            versions[package] = version(package)
        except Exception:  # the package may be missing in a half-built checkout
            versions[package] = "missing"
    if bench_python.exists():
        probe = (
            "import importlib.metadata as m; "
            "print(*(m.version(p) for p in ('splink', 'goldenmatch', 'duckdb')))"
        )
        got = subprocess.run(
            [str(bench_python), "-c", probe], check=False, capture_output=True, text=True
        )
        for name, value in zip(
            ("splink", "goldenmatch", "duckdb"), got.stdout.split(), strict=False
        ):
            versions[name] = value
    return {
        "nproc": os.cpu_count(),
        "memory_gib": round(total_kib / 1024**2, 1),
        "cpu": cpu,
        "os": platform.platform(),
        "versions": versions,
    }


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10k,100k,1M", help="comma list of 10k,100k,1M")
    parser.add_argument("--quick", action="store_true", help="10k only")
    parser.add_argument(
        "--tools",
        default="crmclean,splink,goldenmatch",
        help="comma list: crmclean (all its commands), 'crmclean dedupe', splink, goldenmatch",
    )
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--render-only",
        action="store_true",
        help="rewrite RESULTS.md from results.json, run nothing",
    )
    parser.add_argument(
        "--area-benches",
        action="store_true",
        help="also run benchmarks/bench_*.py --rows N (exit 1 there means over its own budget)",
    )
    parser.add_argument(
        "--no-accuracy",
        action="store_true",
        help="skip bench_accuracy.py (dedupe on own data, the Faker set and FEBRL 1-4)",
    )
    parser.add_argument(
        "--no-peer-yardsticks",
        action="store_true",
        help="skip bench_peers_yardsticks.py (the peers on the accuracy yardsticks)",
    )
    parser.add_argument("--budget-s", type=float, help="per-tool time budget (default by size)")
    parser.add_argument(
        "--mem-limit-gb", type=float, default=14, help="stop a tool whose RSS passes this"
    )
    parser.add_argument("--rules", type=Path, default=ROOT / "rules" / "company.yaml")
    parser.add_argument(
        "--bench-python", type=Path, default=ROOT / ".bench-venv" / "bin" / "python"
    )
    parser.add_argument("--data-dir", type=Path, default=HERE / "data")
    parser.add_argument("--out-dir", type=Path, default=HERE / "out")
    parser.add_argument("--results", type=Path, default=HERE / "results.json")
    parser.add_argument("--markdown", type=Path, default=HERE / "RESULTS.md")
    args = parser.parse_args()
    if args.quick:
        args.sizes = "10k"
    if not args.rules.exists():
        args.rules = None
    return args


def main() -> None:
    args = parse_args()
    if args.render_only:
        args.markdown.write_text(render_markdown(json.loads(args.results.read_text())))
        return
    labels = [s.strip() for s in args.sizes.split(",") if s.strip()]
    unknown = [s for s in labels if s not in SIZES]
    if unknown:
        sys.exit(f"unknown size(s) {unknown}; choose from {list(SIZES)}")
    tools = [t.strip() for t in args.tools.split(",")]
    if any(p in tools for p in PEERS) and not args.bench_python.exists():
        sys.exit(f"{args.bench_python} is missing: run `make bench` (it builds .bench-venv)")

    # Sizes from earlier runs stay in results.json, each with its own date and command.
    results = json.loads(args.results.read_text()) if args.results.exists() else {"sizes": {}}
    results["machine"] = machine_facts(args.bench_python)
    for label in labels:  # one size at a time, one tool at a time: 1M runs never overlap
        results["sizes"][label] = run_size(label, args, tools)
        args.results.write_text(json.dumps(results, indent=2, default=str) + "\n")
        args.markdown.write_text(render_markdown(results))
    if not args.no_accuracy:  # the same sizes on the three yardsticks (bench_accuracy.py)
        import bench_accuracy

        accuracy_args = bench_accuracy.parse_args(
            ["--seed", str(args.seed), "--data-dir", str(args.data_dir),
             "--out-dir", str(args.out_dir), "--results", str(args.results),
             *(["--rules", str(args.rules)] if args.rules else [])]
        )  # fmt: skip
        entries = bench_accuracy.run(labels, list(bench_accuracy.SETS), accuracy_args)
        command = " ".join([".venv/bin/python", "benchmarks/run_all.py", *sys.argv[1:]])
        results = bench_accuracy.record(entries, args.results, command, git_state())
        args.markdown.write_text(render_markdown(results))
    peers = [p for p in PEERS if p in tools]
    if peers and not args.no_peer_yardsticks:  # the peers on the same yardstick data
        import bench_peers_yardsticks

        peer_args = bench_peers_yardsticks.parse_args(
            ["--seed", str(args.seed), "--data-dir", str(args.data_dir),
             "--out-dir", str(args.out_dir), "--results", str(args.results),
             "--bench-python", str(args.bench_python),
             *(["--budget-s", str(args.budget_s)] if args.budget_s else [])]
        )  # fmt: skip
        entries = bench_peers_yardsticks.run(
            labels, list(bench_peers_yardsticks.SETS), peers, peer_args
        )
        command = " ".join([".venv/bin/python", "benchmarks/run_all.py", *sys.argv[1:]])
        results = bench_peers_yardsticks.record(entries, args.results, command)
        args.markdown.write_text(render_markdown(results))
    print(args.markdown.read_text())


if __name__ == "__main__":
    main()
