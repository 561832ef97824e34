"""Alerts through Apprise (Telegram, e-mail, Discord, Slack, ntfy, webhooks…) that never hold up
the caller.

:class:`Notifier` puts each alert on a bounded queue served by one daemon thread, which hands it to
Apprise with a per-call timeout. When the queue is full the oldest alert is dropped (counted). A
failed delivery is reported to an optional ``on_failure(kind, reason)`` callback, its reason
scrubbed of every secret (see :mod:`seeker.core.alerts_config`).
"""

from __future__ import annotations

import logging
import math
import threading
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from seeker.core.alerts_config import (
    ALERT_KINDS,
    AlertKind,
    AlertsConfig,
    AlertTarget,
    instantiate_quietly,
    resolve_targets,
    scrub,
)

if TYPE_CHECKING:  # Apprise is imported when there is somewhere to send alerts (~50 ms)
    import apprise

log = logging.getLogger(__name__)

NOTIFY_TYPES: Mapping[AlertKind, str] = {
    "fill": "info",
    "stop": "warning",
    "kill_switch": "failure",
    "strategy_error": "failure",
    "reconciliation": "warning",
    "daily_summary": "info",
}
"""How each kind is marked for the services that show a severity (colour, icon)."""

_MAX_REASON_CHARS = 500


class FailureCallback(Protocol):
    """Receive one failed delivery: the alert's kind and a reason with no secret in it."""

    def __call__(self, kind: AlertKind, reason: str) -> None: ...


@dataclass(frozen=True)
class NotifierStats:
    """Counts since start: deliveries sent and failed (one per URL), alerts dropped and ignored.

    ``dropped``: alerts pushed out of the full queue, left undelivered at close, or sent after
    close. ``ignored``: alerts of a kind not in ``events`` (or any alert while alerts are off).
    """

    sent: int
    failed: int
    dropped: int
    ignored: int


@dataclass(frozen=True)
class _Alert:
    kind: AlertKind
    title: str
    body: str


class Notifier:
    """Deliver alerts through Apprise from one daemon thread; callers never wait nor see errors.

    Each alert goes to every URL in one Apprise call limited to `timeout_seconds`; the sockets'
    connect and read timeouts are lowered to it too (Apprise's own default is 4 s). `on_failure`
    runs in the alerts thread, once per URL that failed.
    """

    def __init__(
        self,
        targets: Sequence[AlertTarget],
        events: Iterable[AlertKind],
        *,
        timeout_seconds: float = 10.0,
        queue_size: int = 100,
        on_failure: FailureCallback | None = None,
    ) -> None:
        if not (math.isfinite(timeout_seconds) and timeout_seconds > 0) or queue_size < 1:
            raise ValueError("timeout_seconds must be finite and > 0, queue_size >= 1")
        self._events = frozenset(events)
        self._timeout = float(timeout_seconds)
        self._on_failure = on_failure
        self._secrets = tuple(s for t in targets for s in t.secrets)
        self._apprise: apprise.Apprise | None = None
        if targets:
            import apprise  # only here: a run without alert URLs never loads Apprise

            self._apprise = apprise.Apprise()
            for target in targets:
                self._apprise.add(self._plugin(target))
        self._queue: deque[_Alert] = deque(maxlen=queue_size)
        self._cond = threading.Condition()
        self._closing = False
        self._abandon = False
        self._sent = self._failed = self._dropped = self._ignored = 0
        self._thread: threading.Thread | None = None
        if targets:
            self._thread = threading.Thread(target=self._run, name="seeker-alerts", daemon=True)
            self._thread.start()

    @classmethod
    def from_config(
        cls,
        config: AlertsConfig,
        on_failure: FailureCallback | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> Notifier:
        """Return a Notifier for the config, its URLs expanded from `environ` (the process's by
        default); AlertsConfigError if a placeholder's variable is unset."""
        return cls(
            resolve_targets(config, environ),
            config.events,
            timeout_seconds=config.timeout_seconds,
            queue_size=config.queue_size,
            on_failure=on_failure,
        )

    def _plugin(self, target: AlertTarget) -> apprise.NotifyBase:
        plugin = instantiate_quietly(target.url)
        if plugin is None:
            raise ValueError(f"Apprise cannot use the URL {target.shown}")
        # Socket timeouts too, so a service Apprise stops waiting for also ends soon after.
        plugin.socket_connect_timeout = min(plugin.socket_connect_timeout, self._timeout)
        plugin.socket_read_timeout = min(plugin.socket_read_timeout, self._timeout)
        return plugin

    @property
    def enabled(self) -> bool:
        """Return whether alerts go anywhere (at least one URL)."""
        return self._thread is not None

    def notify(self, kind: AlertKind, title: str, body: str) -> bool:
        """Queue an alert and return at once: True if queued, False if ignored or dropped."""
        try:
            if kind not in ALERT_KINDS:
                log.error("unknown alert kind %r ignored (known: %s)", kind, ", ".join(ALERT_KINDS))
            with self._cond:
                if self._thread is None or kind not in self._events:
                    self._ignored += 1
                    return False
                if self._closing:
                    self._dropped += 1
                    return False
                if len(self._queue) == self._queue.maxlen:
                    self._dropped += 1  # the deque pushes out its oldest alert
                self._queue.append(_Alert(kind, str(title), str(body)))
                self._cond.notify()
                return True
        except Exception:  # never let an alert break the caller
            log.exception("alert %r could not be queued", kind)
            return False

    def stats(self) -> NotifierStats:
        """Return the counts so far."""
        with self._cond:
            return NotifierStats(self._sent, self._failed, self._dropped, self._ignored)

    def close(self, timeout: float) -> NotifierStats:
        """Deliver what is queued within `timeout` seconds, drop the rest, stop the thread.

        A delivery still in flight at the deadline is left to end on its own timeout.
        """
        with self._cond:
            self._closing = True
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join(max(0.0, timeout))
        with self._cond:
            self._abandon = True
            self._dropped += len(self._queue)
            self._queue.clear()
            self._cond.notify_all()
        return self.stats()

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._queue and not self._closing:
                    self._cond.wait(timeout=1.0)
                if self._abandon or not self._queue:
                    return
                alert = self._queue.popleft()
            try:
                self._deliver(alert)
            except Exception:  # the thread must outlive any one delivery
                log.exception("alert delivery crashed")

    def _deliver(self, alert: _Alert) -> None:
        import apprise  # loaded by __init__ already: a Notifier delivers only with targets

        assert self._apprise is not None
        failures: list[str] = []
        sent = 0
        try:
            result = self._apprise.notify(
                body=alert.body,
                title=alert.title,
                notify_type=apprise.NotifyType(NOTIFY_TYPES.get(alert.kind, "info")),
                body_format=apprise.NotifyFormat.TEXT,
                timeout=self._timeout,
            )
        except Exception as exc:  # Apprise reports failures in its result; this is a safety net
            text = f"{alert.kind} alert failed: Apprise raised {type(exc).__name__}: {exc}"
            failures = [scrub(text, self._secrets)[:_MAX_REASON_CHARS]] * len(self._apprise)
        else:
            for service in result:
                if service:
                    sent += 1
                else:
                    failures.append(self._reason(alert.kind, service))
        with self._cond:
            self._sent += sent
            self._failed += len(failures)
        for reason in failures:
            self._report(alert.kind, reason)

    def _reason(self, kind: AlertKind, service: apprise.NotifyResult) -> str:
        """Return why one service failed, in words with no secret in them."""
        messages = list(dict.fromkeys(e.message for e in service.logs()))
        cause = "; ".join(messages) or "Apprise reported a failure without a reason"
        where = service.url.split("?", 1)[0]  # Apprise's privacy form of the URL
        status = service.status.name.lower()
        text = (
            f"{kind} alert to {service.name} {where} failed "
            f"({status} after {service.elapsed:.1f} s): {cause}"
        )
        return scrub(text, self._secrets)[:_MAX_REASON_CHARS]

    def _report(self, kind: AlertKind, reason: str) -> None:
        log.warning("%s", reason)
        if self._on_failure is None:
            return
        try:
            self._on_failure(kind, reason)
        except Exception:
            log.exception("the on_failure callback of the alerts raised")
