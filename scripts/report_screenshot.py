"""Screenshot a study's HTML report (``seeker optimize … --report STUDY``) into a PNG.

    .venv/bin/python scripts/report_screenshot.py REPORT.html OUT.png [--height 2400]

Playwright drives Debian's Chromium (``/usr/bin/chromium``; Playwright's own browser download is
not used) at 1 280 px wide, the report's first `--height` pixels.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.web.support import CHROMIUM, CHROMIUM_ARGS


def main() -> None:
    """Write the screenshot."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("report", type=Path)
    p.add_argument("out", type=Path)
    p.add_argument("--height", type=int, default=2400, help="pixels of the page to keep")
    args = p.parse_args()
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.goto(args.report.resolve().as_uri())
        page.screenshot(
            path=str(args.out),
            full_page=True,
            clip={"x": 0, "y": 0, "width": 1280, "height": args.height},
        )
        browser.close()
    print(args.out)


if __name__ == "__main__":
    main()
