"""The HTML report's content: sections, figures equal to report.json, masking, escaping, CLI."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from crmclean.cli.main import app
from crmclean.report.html import build_report
from report_data import NAMES, SECRET_EMAILS, write_full_run, write_validate_run

runner = CliRunner()
ALL_SECTIONS = [
    "summary",
    "rules",
    "sources",
    "columns",
    "standardisation",
    "matching",
    "golden",
    "review",
]


class _Figures(HTMLParser):
    """Collects every tagged figure (data-field, data-value, shown text) and section ids."""

    def __init__(self) -> None:
        super().__init__()
        self.figures: list[tuple[str, str, str]] = []
        self.sections: list[str] = []
        self._open: list[tuple[str, str]] | None = None
        self._text = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "section" and found.get("id"):
            self.sections.append(str(found["id"]))
        if "data-field" in found:
            self._open = [(str(found["data-field"]), str(found["data-value"]))]
            self._text = ""

    def handle_data(self, data: str) -> None:
        if self._open is not None:
            self._text += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "span" and self._open is not None:
            field, value = self._open[0]
            self.figures.append((field, value, self._text))
            self._open = None


def _parse(page: str) -> _Figures:
    parser = _Figures()
    parser.feed(page)
    return parser


def _at(document: Any, path: str) -> Any:
    for part in path.split("."):
        document = document[int(part)] if isinstance(document, list) else document[part]
    return document


def _build(folder: Path, show_values: bool = False) -> tuple[str, dict[str, Any]]:
    html_file = build_report(folder, show_values=show_values)
    page = html_file.read_text(encoding="utf-8")
    return page, json.loads((folder / "report.json").read_text(encoding="utf-8"))


def test_every_figure_on_the_page_equals_report_json(tmp_path: Path) -> None:
    page, document = _build(write_full_run(tmp_path / "out"))
    figures = _parse(page).figures
    assert len(figures) > 40
    for field, value, text in figures:
        assert json.loads(value) == _at(document, field), field
        raw = _at(document, field)
        if isinstance(raw, int) and not isinstance(raw, bool):
            assert text == f"{raw:,}", field  # integers are shown exactly
    fields = {f for f, _, _ in figures}
    for needed in [
        "summary.score",
        "summary.rows",
        "rules.0.violations",
        "rules.0.share",
        "columns.0.validity",
        "standardisation.values_changed",
        "matching.pairs",
        "matching.thresholds.0.match_weight",
        "matching.largest_clusters.0.size",
        "matching.example_pairs.0.match_weight",
        "golden.golden_records",
        "golden.changes_since_previous.0.count",
        "review.pairs",
    ]:
        assert needed in fields, needed


def test_shown_shares_and_scores_round_the_json_value(tmp_path: Path) -> None:
    page, document = _build(write_full_run(tmp_path / "out"))
    for field, _, text in _parse(page).figures:
        raw = _at(document, field)
        if text.endswith("%") and raw is not None:
            assert abs(float(text[:-1].replace(",", "")) - 100 * raw) <= 0.05 + 1e-9, field
    assert f">{document['summary']['score']:.1f}<" in page


def test_full_run_shows_every_section_in_order(tmp_path: Path) -> None:
    page, _ = _build(write_full_run(tmp_path / "out"))
    assert _parse(page).sections == ALL_SECTIONS
    for anchor in ALL_SECTIONS:
        assert f'href="#{anchor}"' in page
    assert page.count("<svg") >= 8


def test_validate_only_report_omits_absent_sections(tmp_path: Path) -> None:
    page, document = _build(write_validate_run(tmp_path / "out"))
    assert _parse(page).sections == ["summary", "rules", "columns"]
    for absent in ["standardisation", "matching", "golden", "review"]:
        assert f'href="#{absent}"' not in page
        assert document[absent] is None


def test_personal_values_are_masked_by_default(tmp_path: Path) -> None:
    folder = write_full_run(tmp_path / "out")
    page, _ = _build(folder)
    text = page + (folder / "report.json").read_text(encoding="utf-8")
    for secret in [*SECRET_EMAILS, *NAMES]:
        assert secret not in text
        assert secret.split("@")[0] not in text
    assert "p***@example.org" in page
    assert "Koeln" in page  # city is not personal


def test_show_values_reveals_and_says_so(tmp_path: Path) -> None:
    page, document = _build(write_full_run(tmp_path / "out"), show_values=True)
    assert SECRET_EMAILS[1] in page
    assert document["values_shown"] is True
    assert "shown unmasked" in page


def test_customer_data_is_escaped(tmp_path: Path) -> None:
    page, _ = _build(write_full_run(tmp_path / "out"), show_values=True)
    assert "Eva &lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<script" not in page.lower()


def test_report_is_deterministic(tmp_path: Path) -> None:
    folder = write_full_run(tmp_path / "out")
    first, _ = _build(folder)
    second, _ = _build(folder)
    assert first == second


def test_print_css_and_offline_policy(tmp_path: Path) -> None:
    page, _ = _build(write_validate_run(tmp_path / "out"))
    assert "@media print" in page
    assert not re.search(r"https?://", page)


def test_cli_report_command_builds_both_files(tmp_path: Path) -> None:
    folder = write_full_run(tmp_path / "out")
    result = runner.invoke(app, ["report", str(folder)])
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == str(folder / "report.html")
    assert (folder / "report.html").is_file() and (folder / "report.json").is_file()
    assert SECRET_EMAILS[0] not in (folder / "report.html").read_text(encoding="utf-8")
    result = runner.invoke(app, ["report", str(folder), "--show-values", "--quiet"])
    assert result.exit_code == 0
    assert SECRET_EMAILS[1] in (folder / "report.html").read_text(encoding="utf-8")
    assert result.stderr == ""


def test_cli_report_of_a_missing_or_empty_folder_exits_3(tmp_path: Path) -> None:
    result = runner.invoke(app, ["report", str(tmp_path / "nope")])
    assert result.exit_code == 3
    assert "not a folder of run outputs" in result.stderr
    result = runner.invoke(app, ["report", str(tmp_path)])
    assert result.exit_code == 3
    assert "is not a folder crmclean wrote" in result.stderr
    (tmp_path / ".crmclean-output").write_text("written by crmclean validate\n")
    result = runner.invoke(app, ["report", str(tmp_path)])
    assert result.exit_code == 3
    assert "holds no run outputs" in result.stderr


def test_report_files_are_not_read_back_as_inputs(tmp_path: Path) -> None:
    folder = write_validate_run(tmp_path / "out")
    build_report(folder)
    _, document = _build(folder)
    assert "report.json" not in document["summary"]["outputs"]


def test_report_of_a_real_run_and_validate(tmp_path: Path, monkeypatch: Any) -> None:
    """End to end with the real producers: `crmclean run` writes the report itself; `crmclean
    report` rebuilds it from a `validate --out` folder."""
    import polars as pl

    from run_fixtures import write_case

    data, rules = write_case(tmp_path, 40)
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["run", str(data), "--rules", str(rules), "--out", "out", "-q"])
    assert result.exit_code in (0, 1), result.output
    page = (tmp_path / "out" / "report.html").read_text(encoding="utf-8")
    document = json.loads((tmp_path / "out" / "report.json").read_text(encoding="utf-8"))
    assert _parse(page).sections == ALL_SECTIONS
    for field, value, _ in _parse(page).figures:
        assert json.loads(value) == _at(document, field), field
    emails = pl.read_csv(data)["email"].drop_nulls().to_list()
    assert not [e for e in emails if "@" in e and e in page]
    assert document["summary"]["rows"] == pl.read_csv(data).height
    biggest = document["matching"]["largest_clusters"][0]
    assert "customer_id" not in biggest["columns"]  # the id column repeats the header row
    assert "first_name" in biggest["columns"]

    result = runner.invoke(app, ["validate", str(data), "--rules", str(rules), "--out", "v"])
    assert result.exit_code in (0, 1), result.output
    result = runner.invoke(app, ["report", "v", "-q"])
    assert result.exit_code == 0, result.output
    page = (tmp_path / "v" / "report.html").read_text(encoding="utf-8")
    assert _parse(page).sections == ["summary", "rules", "columns"]
    assert not [e for e in emails if "@" in e and e in page]


def test_empty_tables_give_a_report_not_a_crash(tmp_path: Path) -> None:
    import polars as pl

    folder = write_full_run(tmp_path / "out")
    for table in folder.glob("*.parquet"):
        pl.read_parquet(table).head(0).write_parquet(table)
    page, document = _build(folder)
    assert document["matching"]["pairs"] == 0
    assert document["matching"]["weight_histogram"]["counts"] == []
    assert document["matching"]["largest_clusters"] == []
    assert document["golden"]["golden_records"] == 0
    assert document["standardisation"]["steps"] == []
    for field, value, _ in _parse(page).figures:
        assert json.loads(value) == _at(document, field), field


def test_shares_near_0_or_1_are_not_rounded_to_it() -> None:
    from crmclean.report.html_sections import _percent

    assert [_percent(x) for x in (0, 1, 0.5, 0.123456)] == ["0.0%", "100.0%", "50.0%", "12.3%"]
    assert _percent(0.9999) == "99.99%"
    assert _percent(0.00002) == "0.002%"


def test_control_characters_in_data_are_replaced() -> None:
    from crmclean.report.html_sections import esc

    assert esc('a\x00b\x1b[31m<"') == "a\ufffdb\ufffd[31m&lt;&quot;"
    assert esc("tab\tand\nnewline") == "tab\tand\nnewline"
