"""Screenshots of the web dashboard's main pages (PNG) into docs/web/, from a real simulated run.

    .venv/bin/python scripts/web_screenshots.py            # writes docs/web/*.png
    .venv/bin/python scripts/web_screenshots.py --out DIR  # elsewhere

1. ``seeker run --days 30 --no-dashboard --log-dir <tmp>`` (a subprocess, the real command, the
   shipped config, the five strategies);
2. ``seeker serve`` on those journals (a subprocess on a free 127.0.0.1 port);
3. Playwright drives Debian's Chromium (``/usr/bin/chromium``) through the pages at 1 280 × 900
   (and the overview at 390 × 844, a phone): overview, one position (the open one with the most
   confidence lines), the journal filtered on the Risk Guard's refusals, results, parameters with
   a refused edit.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.web.support import CHROMIUM, CHROMIUM_ARGS, free_port  # noqa: E402

DAYS = 30


def seeker(*args: str) -> list[str]:
    return [sys.executable, "-m", "seeker", *args]


def wait(url: str, seconds: float = 30.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=1.0) as res:
                if res.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"no answer from {url} within {seconds:g} s")


def shoot(base: str, out: Path) -> list[Path]:
    from playwright.sync_api import sync_playwright

    written = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})

        def snap(name: str, full: bool = True) -> None:
            path = out / f"{name}.png"
            page.screenshot(path=str(path), full_page=full)
            written.append(path)

        page.goto(base + "/")
        page.locator("article.card").first.wait_for()
        snap("overview", full=False)
        cards = page.locator("article.card header a")
        hrefs = [cards.nth(i).get_attribute("href") for i in range(cards.count())]
        page.goto(base + hrefs[0])
        page.locator("#payoff-chart").wait_for()
        snap("position")
        page.goto(base + "/journal?blocked_by=risk_guard&limit=60")
        snap("journal", full=False)
        page.goto(base + "/results")
        snap("results", full=False)
        page.goto(base + "/parameters")
        page.fill("input[name='risk.max_per_trade_pct']", "150")
        page.click("#preview-btn")
        page.locator("#edit-problems").wait_for()
        page.locator("#edit-problems").scroll_into_view_if_needed()
        snap("parameters-refused", full=False)
        phone = browser.new_page(viewport={"width": 390, "height": 844}, is_mobile=True)
        phone.goto(base + "/")
        phone.locator("article.card").first.wait_for()
        path = out / "overview-phone.png"
        phone.screenshot(path=str(path), full_page=False)
        written.append(path)
        browser.close()
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "web")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="seeker-shots-") as tmp:
        logs = Path(tmp) / "logs"
        config = ROOT / "config" / "seeker.toml"
        run = seeker(
            "run",
            "--days",
            str(DAYS),
            "--no-dashboard",
            "--config",
            str(config),
            "--log-dir",
            str(logs),
        )
        subprocess.run(run, check=True, cwd=ROOT, stdout=subprocess.DEVNULL)
        port = free_port()
        env = {k: v for k, v in os.environ.items() if k != "SEEKER_WEB_TOKEN"}
        server = subprocess.Popen(
            seeker(
                "serve",
                "--config",
                str(config),
                "--log-dir",
                str(logs),
                "--port",
                str(port),
                "--edits-dir",
                tmp,
            ),
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            base = f"http://127.0.0.1:{port}"
            wait(base + "/health")
            for path in shoot(base, args.out):
                print(path.relative_to(ROOT) if path.is_relative_to(ROOT) else path)
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(30)


if __name__ == "__main__":
    main()
