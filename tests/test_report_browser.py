"""The HTML report as a person sees it: rendered by headless Chromium, offline.

Chromium is installed by `make chromium` (CI runs it before `make test`). A missing browser
fails this test; set CRMCLEAN_SKIP_BROWSER=1 to skip it knowingly on a machine without one.
"""

from __future__ import annotations

import os
import re
import shutil
import struct
import subprocess
import zlib
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest

from crmclean.report.html import build_report
from report_data import write_full_run, write_validate_run

CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
]


def _chromium() -> str:
    if os.environ.get("CRMCLEAN_SKIP_BROWSER") == "1":
        pytest.skip("CRMCLEAN_SKIP_BROWSER=1")
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    pytest.fail("chromium is not installed: run `make chromium` (or CRMCLEAN_SKIP_BROWSER=1)")


def _render(html_file: Path, target: Path, *flags: str) -> Path:
    """Run headless Chromium on html_file with flags that write target."""
    command = [
        _chromium(),
        *CHROMIUM_FLAGS,
        f"--user-data-dir={target.parent / (target.stem + '-profile')}",
        *flags,
        html_file.resolve().as_uri(),
    ]
    subprocess.run(command, check=True, capture_output=True, timeout=120)
    assert target.is_file(), f"chromium wrote no {target.name}"
    return target


def screenshot(html_file: Path, png: Path, size: tuple[int, int] = (1280, 2000)) -> Path:
    """Render html_file with headless Chromium into png."""
    return _render(html_file, png, f"--screenshot={png}", f"--window-size={size[0]},{size[1]}")


def _unfilter(raw: bytes, height: int, stride: int, bpp: int) -> np.ndarray:
    """Undo PNG's per-row filters; None/Sub/Up in numpy, Average/Paeth row by row."""
    out = np.zeros((height, stride), dtype=np.uint8)
    prev = np.zeros(stride, dtype=np.int32)
    pos = 0
    for y in range(height):
        kind, line = raw[pos], np.frombuffer(raw, np.uint8, stride, pos + 1).astype(np.int32)
        pos += stride + 1
        if kind == 0:
            row = line
        elif kind == 1:  # Sub: a running sum per channel
            row = (np.cumsum(line.reshape(-1, bpp), axis=0) % 256).reshape(-1)
        elif kind == 2:  # Up
            row = (line + prev) % 256
        else:
            cur = [0] * stride
            src, up = line.tolist(), prev.tolist()
            for i in range(stride):
                a = cur[i - bpp] if i >= bpp else 0
                b = up[i]
                if kind == 3:
                    cur[i] = (src[i] + (a + b) // 2) % 256
                else:
                    c = up[i - bpp] if i >= bpp else 0
                    p = a + b - c
                    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                    pred = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
                    cur[i] = (src[i] + pred) % 256
            row = np.array(cur, dtype=np.int32)
        out[y] = row
        prev = row
    return out


def decode_png(path: Path) -> np.ndarray:
    """An 8-bit RGB(A) PNG as a (height, width, channels) array, with the stdlib and numpy."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat, header = 8, b"", (0, 0, 0, 0)
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind, chunk = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        pos += 12 + length
        if kind == b"IHDR":
            width, height, depth, colour = struct.unpack(">IIBB", chunk[:10])
            header = (width, height, depth, colour)
        elif kind == b"IDAT":
            idat += chunk
    width, height, depth, colour = header
    assert depth == 8 and colour in (2, 6), f"unsupported PNG: depth {depth}, colour {colour}"
    channels = 3 if colour == 2 else 4
    pixels = _unfilter(zlib.decompress(idat), height, width * channels, channels)
    return pixels.reshape(height, width, channels)[:, :, :3]


class _Attributes(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.attributes: list[tuple[str, str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.attributes += [(tag, name, value or "") for name, value in attrs]


def test_no_attribute_points_outside_the_file(tmp_path: Path) -> None:
    page = build_report(write_full_run(tmp_path / "out")).read_text(encoding="utf-8")
    parser = _Attributes()
    parser.feed(page)
    for tag, name, value in parser.attributes:
        assert "http" not in value.lower(), (tag, name, value)
        assert "//" not in value or name == "content", (tag, name, value)
        if name in {"src", "href", "action", "srcset", "poster", "data"}:
            assert value.startswith("#"), (tag, name, value)
    tags = {tag for tag, _, _ in parser.attributes}
    assert not tags & {"script", "link", "img", "iframe", "object", "embed"}
    assert "Content-Security-Policy" in page and "default-src 'none'" in page


def _has_colour(pixels: np.ndarray, hex_colour: str, at_least: int = 200) -> bool:
    rgb = np.array([int(hex_colour[i : i + 2], 16) for i in (1, 3, 5)], dtype=np.int16)
    close = np.abs(pixels.astype(np.int16) - rgb).max(axis=2) <= 6
    return int(close.sum()) >= at_least


def test_full_report_renders_with_charts_in_chromium(tmp_path: Path) -> None:
    html_file = build_report(write_full_run(tmp_path / "out"))
    pixels = decode_png(screenshot(html_file, tmp_path / "report.png"))
    assert pixels.shape == (2000, 1280, 3)
    grey = pixels.mean(axis=2)
    assert grey.std() > 20, "the page looks blank"
    assert (grey < 128).mean() > 0.01, "hardly any dark pixels: no text rendered"
    # The rule chart's failing bar and the header band are drawn.
    assert _has_colour(pixels, "#D55E00"), "no failing-rule bar in the screenshot"
    assert _has_colour(pixels, "#1D2329", at_least=5000), "no header band"


def test_validate_only_report_renders(tmp_path: Path) -> None:
    html_file = build_report(write_validate_run(tmp_path / "out"))
    pixels = decode_png(screenshot(html_file, tmp_path / "report.png", (1280, 900)))
    assert pixels.mean(axis=2).std() > 20
    assert _has_colour(pixels, "#D55E00")


def test_full_report_prints_on_several_pages(tmp_path: Path) -> None:
    html_file = build_report(write_full_run(tmp_path / "out"))
    pdf = _render(
        html_file,
        tmp_path / "report.pdf",
        f"--print-to-pdf={tmp_path / 'report.pdf'}",
        "--no-pdf-header-footer",
    ).read_bytes()
    assert pdf.startswith(b"%PDF")
    pages = len(re.findall(rb"/Type\s*/Page[^s]", pdf))
    assert 2 <= pages <= 20, pages


# Headless Chromium will not open a window narrower than 500 px: a phone-wide viewport is an
# iframe of that width. A copy of the page, its CSP taken out, gets a measuring script that
# writes the page's own scroll width into the frame's parent; the report itself has none.
_MEASURE = (
    "<script>window.onload=function(){parent.document.getElementById('W').textContent="
    "'W'+document.documentElement.scrollWidth+'W';}</script></body>"
)


def _framed(html_file: Path, width: int, folder: Path, measure: bool) -> Path:
    page = html_file.read_text(encoding="utf-8")
    page = re.sub(r'<meta http-equiv="Content-Security-Policy"[^>]*>', "", page)
    if measure:
        page = page.replace("</body>", _MEASURE)
    (folder / "framed.html").write_text(page, encoding="utf-8")
    outer = folder / f"outer-{width}.html"
    outer.write_text(
        '<html><body style="margin:0"><iframe src="framed.html" width="'
        f'{width}" height="2000" style="border:0"></iframe><pre id="W"></pre></body></html>',
        encoding="utf-8",
    )
    return outer


def page_width(html_file: Path, width: int, folder: Path) -> int:
    """The report's scroll width in a viewport `width` px wide, as Chromium lays it out."""
    outer = _framed(html_file, width, folder, measure=True)
    command = [
        _chromium(),
        *CHROMIUM_FLAGS,
        f"--user-data-dir={folder / 'measure-profile'}",
        "--allow-file-access-from-files",
        "--virtual-time-budget=5000",
        "--dump-dom",
        outer.resolve().as_uri(),
    ]
    done = subprocess.run(command, check=True, capture_output=True, timeout=120, text=True)
    found = re.search(r"W(\d+)W", done.stdout)
    assert found, "the measuring script did not run"
    return int(found.group(1))


@pytest.mark.parametrize("width", [400, 1400])
def test_full_report_fits_a_phone_and_a_wide_screen(tmp_path: Path, width: int) -> None:
    html_file = build_report(write_full_run(tmp_path / "out"))
    assert page_width(html_file, width, tmp_path) <= width
    if width >= 500:
        png = screenshot(html_file, tmp_path / f"report-{width}.png", (width, 2000))
    else:
        outer = _framed(html_file, width, tmp_path, measure=False)
        png = _render(
            outer,
            tmp_path / f"report-{width}.png",
            f"--screenshot={tmp_path / f'report-{width}.png'}",
            "--allow-file-access-from-files",
            f"--window-size={max(width, 500)},2000",
        )
    pixels = decode_png(png)
    shown = pixels[:, :width]
    assert shown.mean(axis=2).std() > 20, "the page looks blank"
    # the verdict of a failed run is drawn first, in red, at either width
    assert _has_colour(shown[:900], "#C0392B", at_least=100), "no red verdict near the top"
