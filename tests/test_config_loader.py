"""The rule-file loader: positions, extends, vars, and every error at once."""

from __future__ import annotations

from pathlib import Path

import pytest

from crmclean.config import load_rules
from crmclean.errors import ConfigError


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def issues_of(path: Path, environ: dict[str, str] | None = None) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load_rules(path, environ=environ or {})
    return [str(i) for i in caught.value.issues]


def test_minimal_file_loads_with_defaults(tmp_path: Path) -> None:
    path = write(tmp_path, "r.yaml", "columns:\n  email:\n    pii: true\n")
    loaded = load_rules(path)
    assert loaded.rules.columns["email"].pii is True
    assert loaded.rules.dataset.default_region == "DE"
    assert len(loaded.digest) == 64


def test_keys_are_the_words_written_not_yaml_11_booleans(tmp_path: Path) -> None:
    text = (
        "columns:\n  phone:\n    checks:\n      - {type: phone_valid, on: standardised}\n"
        "  born:\n    standardise:\n      - {type: date, country_order: {NO: dmy, US: mdy}}\n"
    )
    loaded = load_rules(write(tmp_path, "r.yaml", text))
    assert loaded.rules.columns["phone"].checks[0].on == "standardised"
    step = loaded.rules.columns["born"].standardise[0]
    assert step.country_order == {"NO": "dmy", "US": "mdy"}  # type: ignore[attr-defined]
    assert len(loaded.digest) == 64  # hashing sorts the keys: all of them are text


def test_unknown_key_points_at_line_and_suggests(tmp_path: Path) -> None:
    path = write(tmp_path, "r.yaml", "dataset:\n  id_colum: customer_id\n")
    [issue] = issues_of(path)
    assert issue.startswith(f"{path}:2:3 dataset.id_colum: unknown key 'id_colum'")
    assert "did you mean 'id_column'" in issue


def test_all_problems_reported_at_once_in_file_order(tmp_path: Path) -> None:
    text = (
        "dataset:\n"
        "  default_region: XX\n"
        "columns:\n"
        "  email:\n"
        "    pii: maybe\n"
        "checks:\n"
        "  - {type: not_null, column: x, severity: fatal}\n"
    )
    issues = issues_of(write(tmp_path, "r.yaml", text))
    assert len(issues) == 3
    assert ":2:3 dataset.default_region:" in issues[0]
    assert ":5:5 columns.email.pii:" in issues[1]
    assert ":7:" in issues[2] and "checks[0].severity" in issues[2]


def test_unknown_step_type_suggests_the_close_name(tmp_path: Path) -> None:
    path = write(tmp_path, "r.yaml", "columns:\n  name:\n    standardise: [trim, {type: trm}]\n")
    [issue] = issues_of(path)
    assert "columns.name.standardise[1]" in issue
    assert "unknown type 'trm'" in issue and "'trim'" in issue


def test_a_check_without_a_type_never_offers_an_empty_list(tmp_path: Path) -> None:
    path = write(tmp_path, "r.yaml", "checks: [{column: x, rule: not_null}]\n")
    [issue] = issues_of(path)
    assert "checks[0]: needs a 'type'" in issue and "one of: )" not in issue
    assert "crmclean rules schema" in issue


def test_yaml_syntax_error_has_line(tmp_path: Path) -> None:
    path = write(tmp_path, "r.yaml", "columns:\n  email:\n    pii: [true\n")
    [issue] = issues_of(path)
    assert issue.startswith(f"{path}:")
    assert "YAML syntax error" in issue


def test_python_tags_never_execute(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    path = write(
        tmp_path,
        "r.yaml",
        f"vars:\n  x: !!python/object/apply:os.system ['touch {marker}']\n",
    )
    [issue] = issues_of(path)
    assert "YAML syntax error" in issue
    assert not marker.exists()


def test_duplicate_keys_are_errors(tmp_path: Path) -> None:
    path = write(tmp_path, "r.yaml", "columns:\n  a: {}\n  a: {}\n")
    [issue] = issues_of(path)
    assert ":3:3 columns.a: duplicate key" in issue


def test_extends_deep_merges_and_keeps_positions(tmp_path: Path) -> None:
    write(
        tmp_path,
        "base.yaml",
        "dataset:\n  id_column: customer_id\n  default_region: DE\n"
        "columns:\n  email: {pii: true, required: true}\n",
    )
    team = write(
        tmp_path,
        "team.yaml",
        "extends: base.yaml\ndataset:\n  default_region: GB\n"
        "columns:\n  email: {required: false}\n",
    )
    loaded = load_rules(team)
    assert loaded.rules.dataset.id_column == "customer_id"
    assert loaded.rules.dataset.default_region == "GB"
    assert loaded.rules.columns["email"].pii is True
    assert loaded.rules.columns["email"].required is False
    assert loaded.where(("dataset", "id_column")).endswith("base.yaml:2:3")
    assert loaded.where(("dataset", "default_region")).endswith("team.yaml:3:3")


def test_error_in_base_file_names_the_base_file(tmp_path: Path) -> None:
    write(tmp_path, "base.yaml", "dataset:\n  default_region: QQ\n")
    team = write(tmp_path, "team.yaml", "extends: base.yaml\n")
    [issue] = issues_of(team)
    assert issue.startswith(f"{tmp_path / 'base.yaml'}:2:3")


def test_extends_cycle_is_detected(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", "extends: b.yaml\n")
    write(tmp_path, "b.yaml", "extends: a.yaml\n")
    [issue] = issues_of(tmp_path / "a.yaml")
    assert "extends cycle" in issue


def test_missing_extends_file(tmp_path: Path) -> None:
    path = write(tmp_path, "a.yaml", "extends: nowhere.yaml\n")
    [issue] = issues_of(path)
    assert "nowhere.yaml" in issue and "not found" in issue


def test_vars_and_env_are_substituted_keeping_types(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "r.yaml",
        "vars:\n  region: AT\n  strict: true\n"
        "dataset:\n  default_region: ${vars.region}\n  name: ${env.CRMCLEAN_TEAM}-customers\n"
        "columns:\n  email: {pii: '${vars.strict}'}\n",
    )
    loaded = load_rules(path, environ={"CRMCLEAN_TEAM": "emea"})
    assert loaded.rules.dataset.default_region == "AT"
    assert loaded.rules.dataset.name == "emea-customers"
    assert loaded.rules.columns["email"].pii is True


def test_unknown_vars_are_reported_with_position(tmp_path: Path) -> None:
    path = write(
        tmp_path, "r.yaml", "dataset:\n  name: ${vars.nope}\n  id_column: ${env.CRMCLEAN_NOPE}\n"
    )
    issues = issues_of(path)
    assert len(issues) == 2
    assert ":2:3 dataset.name: ${vars.nope} is not set" in issues[0]
    assert "${env.CRMCLEAN_NOPE} is not set" in issues[1]


def test_missing_rule_file(tmp_path: Path) -> None:
    [issue] = issues_of(tmp_path / "nope.yaml")
    assert "rule file not found" in issue


def test_top_level_must_be_mapping(tmp_path: Path) -> None:
    [issue] = issues_of(write(tmp_path, "r.yaml", "- a\n- b\n"))
    assert "must be a mapping" in issue
