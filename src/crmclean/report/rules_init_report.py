"""Show what `rules init` made: the rule file as commented YAML, and a summary for stderr."""

from __future__ import annotations

from typing import Any

import yaml
from rich.console import Console

from crmclean.core.profile.rules_init import IdRepeats, RuleInit
from crmclean.io.readers import ReadInfo

FLOW_WIDTH = 100


class _Dumper(yaml.SafeDumper):
    """Short lists and the mappings inside lists on one line, as rules/company.yaml writes them."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def _flat(value: Any) -> bool:
    """Scalars, and lists or mappings of scalars: short enough for one line."""
    if isinstance(value, dict):
        return all(_flat(v) and not isinstance(v, dict) for v in value.values())
    if isinstance(value, list):
        return all(not isinstance(v, dict | list) for v in value)
    return True


def _list(dumper: yaml.SafeDumper, data: list[Any]) -> yaml.Node:
    flow = _flat(data) and len(str(data)) < 80
    node = dumper.represent_sequence("tag:yaml.org,2002:seq", data, flow_style=flow)
    if not flow:  # flat mappings in a list (checks, levels, steps) go on one line each
        for item, child in zip(data, node.value, strict=True):
            if isinstance(item, dict) and _flat(item):
                child.flow_style = True
                for _, value in child.value:
                    value.flow_style = True
    return node


_Dumper.add_representer(list, _list)


def _dump(document: dict[str, Any]) -> str:
    return yaml.dump(
        document,
        Dumper=_Dumper,
        sort_keys=False,
        allow_unicode=True,
        default_flow_style=False,
        width=FLOW_WIDTH,
    )


def rule_file_yaml(init: RuleInit, info: ReadInfo) -> str:
    """The rule file, with the pairs each blocking rule costs on this file as comments."""
    header = [
        f"# Starting rule file made by `crmclean rules init {info.name}` from {init.rows:,} rows.",
        "# Review it: roles were read from column names and values (see docs/profile.md).",
        "# Roles: " + ", ".join(f"{role}={column}" for role, column in init.roles.items()),
    ]
    if init.sparse:
        header.append(
            "# Left out of matching, mostly empty: "
            + ", ".join(f"{role} ({share:.0%} missing)" for role, share in init.sparse.items())
        )
    body = _dump(init.document)
    kept = [e for e in init.blocking if not e.decision.startswith("dropped")]
    lines = body.splitlines()
    out: list[str] = []
    in_blocking = False
    index = 0
    for line in lines:
        if line == "  blocking:":
            in_blocking = True
            out.append("  # Candidate pairs per record on this file; re-run init on the full file.")
        elif in_blocking and line.startswith("  - ") and index < len(kept):
            estimate = kept[index]
            note = f"{estimate.pairs_per_record:.3f} pairs per record"
            if estimate.decision != "kept":
                note += f", {estimate.decision}"
            line = f"{line}  # {note}"
            index += 1
        elif not line.startswith("  - "):
            in_blocking = False
        out.append(line)
    return "\n".join(header) + "\n" + "\n".join(out) + "\n"


def print_summary(console: Console, init: RuleInit, target: str) -> None:
    """Roles, left-out columns and each blocking decision: one line each, to stderr."""
    console.print(f"{target}: rule file for {init.rows:,} rows", markup=False)
    console.print("  roles: " + ", ".join(f"{r}={c}" for r, c in init.roles.items()), markup=False)
    for role, share in init.sparse.items():
        console.print(f"  not matched on {role}: {share:.0%} missing", markup=False)
    if init.id_repeats:
        console.print(_id_repeats_line(init.id_repeats), markup=False)
    total = sum(e.pairs_per_record for e in init.blocking if not e.decision.startswith("dropped"))
    for estimate in init.blocking:
        skipped = (
            f", {estimate.skipped_blocks} blocks over max_block_size"
            if estimate.skipped_blocks
            else ""
        )
        console.print(
            f"  blocking [{', '.join(estimate.columns)}]: {estimate.pairs_per_record:.3f} "
            f"pairs per record, {estimate.decision}{skipped}",
            markup=False,
        )
    console.print(f"  all blocking rules: at most {total:.2f} pairs per record", markup=False)


def _id_repeats_line(found: IdRepeats) -> str:
    """The id column is written anyway: `validate` then reports each row, `run` would refuse."""
    ids = "id repeats" if found.repeated == 1 else "ids repeat"
    return (
        f"  id column {found.column}: {found.repeated:,} {ids} (in {found.rows:,} rows); its "
        "unique check fails until they are fixed (crmclean validate lists them)"
    )
