"""The self-contained HTML report of a run: one file, inline CSS and SVG, no network, printable.

`build_report(out_dir)` is what commands call after writing their outputs: it loads the folder,
assembles the report model, and writes report.json (the model) and report.html (rendered from
the same model).
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

from crmclean.io.run_outputs import write_report_file
from crmclean.report import html_drill_down
from crmclean.report.figures import build_model
from crmclean.report.html_by_source import by_source_section
from crmclean.report.html_matching import golden_section, matching_section, review_section
from crmclean.report.html_sections import (
    columns_section,
    esc,
    rules_section,
    standardisation_section,
    summary_section,
)
from crmclean.report.html_trend import trend_section
from crmclean.report.html_value import value_section
from crmclean.report.html_verdict import verdict_block
from crmclean.report.report_model import ReportModel
from crmclean.report.run_outputs import load_run_outputs

REPORT_HTML = "report.html"
REPORT_JSON = "report.json"

# No request may leave the file: the policy forbids every fetch; styles and SVG are inline.
_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"

_CSS = """
:root{--ink:#1d2329;--muted:#5c6670;--line:#d8dde3;--bg:#f6f8fa;--pass:#007a55;--warn:#b26b00;
--fail:#c0392b;--accent:#0072B2}
*{box-sizing:border-box}
body{margin:0;font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--ink);
background:#fff}
header{background:var(--ink);color:#fff;padding:14px 24px}
header h1{margin:0;font-size:20px;font-weight:600}
header p{margin:2px 0 0;color:#c9d1d9;font-size:13px}
nav{position:sticky;top:0;background:#fff;border-bottom:1px solid var(--line);padding:6px 24px;
z-index:1;font-size:14px;display:flex;flex-wrap:wrap;column-gap:16px}
nav a{color:var(--accent);text-decoration:none}
main{max-width:1180px;margin:0 auto;padding:8px 24px 40px}
section{border-bottom:1px solid var(--line);padding:8px 0 20px}
h2{font-size:19px;margin:16px 0 8px}h3{font-size:16px;margin:18px 0 6px}
h4{font-size:14px;margin:12px 0 4px}
table{border-collapse:collapse;margin:8px 0;font-size:13px;width:100%}
th,td{border-bottom:1px solid var(--line);padding:4px 8px;text-align:left;vertical-align:top}
thead th{background:var(--bg);font-weight:600}
td .num,td.num{font-variant-numeric:tabular-nums}
.num{font-variant-numeric:tabular-nums;font-weight:600}
.na{color:var(--muted);font-weight:400}
.summary{display:flex;gap:24px;align-items:flex-start;flex-wrap:wrap}
.facts{display:grid;grid-template-columns:max-content 1fr;gap:2px 16px;margin:0;flex:1;
min-width:min(320px,100%)}
.facts dt{color:var(--muted)}.facts dd{margin:0;overflow-wrap:anywhere}
.score{border:2px solid var(--line);border-radius:8px;padding:10px 16px;width:min(260px,100%);
text-align:center}
.score .big{font-size:40px;font-weight:700;line-height:1.1}
.score small{font-size:16px;color:var(--muted)}
.score.good{border-color:var(--pass)}.score.fair{border-color:var(--warn)}
.score.poor{border-color:var(--fail)}
.method{font-size:12px;color:var(--muted);text-align:left;margin:6px 0 0}
.badge{display:inline-block;border-radius:4px;padding:0 6px;font-size:12px;font-weight:600;
color:#fff}
.badge.pass{background:var(--pass)}.badge.warn{background:var(--warn)}
.badge.fail{background:var(--fail)}
.tag{font-size:11px;border:1px solid var(--muted);border-radius:3px;padding:0 3px;
color:var(--muted)}
.note{background:#fff8e1;border-left:4px solid var(--warn);padding:6px 10px}
.muted{color:var(--muted)}
code{font-size:12px;background:var(--bg);padding:0 3px;border-radius:3px;overflow-wrap:anywhere}
figure{margin:8px 0 12px}figcaption{font-size:12px;color:var(--muted)}
svg.chart{max-width:100%;height:auto;display:block}
.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(min(420px,100%),1fr));gap:16px}
.grid>*{min-width:0}
td{overflow-wrap:anywhere}
.verdict{border-radius:8px;padding:10px 16px;margin:12px 0;border-left:8px solid var(--line)}
.verdict.fail{background:#fdecea;border-color:var(--fail)}
.verdict.warn{background:#fff8e1;border-color:var(--warn)}
.verdict.pass{background:#e8f5ee;border-color:var(--pass)}
.verdict .headline{font-size:22px;font-weight:700;margin:0}
.verdict.fail .headline{color:var(--fail)}
.verdict ul{margin:6px 0 0;padding-left:20px}
.verdict li.fail a{color:var(--fail);font-weight:600}.verdict li.warn a{color:var(--warn)}
details{margin:6px 0}summary{cursor:pointer}
@media (max-width:600px){header,nav,main,footer{padding-left:10px;padding-right:10px}
 th,td{padding:3px 4px}}
.scroll{overflow-x:auto}
table.side th:first-child{background:var(--bg);white-space:nowrap}
td.differs{background:#fff3d6}
.cluster{margin-bottom:14px}
footer{color:var(--muted);font-size:12px;max-width:1180px;margin:0 auto;padding:0 24px 24px}
@media print{
 @page{size:A4;margin:14mm}
 body{font-size:11px}nav{display:none}
header{background:#fff;color:#000;border-bottom:2px solid #000}
 header p{color:#333}main{max-width:none;padding:0}
 section,figure,.cluster,tr{break-inside:avoid}h2,h3,h4{break-after:avoid}
 .scroll{overflow:visible}.badge{border:1px solid #000;color:#000;background:#fff!important}
}
"""

_SECTIONS = (
    ("summary", "Summary"),
    ("rules", "Rules"),
    ("sources", "Sources"),
    ("trend", "Trend"),
    ("columns", "Columns"),
    ("standardisation", "Standardisation"),
    ("matching", "Matching"),
    ("golden", "Golden records"),
    ("value", "Customer value"),
    ("review", "Review queue"),
)


def render_html(model: ReportModel) -> str:
    """The whole page, from the model alone (no file access, deterministic)."""
    parts = {
        "summary": summary_section(model, verdict_block(model)),
        "rules": rules_section(model.rules, html_drill_down.rule_records(model.rules or [])),
        "sources": by_source_section(model.by_source),
        "trend": trend_section(model.trend),
        "columns": columns_section(model.columns),
        "standardisation": standardisation_section(model.standardisation),
        "matching": matching_section(model.matching),
        "golden": golden_section(model.golden),
        "value": value_section(model.value),
        "review": review_section(
            model.review, html_drill_down.review_pairs(model.review) if model.review else ""
        ),
    }
    shown = [(anchor, label) for anchor, label in _SECTIONS if parts[anchor]]
    nav = "".join(f'<a href="#{esc(anchor)}">{esc(label)}</a>' for anchor, label in shown)
    s = model.summary
    subtitle = " · ".join(
        x for x in (s.command, s.input, s.finished_at or s.started_at, f"crmclean {s.version}") if x
    )
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        '<meta name="referrer" content="no-referrer">'
        f"<title>crmclean report: {esc(s.input or s.command)}</title>"
        f"<style>{_CSS}</style></head><body>"
        f"<header><h1>crmclean data-quality report</h1><p>{esc(subtitle)}</p></header>"
        f"<nav>{nav}</nav><main>"
        + "".join(parts[anchor] for anchor, _ in shown)
        + "</main><footer>Every figure on this page is also in report.json "
        "(same folder).</footer></body></html>\n"
    )


def report_json(model: ReportModel) -> str:
    return json.dumps(model.to_dict(), indent=2, ensure_ascii=False) + "\n"


def build_report(
    out_dir: Path, *, show_values: bool = False, shown_as: Path | str | None = None
) -> Path:
    """Write report.json and report.html into a run's outputs folder; return the HTML's path.

    `shown_as`: the folder the commands the report suggests should name, when `out_dir` is a
    temporary folder that will be renamed to it (`run` builds its report before the swap)."""
    model = build_model(load_run_outputs(out_dir), show_values=show_values)
    if shown_as is not None and model.review is not None:
        model = replace(model, review=replace(model.review, folder=str(shown_as)))
    write_report_file(out_dir / REPORT_JSON, report_json(model))
    target = out_dir / REPORT_HTML
    write_report_file(target, render_html(model))
    return target
