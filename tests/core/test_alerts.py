"""Notifier: alerts reach a real webhook through Apprise, and a dead or hung webhook never holds
up nor breaks the caller (proved by the order of events, not by timings)."""

from __future__ import annotations

import json
import queue
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from seeker.core.alerts import Notifier
from seeker.core.alerts_config import AlertKind, AlertsConfig, AlertsConfigError, resolve_targets

HOLD_LIMIT_SECONDS = 10.0
"""Longest a held webhook request waits for the test to release it."""

ENV = {"SEEKER_HOOK_PW": "hunter2pw", "SEEKER_HOOK_ID": "hookIdS3cret"}


@dataclass(frozen=True)
class Received:
    path: str
    payload: dict[str, object]


class Webhook:
    """A JSON webhook on 127.0.0.1 that records what it receives and can hold each request."""

    def __init__(self, hold: bool = False) -> None:
        self.received: queue.Queue[Received] = queue.Queue()
        self.release = threading.Event()
        self.hold = hold
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                size = int(self.headers.get("Content-Length", "0"))
                payload = json.loads(self.rfile.read(size))
                hook.received.put(Received(self.path, payload))
                if hook.hold:
                    hook.release.wait(HOLD_LIMIT_SECONDS)
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    def url(self) -> str:
        return f"json://bot:${{SEEKER_HOOK_PW}}@127.0.0.1:{self.port}/hook/${{SEEKER_HOOK_ID}}"

    def close(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(HOLD_LIMIT_SECONDS)


@pytest.fixture
def webhook() -> Iterator[Webhook]:
    hook = Webhook()
    yield hook
    hook.close()


@pytest.fixture
def held_webhook() -> Iterator[Webhook]:
    hook = Webhook(hold=True)
    yield hook
    hook.close()


@pytest.fixture
def dead_url() -> Iterator[str]:
    """A JSON URL on a port that is bound but never listens: every connection is refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        yield f"json://bot:${{SEEKER_HOOK_PW}}@127.0.0.1:{port}/hook/${{SEEKER_HOOK_ID}}"


class Failures:
    """An on_failure callback that records each call, optionally first waiting for the caller."""

    def __init__(self, wait_for: threading.Event | None = None) -> None:
        self.calls: queue.Queue[tuple[AlertKind, str, bool, str]] = queue.Queue()
        self.wait_for = wait_for

    def __call__(self, kind: AlertKind, reason: str) -> None:
        caller_done = self.wait_for.wait(HOLD_LIMIT_SECONDS) if self.wait_for else True
        self.calls.put((kind, reason, caller_done, threading.current_thread().name))


def notifier(url: str, *, on_failure: Failures | None = None, **mechanics: object) -> Notifier:
    cfg = AlertsConfig.model_validate(
        {"urls": [url], "events": ["fill", "stop", "kill_switch"], **mechanics},
        context={"environ": ENV},
    )
    return Notifier.from_config(cfg, on_failure=on_failure, environ=ENV)


def assert_no_secret(text: str) -> None:
    assert "hunter2pw" not in text and "hookIdS3cret" not in text


def test_a_fill_alert_reaches_the_webhook_with_its_title_and_body(webhook: Webhook) -> None:
    failures = Failures()
    alerts = notifier(webhook.url(), on_failure=failures)
    assert alerts.notify("fill", "Filled: iron condor SPY", "credit 1.25 $ × 1, risk 75 $")
    got = webhook.received.get(timeout=HOLD_LIMIT_SECONDS)
    assert got.path == "/hook/hookIdS3cret"  # the placeholder was expanded from the environment
    assert got.payload["title"] == "Filled: iron condor SPY"
    assert got.payload["message"] == "credit 1.25 $ × 1, risk 75 $"
    assert got.payload["type"] == "info"
    assert alerts.notify("kill_switch", "Kill switch", "daily loss limit reached")
    assert webhook.received.get(timeout=HOLD_LIMIT_SECONDS).payload["type"] == "failure"
    stats = alerts.close(timeout=HOLD_LIMIT_SECONDS)
    assert (stats.sent, stats.failed, stats.dropped, stats.ignored) == (2, 0, 0, 0)
    assert failures.calls.empty()


def test_a_refused_connection_is_reported_redacted_after_the_caller_went_on(dead_url: str) -> None:
    caller_done = threading.Event()
    failures = Failures(wait_for=caller_done)
    alerts = notifier(dead_url, on_failure=failures, timeout_seconds=5.0)
    # Were notify() to deliver in the caller's thread, on_failure would run before this returns
    # and would find caller_done unset.
    assert alerts.notify("stop", "Stop hit", "iron condor SPY closed at the stop")
    caller_done.set()
    kind, reason, saw_caller_done, thread = failures.calls.get(timeout=2 * HOLD_LIMIT_SECONDS)
    assert (kind, saw_caller_done) == ("stop", True)
    assert thread != threading.current_thread().name
    assert "stop alert to JSON json://bot:****@127.0.0.1:" in reason and "failed" in reason
    assert_no_secret(reason)
    stats = alerts.close(timeout=HOLD_LIMIT_SECONDS)
    assert (stats.sent, stats.failed) == (0, 1)


def test_a_webhook_that_hangs_past_the_timeout_is_a_failure_not_a_wait(
    held_webhook: Webhook,
) -> None:
    caller_done = threading.Event()
    failures = Failures(wait_for=caller_done)
    alerts = notifier(held_webhook.url(), on_failure=failures, timeout_seconds=0.5)
    assert alerts.notify("fill", "Filled", "body")
    caller_done.set()
    held_webhook.received.get(timeout=HOLD_LIMIT_SECONDS)  # the request is in, and held
    kind, reason, saw_caller_done, _ = failures.calls.get(timeout=2 * HOLD_LIMIT_SECONDS)
    assert not held_webhook.release.is_set()  # the failure came from the timeout
    assert (kind, saw_caller_done) == ("fill", True)
    assert_no_secret(reason)
    held_webhook.release.set()
    assert alerts.close(timeout=HOLD_LIMIT_SECONDS).failed == 1


def test_a_full_queue_drops_the_oldest_alerts(held_webhook: Webhook) -> None:
    alerts = notifier(held_webhook.url(), timeout_seconds=30.0, queue_size=2)
    assert alerts.notify("fill", "1", "first")
    assert held_webhook.received.get(timeout=HOLD_LIMIT_SECONDS).payload["title"] == "1"
    for title in "2345":  # the worker is held on "1": the queue holds two, "2" and "3" go
        assert alerts.notify("fill", title, "queued")
    assert alerts.stats().dropped == 2
    held_webhook.release.set()
    stats = alerts.close(timeout=HOLD_LIMIT_SECONDS)
    titles = [held_webhook.received.get(timeout=HOLD_LIMIT_SECONDS).payload["title"] for _ in "45"]
    assert titles == ["4", "5"] and held_webhook.received.empty()
    assert (stats.sent, stats.failed, stats.dropped) == (3, 0, 2)


def test_kinds_not_listed_are_ignored_and_counted(webhook: Webhook) -> None:
    alerts = notifier(webhook.url())
    assert not alerts.notify("daily_summary", "Summary", "not listed in events")
    assert not alerts.notify("nonsense", "?", "?")  # type: ignore[arg-type]
    assert alerts.notify("fill", "Filled", "listed")
    stats = alerts.close(timeout=HOLD_LIMIT_SECONDS)
    assert webhook.received.get(timeout=HOLD_LIMIT_SECONDS).payload["title"] == "Filled"
    assert webhook.received.empty()
    assert (stats.sent, stats.ignored) == (1, 2)


def test_close_gives_up_on_a_hung_webhook_and_later_alerts_are_dropped(
    held_webhook: Webhook,
) -> None:
    alerts = notifier(held_webhook.url(), timeout_seconds=30.0)
    for title in "123":
        assert alerts.notify("fill", title, "body")
    held_webhook.received.get(timeout=HOLD_LIMIT_SECONDS)
    stats = alerts.close(timeout=0.2)
    assert not held_webhook.release.is_set()  # close returned while the webhook still held "1"
    assert stats.dropped == 2
    assert not alerts.notify("fill", "late", "after close")
    assert alerts.stats().dropped == 3
    held_webhook.release.set()


def test_a_raising_on_failure_callback_does_not_stop_the_worker(dead_url: str) -> None:
    calls: queue.Queue[str] = queue.Queue()

    def on_failure(kind: AlertKind, reason: str) -> None:
        calls.put(reason)
        raise RuntimeError("the journal is gone")

    alerts = notifier(dead_url, on_failure=on_failure)
    assert alerts.notify("fill", "1", "x")
    calls.get(timeout=HOLD_LIMIT_SECONDS)
    assert alerts.notify("fill", "2", "x")
    calls.get(timeout=HOLD_LIMIT_SECONDS)
    assert alerts.close(timeout=HOLD_LIMIT_SECONDS).failed == 2


def test_no_urls_means_alerts_off() -> None:
    alerts = Notifier.from_config(AlertsConfig.model_validate({"urls": [], "events": []}))
    assert not alerts.enabled
    assert not alerts.notify("fill", "Filled", "nowhere to go")
    assert alerts.close(timeout=1.0).ignored == 1


def test_an_unset_variable_at_start_is_an_error_naming_it(webhook: Webhook) -> None:
    cfg = AlertsConfig.model_validate(
        {"urls": [webhook.url()], "events": ["fill"]}, context={"environ": ENV}
    )
    with pytest.raises(AlertsConfigError) as info:
        Notifier.from_config(cfg, environ={"SEEKER_HOOK_PW": "hunter2pw"})
    assert str(info.value) == (
        "alerts.urls[0]: environment variable SEEKER_HOOK_ID is not set (placeholder "
        "${SEEKER_HOOK_ID})"
    )
    assert_no_secret(str(info.value))
    (target,) = resolve_targets(cfg, ENV)
    assert_no_secret(repr(target))
