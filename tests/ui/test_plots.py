"""`seeker plot` writes real pictures: PNG files that decode, SVG documents that parse."""

from __future__ import annotations

import re
import struct
import xml.etree.ElementTree as ET
import zlib
from pathlib import Path

import pytest

from seeker.reports.equity import equity_curves
from seeker.reports.summary import build_report
from tests.reports.test_reports import CAPS, cli, write_journals

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def logs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("plots") / "logs"
    write_journals(root)
    return root


def png_size(path: Path) -> tuple[int, int]:
    """Return (width, height) of a PNG after checking its signature and every chunk's CRC."""
    data = path.read_bytes()
    assert data.startswith(PNG_SIGNATURE), path
    pos, chunks = len(PNG_SIGNATURE), []
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind = data[pos + 4 : pos + 8]
        body = data[pos + 8 : pos + 8 + length]
        (crc,) = struct.unpack(">I", data[pos + 8 + length : pos + 12 + length])
        assert zlib.crc32(kind + body) == crc, kind
        chunks.append(kind)
        pos += 12 + length
    assert chunks[0] == b"IHDR" and chunks[-1] == b"IEND" and b"IDAT" in chunks
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def svg_texts(path: Path) -> str:
    """Return every text of an SVG document (which must parse)."""
    root = ET.parse(path).getroot()
    assert root.tag.endswith("svg")
    return " ".join(t for el in root.iter() if el.text for t in [el.text])


@pytest.mark.parametrize("what", ["equity", "pnl"])
def test_report_pictures_are_valid_png_and_svg(logs: Path, tmp_path: Path, what: str) -> None:
    png, svg = tmp_path / f"{what}.png", tmp_path / f"{what}.svg"
    for out in (png, svg):
        res = cli("plot", what, "-o", str(out), "--log-dir", str(logs))
        assert res.exit_code == 0, res.stderr
        assert f"wrote {out}" in res.stdout
    width, height = png_size(png)
    assert width >= 800 and height >= 300
    texts = svg_texts(svg)
    if what == "equity":
        assert "USD: 2 trades, -24.40" in texts and "CAD: 1 trades, +24.00" in texts
        assert "max drawdown 25.20" in texts
    else:
        assert "by strategy" in texts and "by regime at entry" in texts
        assert "-24.40" in texts  # iron_condor's net P&L, as summary says


def test_svg_pictures_are_reproducible(logs: Path, tmp_path: Path) -> None:
    a, b = tmp_path / "a.svg", tmp_path / "b.svg"
    for out in (a, b):
        assert cli("plot", "pnl", "-o", str(out), "--log-dir", str(logs)).exit_code == 0
    assert a.read_bytes() == b.read_bytes()


def test_payoff_picture_marks_breakevens_and_extremes(logs: Path, tmp_path: Path) -> None:
    out = tmp_path / "payoff.svg"
    res = cli("plot", "payoff", "ic-A", "-o", str(out), "--log-dir", str(logs))
    assert res.exit_code == 0, res.stderr
    texts = svg_texts(out)
    shown = cli("show", "ic-A", "--log-dir", str(logs)).stdout  # the same numbers as `show`
    breakevens = re.search(r"breakevens (\d+\.\d\d · \d+\.\d\d)", shown)
    assert breakevens is not None and f"breakevens {breakevens.group(1)}" in texts
    assert "max profit +12.00 $" in shown and "max loss -38.00 $" in shown
    assert "max profit +12.00 USD" in texts and "max loss -38.00 USD" in texts
    assert "at expiry (2026-02-20)" in texts
    png = tmp_path / "payoff.png"
    assert cli("plot", "payoff", "ic-A", "-o", str(png), "--log-dir", str(logs)).exit_code == 0
    png_size(png)
    res = cli("plot", "payoff", "--log-dir", str(logs))
    assert res.exit_code == 2 and "name the position" in res.stderr


def test_equity_curves_follow_the_summary(logs: Path) -> None:
    report = build_report(logs, CAPS)
    curves = {c.currency: c for c in equity_curves(report.real.trades)}
    usd = [r for r in report.rows if r.currency == "USD" and not r.shadow]
    assert curves["USD"].equity[-1] == pytest.approx(sum(r.net_pnl for r in usd))
    assert curves["USD"].equity[0] == 0.0 and len(curves["USD"].times) == 3
    assert curves["USD"].max_drawdown == pytest.approx(25.20)
    assert curves["CAD"].equity == [0.0, pytest.approx(24.0)]
