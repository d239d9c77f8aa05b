"""Small, deterministic SVG charts rendered at build time, inlined into the HTML report.

The SVG is meant for inline use in HTML5, so it carries no xmlns (no URL in any attribute).

Pure Python and no dependency: the report must open offline, stay small and be identical for
identical inputs. Every piece of text is escaped: labels can be customer data.
"""

from __future__ import annotations

import html
import math
import re
from collections.abc import Callable, Sequence

# A colour-blind-safe palette (Okabe-Ito), readable in greyscale print too.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000")
STATUS_COLOURS = {"pass": "#009E73", "warn": "#E69F00", "fail": "#D55E00"}
_FONT = "font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;font-size:12px"
_CHAR_PX = 7.2  # generous glyph width at 12px: sizes label gutters without measuring text


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def escape(text: object) -> str:
    """Escaped text; control characters (no place in HTML or XML) become U+FFFD."""
    return html.escape(_CONTROL.sub("\ufffd", str(text)), quote=True)


_e = escape


def _n(value: float) -> str:
    """Coordinates with at most one decimal: deterministic and compact."""
    text = f"{value:.1f}"
    return text[:-2] if text.endswith(".0") else text


def _fmt(value: float) -> str:
    if float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:,.2f}"


def _truncate(label: str, max_chars: int) -> str:
    return label if len(label) <= max_chars else label[: max_chars - 1] + "…"


def _open(width: float, height: float, title: str) -> list[str]:
    return [
        f'<svg class="chart" role="img" '
        f'viewBox="0 0 {_n(width)} {_n(height)}" width="{_n(width)}" height="{_n(height)}" '
        f'style="{_FONT}" aria-label="{_e(title)}">',
        f"<title>{_e(title)}</title>",
    ]


def _nice_max(value: float) -> float:
    """A round axis maximum at or above value (1, 2, 2.5, 5 x 10^k)."""
    if value <= 0:
        return 1.0
    magnitude = 10.0 ** (len(str(int(value))) - 1) if value >= 1 else 1.0
    if value < 1:
        magnitude = 0.1
        while magnitude > value:
            magnitude /= 10
    for step in (1.0, 2.0, 2.5, 5.0, 10.0):
        if step * magnitude >= value:
            return step * magnitude
    return 10.0 * magnitude


def _ticks(lo: float, hi: float, most: int = 7) -> list[float]:
    """Round tick values (steps of 1, 2, 2.5 or 5 x 10^k) inside [lo, hi], at most `most`."""
    span = hi - lo
    if span <= 0:
        return [lo]
    step = _nice_max(span / (most - 1))
    first = math.ceil(lo / step) * step
    count = math.floor((hi - first) / step + 1e-9) + 1
    return [round(first + i * step, 10) for i in range(count)]


def bar_chart(
    labels: Sequence[str],
    values: Sequence[float],
    *,
    title: str,
    colours: Sequence[str] | None = None,
    value_format: Callable[[float], str] = _fmt,
    max_value: float | None = None,
    width: int = 640,
    bar_height: int = 18,
) -> str:
    """Horizontal bars, one per label; negative values extend left of a zero line."""
    if len(labels) != len(values):
        raise ValueError("labels and values differ in length")
    gutter = min(220.0, max(60.0, _CHAR_PX * max((len(lb) for lb in labels), default=0) + 8))
    value_room = 70.0
    plot = width - gutter - value_room
    low = min(0.0, *values) if values else 0.0
    high = max(0.0, *values) if values else 0.0
    if max_value is not None:
        high = max(high, max_value)
    span = (high - low) or 1.0
    zero_x = gutter + plot * (-low / span)
    gap = 6
    height = len(labels) * (bar_height + gap) + gap + 4
    out = _open(width, height, title)
    for i, (label, value) in enumerate(zip(labels, values, strict=True)):
        y = gap + i * (bar_height + gap)
        colour = colours[i % len(colours)] if colours else PALETTE[0 if value >= 0 else 3]
        bar_w = plot * abs(value) / span
        x = zero_x if value >= 0 else zero_x - bar_w
        mid = y + bar_height / 2 + 4
        out.append(
            f'<text x="{_n(gutter - 6)}" y="{_n(mid)}" text-anchor="end">'
            f"{_e(_truncate(label, int(gutter / _CHAR_PX)))}<title>{_e(label)}</title></text>"
        )
        out.append(
            f'<rect x="{_n(x)}" y="{_n(y)}" width="{_n(max(bar_w, 0.5))}" '
            f'height="{bar_height}" fill="{_e(colour)}"/>'
        )
        text_x = x + bar_w + 4 if value >= 0 else x - 4
        anchor = "start" if value >= 0 else "end"
        if value < 0 and text_x < gutter + 30:  # no room on the left: write it inside
            text_x, anchor = zero_x + 4, "start"
        out.append(
            f'<text x="{_n(text_x)}" y="{_n(mid)}" text-anchor="{anchor}">'
            f"{_e(value_format(value))}</text>"
        )
    if low < 0:
        out.append(
            f'<line x1="{_n(zero_x)}" y1="2" x2="{_n(zero_x)}" y2="{_n(height - 2)}" '
            f'stroke="#555" stroke-width="1"/>'
        )
    out.append("</svg>")
    return "".join(out)


def histogram(
    edges: Sequence[float],
    counts: Sequence[int],
    *,
    title: str,
    thresholds: Sequence[tuple[str, float]] = (),
    x_label: str = "",
    y_label: str = "count",
    width: int = 640,
    height: int = 240,
) -> str:
    """Vertical bars over len(counts) bins bounded by edges, with labelled vertical lines."""
    if len(edges) != len(counts) + 1:
        raise ValueError("a histogram needs one more edge than counts")
    left, right, top, bottom = 56.0, 16.0, 22.0, 38.0
    plot_w, plot_h = width - left - right, height - top - bottom
    lo, hi = (edges[0], edges[-1]) if edges else (0.0, 1.0)
    span = (hi - lo) or 1.0
    y_max = _nice_max(float(max(counts, default=0)))

    def sx(v: float) -> float:
        return left + plot_w * (min(max(v, lo), hi) - lo) / span

    def sy(c: float) -> float:
        return top + plot_h * (1 - c / y_max)

    out = _open(width, height, title)
    for k in range(5):  # horizontal grid with counts
        c = y_max * k / 4
        out.append(
            f'<line x1="{_n(left)}" y1="{_n(sy(c))}" x2="{_n(left + plot_w)}" y2="{_n(sy(c))}" '
            f'stroke="#ddd" stroke-width="1"/>'
            f'<text x="{_n(left - 4)}" y="{_n(sy(c) + 4)}" text-anchor="end">{_e(_fmt(c))}</text>'
        )
    for i, count in enumerate(counts):
        x0, x1 = sx(edges[i]), sx(edges[i + 1])
        if count > 0:
            out.append(
                f'<rect x="{_n(x0)}" y="{_n(sy(count))}" width="{_n(max(x1 - x0 - 1, 0.5))}" '
                f'height="{_n(top + plot_h - sy(count))}" fill="{PALETTE[0]}">'
                f"<title>{_e(f'{_fmt(edges[i])} to {_fmt(edges[i + 1])}: {count:,}')}</title>"
                f"</rect>"
            )
    axis_y = top + plot_h
    out.append(
        f'<line x1="{_n(left)}" y1="{_n(axis_y)}" x2="{_n(left + plot_w)}" y2="{_n(axis_y)}" '
        f'stroke="#555" stroke-width="1"/>'
    )
    for v in _ticks(lo, hi):
        out.append(
            f'<line x1="{_n(sx(v))}" y1="{_n(axis_y)}" x2="{_n(sx(v))}" y2="{_n(axis_y + 4)}" '
            f'stroke="#555" stroke-width="1"/>'
            f'<text x="{_n(sx(v))}" y="{_n(axis_y + 16)}" text-anchor="middle">'
            f"{_e(_fmt(v))}</text>"
        )
    if x_label:
        out.append(
            f'<text x="{_n(left + plot_w / 2)}" y="{_n(height - 4)}" text-anchor="middle">'
            f"{_e(x_label)}</text>"
        )
    if y_label:
        out.append(f'<text x="4" y="12">{_e(y_label)}</text>')
    for i, (name, value) in enumerate(thresholds):
        x = sx(value)
        colour = PALETTE[3] if i % 2 == 0 else PALETTE[1]
        anchor = "end" if x > left + plot_w * 0.8 else "start"
        label_x = x - 3 if anchor == "end" else x + 3
        out.append(
            f'<line x1="{_n(x)}" y1="{_n(top - 4)}" x2="{_n(x)}" y2="{_n(axis_y)}" '
            f'stroke="{colour}" stroke-width="2" stroke-dasharray="5 3"/>'
            f'<text x="{_n(label_x)}" y="{_n(top - 8 + 12 * (i % 2))}" text-anchor="{anchor}" '
            f'fill="{colour}">{_e(f"{name} = {round(value, 2):g}")}</text>'
        )
    out.append("</svg>")
    return "".join(out)


def stacked_bar(
    labels: Sequence[str],
    series: Sequence[tuple[str, Sequence[float]]],
    *,
    title: str,
    colours: Sequence[str] = PALETTE,
    width: int = 640,
    bar_height: int = 18,
    normalise: bool = True,
    show_totals: bool = True,
) -> str:
    """One horizontal bar per label split into series parts, with a legend underneath.

    normalise=True draws shares of each bar's total (100% wide); otherwise absolute values.
    """
    for name, values in series:
        if len(values) != len(labels):
            raise ValueError(f"series {name!r} has {len(values)} values for {len(labels)} labels")
    gutter = min(220.0, max(60.0, _CHAR_PX * max((len(lb) for lb in labels), default=0) + 8))
    plot = width - gutter - 60
    totals = [sum(values[i] for _, values in series) for i in range(len(labels))]
    biggest = max(totals, default=0.0) or 1.0
    gap = 6
    legend = _legend_layout([name for name, _ in series], gutter, width)
    legend_rows = 1 + max((row for _, _, row in legend), default=0)
    height = len(labels) * (bar_height + gap) + gap + 20 * legend_rows + 6
    out = _open(width, height, title)
    for i, label in enumerate(labels):
        y = gap + i * (bar_height + gap)
        out.append(
            f'<text x="{_n(gutter - 6)}" y="{_n(y + bar_height / 2 + 4)}" text-anchor="end">'
            f"{_e(_truncate(label, int(gutter / _CHAR_PX)))}<title>{_e(label)}</title></text>"
        )
        scale = plot / (totals[i] or 1.0) if normalise else plot / biggest
        x = gutter
        for k, (name, values) in enumerate(series):
            w = values[i] * scale
            if w <= 0:
                continue
            share = values[i] / totals[i] if totals[i] else 0.0
            out.append(
                f'<rect x="{_n(x)}" y="{y}" width="{_n(w)}" height="{bar_height}" '
                f'fill="{_e(colours[k % len(colours)])}">'
                f"<title>{_e(f'{label} / {name}: {_fmt(values[i])} ({share:.1%})')}</title></rect>"
            )
            x += w
        if show_totals:
            out.append(
                f'<text x="{_n(x + 4)}" y="{_n(y + bar_height / 2 + 4)}">'
                f"{_e(_fmt(totals[i]))}</text>"
            )
    legend_y = gap + len(labels) * (bar_height + gap) + 8
    for k, (shown, lx, row) in enumerate(legend):
        ly = legend_y + 20 * row
        out.append(
            f'<rect x="{_n(lx)}" y="{_n(ly)}" width="12" height="12" '
            f'fill="{_e(colours[k % len(colours)])}"/>'
            f'<text x="{_n(lx + 16)}" y="{_n(ly + 10)}">{_e(shown)}</text>'
        )
    out.append("</svg>")
    return "".join(out)


def _legend_layout(names: Sequence[str], left: float, width: float) -> list[tuple[str, float, int]]:
    """(shown name, x, row) per legend item, wrapping to a new row when the line is full."""
    out: list[tuple[str, float, int]] = []
    x, row = left, 0
    for name in names:
        shown = _truncate(name, 40)
        item_w = 16 + _CHAR_PX * len(shown) + 18
        if x + item_w > width and x > left:
            x, row = left, row + 1
        out.append((shown, x, row))
        x += item_w
    return out
