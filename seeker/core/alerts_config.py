"""The ``[alerts]`` config: Apprise URLs with ``${ENV_VAR}`` secrets, the kinds that notify, and
the redaction of secrets.

A URL is written with its secrets as placeholders (``tgram://${SEEKER_TG_TOKEN}/12345``) and
expanded from the environment at start. A placeholder whose variable is unset or empty is a config
error naming the key and the variable, never a value. Secrets are never shown: a URL is displayed
through Apprise's privacy mode, and every text about a delivery is scrubbed of the placeholder
values and of the parts Apprise hides.
"""

from __future__ import annotations

import logging
import os
import re
import string
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal, get_args
from urllib.parse import quote, unquote

from pydantic import ConfigDict, Field, ValidationInfo, field_validator, model_validator

from seeker.core.config_base import StrictModel

if TYPE_CHECKING:  # Apprise is imported when a URL is read (~50 ms a start-up otherwise)
    import apprise

AlertKind = Literal[
    "fill", "stop", "kill_switch", "strategy_error", "reconciliation", "daily_summary"
]
"""What an alert is about: a fill, a stop or red line, the kill switch, a strategy's error, a
reconciliation finding, the daily summary."""

ALERT_KINDS: tuple[AlertKind, ...] = get_args(AlertKind)

APPRISE_LOGGER = "apprise"
"""The one logger Apprise and its plugins write to."""

REDACTED = "***"
"""What a secret is replaced with in any text Seeker shows."""

_MIN_DERIVED_SECRET = 3
"""Shortest URL part treated as secret because Apprise hides it (shorter ones garble text)."""


class _UrlTemplate(string.Template):
    """``${NAME}`` placeholders only; ``$$`` is a literal ``$``; a bare ``$NAME`` is invalid."""

    idpattern = r"(?!)"
    braceidpattern = r"[A-Za-z_][A-Za-z0-9_]*"


class AlertsConfigError(ValueError):
    """Raise with every problem of the alert URLs, one ``alerts.urls[i]: …`` line each."""

    def __init__(self, problems: Sequence[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = list(problems)


class AlertsConfig(StrictModel):
    """Where alerts go (Apprise URLs, empty = alerts off) and which kinds of event notify."""

    model_config = ConfigDict(hide_input_in_errors=True)

    urls: list[str]
    events: list[AlertKind]
    timeout_seconds: float = Field(default=10.0, gt=0.0, le=120.0, allow_inf_nan=False)
    queue_size: int = Field(default=100, ge=1, le=10_000)

    @field_validator("urls")
    @classmethod
    def _urls_expand_and_parse(cls, urls: list[str], info: ValidationInfo) -> list[str]:
        environ = _environ_from(info)
        problems: list[str] = []
        for index, template in enumerate(urls):
            problems.extend(f"[{index}] {p}" for p in _template_problems(template, environ))
            if urls.index(template) != index:
                problems.append(f"[{index}] is the same URL as [{urls.index(template)}]")
        if problems:
            raise ValueError("; ".join(problems))
        return urls

    @field_validator("events")
    @classmethod
    def _events_once(cls, events: list[AlertKind]) -> list[AlertKind]:
        twice = sorted({kind for kind in events if events.count(kind) > 1})
        if twice:
            raise ValueError(f"listed more than once: {', '.join(twice)}")
        return events

    @model_validator(mode="after")
    def _events_when_on(self) -> AlertsConfig:
        if self.urls and not self.events:
            raise ValueError(
                "events is empty, so no alert would ever be sent; list the kinds that notify "
                f"({', '.join(ALERT_KINDS)}) or write urls = [] to turn alerts off"
            )
        return self

    @property
    def enabled(self) -> bool:
        """Return whether alerts are on (at least one URL)."""
        return bool(self.urls)


@dataclass(frozen=True)
class AlertTarget:
    """One place alerts go: the expanded URL (secret), how it is shown, and what to scrub."""

    shown: str
    url: str = field(repr=False)
    secrets: tuple[str, ...] = field(repr=False)


def resolve_targets(
    config: AlertsConfig, environ: Mapping[str, str] | None = None
) -> tuple[AlertTarget, ...]:
    """Return the config's URLs expanded from the environment (the process's by default);
    AlertsConfigError, one line per problem, if one cannot be."""
    env = os.environ if environ is None else environ
    problems: list[str] = []
    targets: list[AlertTarget] = []
    for index, template in enumerate(config.urls):
        found = _template_problems(template, env)
        problems.extend(f"alerts.urls[{index}]: {p}" for p in found)
        if not found:
            targets.append(_target(template, env))
    if problems:
        raise AlertsConfigError(problems)
    return tuple(targets)


class _OtherThreadsOnly(logging.Filter):
    """Let through the records of every thread but one."""

    def __init__(self, thread_id: int) -> None:
        super().__init__()
        self.thread_id = thread_id

    def filter(self, record: logging.LogRecord) -> bool:
        return record.thread != self.thread_id


def instantiate_quietly(url: str) -> apprise.NotifyBase | None:
    """Return Apprise's service for `url`, or None if it cannot read it.

    Apprise logs a URL it cannot read with its secrets in it; this thread's Apprise records are
    dropped meanwhile (the caller says what is wrong, without the URL).
    """
    import apprise  # only when there is a URL to read

    mute = _OtherThreadsOnly(threading.get_ident())
    logger = logging.getLogger(APPRISE_LOGGER)
    logger.addFilter(mute)
    try:
        return apprise.Apprise.instantiate(url)
    finally:
        logger.removeFilter(mute)


def redact_url(url: str) -> str:
    """Return `url` as Apprise shows it in privacy mode, without its query; only its scheme if
    Apprise cannot read it."""
    plugin = instantiate_quietly(url)
    if plugin is None:
        return f"{_scheme(url)}://{REDACTED}"
    return plugin.url(privacy=True).split("?", 1)[0]


def hidden_parts(url: str) -> tuple[str, ...]:
    """Return the parts of `url` after its scheme (split at ``/ : @ ? & = #``) that Apprise's
    privacy mode hides."""
    plugin = instantiate_quietly(url)
    if plugin is None:
        return tuple(p for p in _url_parts(url) if len(p) >= _MIN_DERIVED_SECRET)
    shown = set(_url_parts(plugin.url(privacy=True)))
    return tuple(p for p in _url_parts(url) if p not in shown and len(p) >= _MIN_DERIVED_SECRET)


def scrub(text: str, secrets: Iterable[str]) -> str:
    """Return `text` with every secret (and its URL-quoted and unquoted forms) replaced by ***."""
    variants = {v for s in secrets if s for v in (s, quote(s, safe=""), unquote(s)) if v}
    for secret in sorted(variants, key=len, reverse=True):
        text = text.replace(secret, REDACTED)
    return text


def _target(template: str, environ: Mapping[str, str]) -> AlertTarget:
    names = _UrlTemplate(template).get_identifiers()
    url = _UrlTemplate(template).substitute({n: environ[n] for n in names})
    secrets = tuple(environ[n] for n in names) + hidden_parts(url)
    return AlertTarget(shown=scrub(redact_url(url), secrets), url=url, secrets=secrets)


def _template_problems(template: str, environ: Mapping[str, str]) -> list[str]:
    """Return what is wrong with one URL template (the words name variables, never values)."""
    problems = [
        f"'$' at character {m.start() + 1} starts no ${{NAME}} placeholder "
        "(write $$ for a literal $)"
        for m in _UrlTemplate.pattern.finditer(template)
        if m.group("invalid") is not None
    ]
    if problems:
        return problems
    names = _UrlTemplate(template).get_identifiers()
    for name in names:
        if name not in environ:
            problems.append(f"environment variable {name} is not set (placeholder ${{{name}}})")
        elif not environ[name]:
            problems.append(f"environment variable {name} is empty (placeholder ${{{name}}})")
    if problems:
        return problems
    url = _UrlTemplate(template).substitute({n: environ[n] for n in names})
    if instantiate_quietly(url) is None:
        problems.append(
            f"Apprise cannot use this {_scheme(url)!r} URL (unknown scheme or missing part; "
            "see https://github.com/caronc/apprise/wiki)"
        )
    return problems


def _environ_from(info: ValidationInfo) -> Mapping[str, str]:
    context = info.context
    if isinstance(context, Mapping) and isinstance(context.get("environ"), Mapping):
        return context["environ"]
    return os.environ


def _scheme(url: str) -> str:
    head = url.split("://", 1)[0] if "://" in url else ""
    return head if re.fullmatch(r"[A-Za-z][A-Za-z0-9+.-]{0,31}", head) else "?"


def _url_parts(url: str) -> list[str]:
    """Return the pieces of `url` after its scheme, split at ``/ : @ ? & = #``."""
    rest = url.split("://", 1)[-1]
    return [p for p in re.split(r"[/:@?&=#]+", rest) if p]
