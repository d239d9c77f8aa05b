"""The inline SVG charts: well-formed, escaped, deterministic, no URLs, sizes that add up."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crmclean.report import svg


def _parse(chart: str) -> ET.Element:
    return ET.fromstring(chart)  # well-formed XML or this raises


def test_bar_chart_draws_one_bar_per_value_with_widths_in_proportion() -> None:
    chart = svg.bar_chart(["a", "b", "c"], [10, 5, 0], title="t")
    root = _parse(chart)
    rects = root.findall("rect")
    assert len(rects) == 3
    widths = [float(r.attrib["width"]) for r in rects]
    assert widths[0] == pytest.approx(2 * widths[1], rel=0.01)
    assert widths[2] <= 0.5  # zero is drawn as a hairline, not omitted


def test_negative_values_extend_left_of_the_zero_line() -> None:
    root = _parse(svg.bar_chart(["prior", "name"], [-4.0, 6.0], title="t"))
    neg, pos = root.findall("rect")
    zero = float(root.findall("line")[0].attrib["x1"])
    assert float(neg.attrib["x"]) + float(neg.attrib["width"]) == pytest.approx(zero, abs=0.1)
    assert float(pos.attrib["x"]) == pytest.approx(zero, abs=0.1)


def test_text_is_escaped_and_charts_hold_no_urls() -> None:
    evil = '<script>alert("x")</script> & "quoted"'
    charts = [
        svg.bar_chart([evil], [1], title=evil),
        svg.histogram([0, 1, 2], [3, 4], title=evil, thresholds=[(evil, 1.5)], x_label=evil),
        svg.stacked_bar([evil], [(evil, [1.0])], title=evil),
    ]
    for chart in charts:
        assert "<script>" not in chart
        root = _parse(chart)
        assert root.find("title") is not None
        assert root.find("title").text.startswith("<script>")  # type: ignore[union-attr]
        assert not re.search(r"https?:", chart)


def test_histogram_bars_and_threshold_lines() -> None:
    chart = svg.histogram(
        [0, 1, 2, 3, 4], [1, 0, 4, 2], title="w", thresholds=[("match", 3.5), ("review", 1.0)]
    )
    root = _parse(chart)
    bars = root.findall("rect")
    assert len(bars) == 3  # empty bins draw nothing
    heights = [float(b.attrib["height"]) for b in bars]
    assert heights[1] == pytest.approx(4 * heights[0], rel=0.01)
    dashed = [line for line in root.findall("line") if "stroke-dasharray" in line.attrib]
    assert len(dashed) == 2
    assert "match = 3.5" in chart and "review = 1" in chart


def test_stacked_bar_parts_fill_the_bar_when_normalised() -> None:
    root = _parse(svg.stacked_bar(["x", "y"], [("a", [1, 3]), ("b", [1, 1])], title="s"))
    rects = [r for r in root.findall("rect") if r.find("title") is not None]
    x_parts = [float(r.attrib["width"]) for r in rects[:2]]
    y_parts = [float(r.attrib["width"]) for r in rects[2:4]]
    assert sum(x_parts) == pytest.approx(sum(y_parts), abs=0.2)
    assert y_parts[0] == pytest.approx(3 * y_parts[1], rel=0.01)


def test_charts_are_deterministic() -> None:
    def make() -> str:
        return svg.histogram([0.0, 0.5, 1.0], [7, 9], title="h", thresholds=[("m", 0.7)])

    assert make() == make()


def test_mismatched_inputs_are_refused() -> None:
    with pytest.raises(ValueError):
        svg.bar_chart(["a"], [1, 2], title="t")
    with pytest.raises(ValueError):
        svg.histogram([0, 1], [1, 2], title="t")
    with pytest.raises(ValueError):
        svg.stacked_bar(["a", "b"], [("s", [1])], title="t")


def test_empty_charts_are_still_valid() -> None:
    _parse(svg.bar_chart([], [], title="empty"))
    _parse(svg.histogram([0, 1], [0], title="empty"))
    _parse(svg.stacked_bar([], [], title="empty"))


def test_histogram_ticks_are_round_numbers() -> None:
    assert svg._ticks(0, 46) == [0, 10, 20, 30, 40]
    assert svg._ticks(-2, 8) == [-2, 0, 2, 4, 6, 8]
    assert svg._ticks(0.3, 0.37) == [0.3, 0.32, 0.34, 0.36]
    chart = svg.histogram([0, 23, 46], [1, 2], title="h", thresholds=[("auto", 13.28764)])
    assert ">40<" in chart and ">9.2<" not in chart
    assert "auto = 13.29" in chart


@given(
    labels=st.lists(st.text(max_size=30), min_size=1, max_size=5),
    value=st.floats(min_value=-1e6, max_value=1e6, allow_nan=False),
)
@settings(max_examples=60, deadline=None)
def test_any_text_gives_well_formed_charts(labels: list[str], value: float) -> None:
    """Customer data can hold anything: markup, quotes, control characters."""
    values = [value] * len(labels)
    for chart in (
        svg.bar_chart(labels, values, title=labels[0]),
        svg.stacked_bar(labels, [(labels[0], [abs(v) for v in values])], title=labels[-1]),
        svg.histogram([0, 1], [1], title=labels[0], thresholds=[(labels[-1], 0.5)]),
    ):
        root = _parse(chart)
        assert all(child.tag in {"title", "text", "rect", "line"} for child in root)
