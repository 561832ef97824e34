"""The dashboard in a real browser: Playwright driving Debian's Chromium (apt-get install chromium).

One server over the journals of a finished run (the page must match them exactly), one beside a
running simulated `seeker run` (the page must update by itself).
"""

from __future__ import annotations

import os
import shutil
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.web.support import (
    CHROMIUM,
    CHROMIUM_ARGS,
    TOKEN,
    copy_run,
    free_port,
    run_process,
    serve_process,
    stop,
    wait_ready,
)
from tests.web.test_read_api import open_in_journal

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists() and os.environ.get("SEEKER_REQUIRE_BROWSER") != "1",
    reason="no /usr/bin/chromium (apt-get install -y chromium); CI requires it",
)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    pg = context.new_page()
    pg.set_default_timeout(15_000)
    errors: list[str] = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    yield pg
    context.close()
    assert errors == [], errors  # no script error on any page


@pytest.fixture(scope="module")
def finished(
    run_journals: tuple[Path, Path], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, Path, Path]]:
    """Serve a copy of the finished run's journals: (base url, config, log root)."""
    config, logs = copy_run(*run_journals, tmp_path_factory.mktemp("finished") / "w")
    port = free_port()
    proc = serve_process(config, logs, port)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_ready(base, proc)
        yield base, config, logs
    finally:
        stop(proc)


@pytest.fixture(scope="module")
def live(
    run_journals: tuple[Path, Path], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, Path]]:
    """Serve the journals of a simulated `seeker run` going on at a high speed."""
    config, logs = copy_run(*run_journals, tmp_path_factory.mktemp("live") / "w")
    runner = run_process(config, logs, speed=3000)
    port = free_port()
    server = serve_process(config, logs, port)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_ready(base, server)
        yield base, logs
    finally:
        stop(server)
        code = stop(runner, signal.SIGINT, 60)
        assert code == 0, runner.stderr.read() if runner.stderr else ""
        shutil.rmtree(logs.parent, ignore_errors=True)


def test_the_page_loads_and_its_cards_match_the_journal(
    page: Any, finished: tuple[str, Path, Path]
) -> None:
    base, _, logs = finished
    page.goto(base + "/")
    cards = page.locator("article.card")
    expected = open_in_journal(logs)
    assert expected
    cards.first.wait_for()
    shown = {
        c.get_attribute("data-position"): c.get_attribute("data-strategy") for c in cards.all()
    }
    assert shown == {pid: folder for pid, (folder, _) in expected.items()}
    for card in cards.all():
        gauge = card.locator(".gauge[role=meter]")
        score = float(gauge.get_attribute("aria-valuenow"))
        assert 0 <= score <= 100
        assert card.locator(".gauge .score").inner_text().startswith(f"{score:.0f}")
        assert card.locator(".gauge path.value").count() == 1  # the dial is drawn
        bar = card.locator(".dtebar[role=progressbar]")
        assert bar.is_visible() and bar.locator(".mark").count() == 1
        assert card.locator(".badges li").count() >= 1
        assert card.locator(".reminder").inner_text().startswith("next:")
    assert "not running" in page.locator("#status .state").inner_text()


def test_an_update_arrives_without_a_reload(page: Any, live: tuple[str, Path]) -> None:
    base, _ = live
    page.goto(base + "/")
    loaded = page.evaluate("window.seekerLoadedAt")
    clock = page.locator("#clock").inner_text()
    # the running simulated clock moves: the overview is swapped in by the live updates
    page.wait_for_function(
        "c => document.querySelector('#clock') && document.querySelector('#clock').innerText !== c",
        arg=clock,
        timeout=30_000,
    )
    assert int(page.locator("#overview").get_attribute("data-version")) >= 1
    assert page.evaluate("window.seekerLoadedAt") == loaded  # the same page, never reloaded
    assert page.locator("#live-dot.live").count() == 1
    page.wait_for_function(
        "() => document.querySelector('#status .state').innerText.includes('Seeker running')"
    )


def test_the_live_page_shows_gauges_and_dte_bars(page: Any, live: tuple[str, Path]) -> None:
    base, _ = live
    page.goto(base + "/")
    page.locator("article.card .gauge").first.wait_for()
    assert page.locator("article.card .dtebar").count() == page.locator("article.card").count()


def test_a_journal_filter_keeps_only_what_it_names(
    page: Any, finished: tuple[str, Path, Path]
) -> None:
    base, _, _ = finished
    page.goto(base + "/journal")
    everything = page.locator("#journal-table tbody tr").count()
    page.select_option("select[name=blocked_by]", "regime")
    page.select_option("select[name=event]", "DECISION")
    with page.expect_navigation():
        page.click("#journal-filters button[type=submit]")
    assert "blocked_by=regime" in page.url
    rows = page.locator("#journal-table tbody tr")
    assert 0 < rows.count() <= everything
    assert {r.get_attribute("data-blocked-by") for r in rows.all()} == {"regime"}
    assert {r.get_attribute("data-event") for r in rows.all()} == {"DECISION"}


def test_a_positions_payoff_chart_renders(page: Any, finished: tuple[str, Path, Path]) -> None:
    base, _, _ = finished
    page.goto(base + "/")
    link = page.locator("article.card header a").first
    pid = link.get_attribute("href").rsplit("/", 1)[1]
    link.click()
    page.wait_for_url(f"**/positions/{pid}")
    chart = page.locator("#payoff-chart svg")
    box = chart.bounding_box()
    assert box is not None and box["width"] > 600 and box["height"] > 150
    expiry = page.locator("#payoff-chart path.series.expiry")
    assert expiry.count() == 1 and len(expiry.get_attribute("d").split("L")) > 50
    assert page.locator("#payoff-chart path.series.t0").count() == 1
    assert page.locator("#payoff-chart circle.marker.breakeven").count() >= 1
    assert page.locator("#greeks table").is_visible() and page.locator("#touch table").is_visible()
    assert page.locator("#confidence-chart path.series.score").count() == 1


def test_a_bad_parameter_edit_is_refused_on_the_page(
    page: Any, finished: tuple[str, Path, Path]
) -> None:
    base, config, _ = finished
    before = sorted(config.parent.glob("*.toml"))
    page.goto(base + "/parameters")
    page.fill("input[name='risk.max_per_trade_pct']", "150")
    page.click("#preview-btn")
    problems = page.locator("#edit-problems")
    problems.wait_for()
    assert "risk.max_per_trade_pct" in problems.inner_text()
    assert "nothing was written" in problems.inner_text()
    assert sorted(config.parent.glob("*.toml")) == before


def test_a_good_edit_is_written_with_the_token(page: Any, finished: tuple[str, Path, Path]) -> None:
    base, config, _ = finished
    before = set(config.parent.glob("*.toml"))
    page.goto(base + "/parameters")
    page.fill("#token-input", TOKEN)
    page.dispatch_event("#token-input", "change")
    page.fill("input[name='liquidity.min_open_interest']", "600")
    page.click("#preview-btn")
    page.locator("#edit-preview").wait_for()
    assert "+min_open_interest = 600" in page.locator("pre.diff").inner_text()
    page.click("#write-btn")
    written = page.locator("#edit-written")
    written.wait_for()
    (new,) = set(config.parent.glob("*.toml")) - before
    assert str(new) in written.inner_text()


def test_a_control_button_says_when_seeker_is_not_running_or_the_token_is_missing(
    page: Any, finished: tuple[str, Path, Path]
) -> None:
    base, _, _ = finished
    page.goto(base + "/")
    page.click("#strategies button:has-text('Pause all')")
    page.locator("#toast .err").first.wait_for()
    assert "401" in page.locator("#toast").inner_text()
    page.fill("#token-input", TOKEN)
    page.dispatch_event("#token-input", "change")
    page.click("#strategies button:has-text('Pause all')")
    page.locator("#toast .err:has-text('Seeker is not running')").wait_for()


def test_the_overview_fits_a_phone(browser: Any, finished: tuple[str, Path, Path]) -> None:
    base, _, _ = finished
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    try:
        pg = context.new_page()
        pg.goto(base + "/")
        # measured in the page in one step: a live update may swap the cards between two calls
        width = "(document.querySelector('article.card')?.getBoundingClientRect().width ?? 0)"
        pg.wait_for_function(f"{width} > 0")
        card_width, overflow = pg.evaluate(
            f"[{width}, document.documentElement.scrollWidth - window.innerWidth]"
        )
        assert 0 < card_width <= 390
        assert overflow <= 0, f"{overflow} px wider than the phone"
    finally:
        context.close()
