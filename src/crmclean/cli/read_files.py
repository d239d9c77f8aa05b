"""Every file a rule file makes a command read, for crmclean.io.output_guard: an --out folder
may never hold one of them (it is replaced as a whole)."""

from __future__ import annotations

from pathlib import Path

from crmclean.config.loader import LoadedRules
from crmclean.config.rollup_files import rollup_paths
from crmclean.core.validation import reference_requests


def rule_file_inputs(loaded: LoadedRules) -> list[Path]:
    """The rule file, the files it extends, its decisions file and its values_from files."""
    paths = [loaded.path, *(Path(name) for name in loaded.files)]
    for yaml_path, file, _, _ in reference_requests(loaded.rules):
        where = loaded.located.where(yaml_path)
        # relative to the file that names it (validate) and to the main rule file (run)
        paths.append((Path(where[0]).parent if where else loaded.path.parent) / file)
        paths.append(loaded.path.parent / file)
    matching = loaded.rules.matching
    if matching is not None and matching.decisions:
        paths.append(loaded.path.parent / matching.decisions)
    paths += rollup_paths(loaded).values()
    return paths
