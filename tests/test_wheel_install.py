"""`pip install .` outside the Makefile: the wheel, in a fresh virtualenv without dev extras, runs.

Built from a clean copy of the sources (pyproject, README, src: what an sdist holds, so a stale
build/ never leaks into it) and installed twice: with the newest dependencies the index offers,
and with every dependency pinned to the lower bound pyproject.toml states, so the bounds are true.
pip finds packages exactly as configured on this machine (pip.conf, PIP_* variables), as in CI.

Slow (two virtualenvs, ~1 min): deselected from `make test`, run by `make wheel-check` (.ci/run).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from typer.testing import CliRunner

from crmclean.cli.main import app
from test_io_excel import write_xlsx

pytestmark = pytest.mark.wheel

ROOT = Path(__file__).resolve().parents[1]
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
LOWER_BOUND = re.compile(r"^([A-Za-z0-9_.\-]+)\s*>=\s*([0-9][0-9A-Za-z.]*)\s*(?:,.*)?$")
# Dev tools must not be in the fresh virtualenv; click came in only with import-linter (typer
# >= 0.26 vendors it), so a crmclean import of it fails here as it does for a pip user.
DEV_ONLY = ("pytest", "mypy", "ruff", "importlinter", "hypothesis", "click")


def _env() -> dict[str, str]:
    """This machine's pip configuration, but nothing of the dev virtualenv."""
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH")}
    env["PATH"] = os.pathsep.join(
        p for p in env.get("PATH", "").split(os.pathsep) if Path(p) != Path(sys.prefix) / "bin"
    )
    return env


def _run(argv: list[str | Path], cwd: Path, timeout: int = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(a) for a in argv],
        cwd=cwd,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def _ok(result: subprocess.CompletedProcess[str]) -> subprocess.CompletedProcess[str]:
    assert result.returncode == 0, (
        f"{result.args}\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    )
    return result


def lowest_pins(extra: str | None = None) -> list[str]:
    """`name==X` for each runtime dependency `name>=X` (and those of `extra`): every one must
    state its lower bound."""
    pins = []
    for spec in [*PROJECT["dependencies"], *PROJECT["optional-dependencies"].get(extra, [])]:
        match = LOWER_BOUND.match(spec)
        assert match, f"dependency without a '>=' lower bound in pyproject.toml: {spec!r}"
        pins.append(f"{match.group(1)}=={match.group(2)}")
    return pins


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tree = tmp_path_factory.mktemp("tree")
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        if (ROOT / name).exists():
            shutil.copy2(ROOT / name, tree / name)
    shutil.copytree(
        ROOT / "src",
        tree / "src",
        ignore=shutil.ignore_patterns("__pycache__", "*.egg-info", "*.pyc"),
    )
    dist = tmp_path_factory.mktemp("dist")
    _ok(_run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", dist, tree], tree))
    (built,) = dist.glob("crmclean-*.whl")
    return built


@pytest.fixture(scope="module")
def golden_from_dev(tmp_path_factory: pytest.TempPathFactory) -> str:
    out = tmp_path_factory.mktemp("dev") / "out"
    argv = ["run", str(ROOT / "sample_data" / "customers.csv"), "--rules"]
    result = CliRunner().invoke(
        app, [*argv, str(ROOT / "rules" / "company.yaml"), "--out", str(out)]
    )
    assert result.exit_code == 1, result.output
    return (out / "golden.csv").read_text(encoding="utf-8")


@pytest.mark.parametrize("versions", ["newest", "lowest"])
def test_wheel_installs_and_runs_in_a_fresh_virtualenv(
    versions: str, wheel: Path, golden_from_dev: str, tmp_path: Path
) -> None:
    venv = tmp_path / "venv"
    _ok(_run([sys.executable, "-m", "venv", venv], tmp_path))
    python, crmclean = venv / "bin" / "python", venv / "bin" / "crmclean"
    install: list[str | Path] = [python, "-m", "pip", "install", "-q", wheel]
    if versions == "lowest":
        (tmp_path / "lowest.txt").write_text("\n".join(lowest_pins()) + "\n", encoding="utf-8")
        install += ["-c", tmp_path / "lowest.txt"]
    _ok(_run(install, tmp_path))
    _ok(_run([python, "-m", "pip", "check"], tmp_path))
    probe = "import importlib.util as u, sys; print(*[m for m in sys.argv[1:] if u.find_spec(m)])"
    assert _ok(_run([python, "-c", probe, *DEV_ONLY], tmp_path)).stdout.strip() == ""

    version = _ok(_run([crmclean, "--version"], tmp_path))
    assert version.stdout == f"crmclean {PROJECT['version']}\n"
    assert "Commands" in _ok(_run([crmclean, "--help"], tmp_path)).stdout

    out = tmp_path / "out"
    customers, rules = ROOT / "sample_data" / "customers.csv", ROOT / "rules" / "company.yaml"
    run = _run([crmclean, "run", customers, "--rules", rules, "--out", out], tmp_path)
    # The sample data has defects on purpose: exit 1, an error-severity rule failed.
    assert run.returncode == 1, run.stderr[-3000:]
    assert "Traceback" not in run.stderr and "unexpected" not in run.stderr
    for name in ("golden.parquet", "golden.csv", "crosswalk.parquet", "manifest.json"):
        assert (out / name).is_file(), name
    assert (out / "report.html").is_file()
    assert (out / "golden.csv").read_text(encoding="utf-8") == golden_from_dev

    # the duckdb engine is an extra: without it, one line saying what to install, exit 2
    engine = _run([crmclean, "dedupe", customers, "--rules", rules, "--out", tmp_path / "d",
                   "--engine", "duckdb"], tmp_path)  # fmt: skip
    assert engine.returncode == 2 and "pip install 'crmclean[duckdb]'" in engine.stderr

    sheet = write_xlsx(tmp_path / "k.xlsx", [["id", "plz"], ["1", "01067"], ["2", "10115"]])
    profile = _ok(_run([crmclean, "profile", sheet], tmp_path))
    assert "plz" in profile.stdout


@pytest.mark.parametrize("versions", ["newest", "lowest"])
def test_the_duckdb_extra_installs_and_matches_like_polars(
    versions: str, wheel: Path, tmp_path: Path
) -> None:
    venv = tmp_path / "venv"
    _ok(_run([sys.executable, "-m", "venv", venv], tmp_path))
    python, crmclean = venv / "bin" / "python", venv / "bin" / "crmclean"
    install: list[str | Path] = [python, "-m", "pip", "install", "-q", f"{wheel}[duckdb]"]
    if versions == "lowest":
        pins = "\n".join(lowest_pins("duckdb")) + "\n"
        (tmp_path / "lowest.txt").write_text(pins, encoding="utf-8")
        install += ["-c", tmp_path / "lowest.txt"]
    _ok(_run(install, tmp_path))
    customers, rules = ROOT / "sample_data" / "customers.csv", ROOT / "rules" / "company.yaml"
    for engine in ("polars", "duckdb"):
        argv = [crmclean, "dedupe", customers, "--rules", rules, "--out", tmp_path / engine]
        _ok(_run([*argv, "--engine", engine, "--memory", "1GB", "-q"], tmp_path))
    polars, duckdb = (tmp_path / e / "clusters.parquet" for e in ("polars", "duckdb"))
    assert polars.read_bytes() == duckdb.read_bytes()
