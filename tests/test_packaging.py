"""Every third-party module that src/crmclean imports is a declared runtime dependency.

`pip install .` installs only [project.dependencies]; a module that arrives only through a dev
tool (click came in with import-linter) makes the installed CLI fail at start. The install itself
is exercised end to end by tests/test_wheel_install.py (`make wheel-check`).
"""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT / "src" / "crmclean"


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


# Modules of an optional extra (`crmclean[serve]`) and the only files that may import them: the
# command imports its service inside the command, so the CLI starts without the extra.
OPTIONAL = {
    "starlette": {"src/crmclean/cli/match_service.py"},
    "uvicorn": {"src/crmclean/cli/serve_cmd.py"},
}


def _names(specs: list[str]) -> set[str]:
    return {_normalise(re.split(r"[\s<>=!~;\[]", spec, maxsplit=1)[0]) for spec in specs}


def declared_dependencies() -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    return _names(project["dependencies"])


# The engine extras' modules (`crmclean[duckdb]`, `crmclean[spark]`) may be imported only inside
# the engines that need them, which crmclean.engines imports only when that engine is chosen.
ENGINE_EXTRAS = {
    "duckdb": "src/crmclean/engines/duckdb_engine/",
    "spark": "src/crmclean/engines/spark_engine/",
}


def _engine_extra(distributions: set[str], files: set[str]) -> bool:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    folders = [
        folder
        for extra, folder in ENGINE_EXTRAS.items()
        if distributions & _names(project["optional-dependencies"][extra])
    ]
    return bool(folders) and all(f.startswith(tuple(folders)) for f in files)


def third_party_imports() -> dict[str, set[str]]:
    """Top-level module name -> files importing it (module level or inside functions)."""
    found: dict[str, set[str]] = {}
    for path in sorted(SOURCE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                if top != "crmclean" and top not in sys.stdlib_module_names:
                    found.setdefault(top, set()).add(str(path.relative_to(ROOT)))
    return found


def test_the_scan_sees_the_modules_crmclean_is_built_on() -> None:
    assert {"polars", "typer", "rich", "pydantic", "yaml", "numpy"} <= set(third_party_imports())


def test_every_third_party_import_is_a_declared_dependency() -> None:
    declared = declared_dependencies()
    providers = packages_distributions()
    undeclared = {}
    for module, files in sorted(third_party_imports().items()):
        if module in OPTIONAL:
            continue  # test_optional_extras_stay_behind_their_command
        distributions = {_normalise(d) for d in providers.get(module, [module])}
        if _engine_extra(distributions, files):
            continue
        if not distributions & declared:
            undeclared[module] = sorted(files)
    assert not undeclared, (
        f"imported but not in [project.dependencies] of pyproject.toml: {undeclared}"
    )


def test_optional_extras_stay_behind_their_command() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert set(OPTIONAL) <= _names(project["optional-dependencies"]["serve"])
    found = third_party_imports()
    for module, allowed in OPTIONAL.items():
        assert found.get(module, set()) <= allowed, module
    # the service module itself is imported only inside `serve`, never when the CLI starts
    for path in sorted(SOURCE.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in tree.body:
            if isinstance(node, ast.ImportFrom) and node.module:
                assert node.module != "crmclean.cli.match_service", path
            if isinstance(node, ast.Import):
                assert "uvicorn" not in {a.name for a in node.names}, path
