"""Alerts config: ${ENV_VAR} secrets expanded from the environment, errors that name the key and
the variable but never a value, and URLs shown without their secrets."""

from __future__ import annotations

import logging
from urllib.parse import quote

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from seeker.core.alerts_config import (
    REDACTED,
    AlertsConfig,
    AlertsConfigError,
    hidden_parts,
    redact_url,
    resolve_targets,
    scrub,
)

TG_TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"
ENV = {"SEEKER_TG_TOKEN": TG_TOKEN, "SEEKER_HOOK_PW": "hunter2pw", "EMPTY": ""}


def config(urls: list[str], events: list[str] | None = None, **extra: object) -> AlertsConfig:
    data = {"urls": urls, "events": ["fill"] if events is None else events, **extra}
    return AlertsConfig.model_validate(data, context={"environ": ENV})


def test_placeholders_expand_from_the_environment_and_stay_out_of_repr() -> None:
    cfg = config(
        ["tgram://${SEEKER_TG_TOKEN}/987654", "json://bot:${SEEKER_HOOK_PW}@127.0.0.1:8080/hook"]
    )
    assert cfg.urls[0] == "tgram://${SEEKER_TG_TOKEN}/987654"  # the model keeps the templates
    tg, hook = resolve_targets(cfg, ENV)
    assert tg.url == f"tgram://{TG_TOKEN}/987654"
    assert hook.url == "json://bot:hunter2pw@127.0.0.1:8080/hook"
    for target in (tg, hook):
        shown = repr(target) + target.shown + repr(cfg) + str(cfg.model_dump())
        assert TG_TOKEN not in shown and "AAHdqTcv" not in shown and "hunter2pw" not in shown
    assert tg.shown.startswith("tgram://") and "987654" in tg.shown
    assert hook.shown == "json://bot:****@127.0.0.1:8080/hook"


def test_dollar_dollar_is_a_literal_dollar() -> None:
    (target,) = resolve_targets(config(["json://bot:pa$$word@127.0.0.1/hook"]), ENV)
    assert target.url == "json://bot:pa$word@127.0.0.1/hook"


def test_an_unset_variable_is_an_error_naming_key_and_variable_but_no_value() -> None:
    urls = ["tgram://${SEEKER_TG_TOKEN}/1", "json://x:${SEEKER_NOT_SET}@127.0.0.1/${EMPTY}"]
    with pytest.raises(ValidationError) as info:
        config(urls)
    (err,) = info.value.errors()
    assert err["loc"] == ("urls",)
    assert "[1] environment variable SEEKER_NOT_SET is not set" in err["msg"]
    assert "[1] environment variable EMPTY is empty" in err["msg"]
    assert TG_TOKEN not in str(info.value) and "AAHdqTcv" not in err["msg"]
    # and the same at start, if the environment changed since the config was read
    cfg = AlertsConfig.model_validate(
        {"urls": urls[:1], "events": ["fill"]}, context={"environ": ENV}
    )
    with pytest.raises(AlertsConfigError) as start:
        resolve_targets(cfg, {})
    assert start.value.problems == [
        "alerts.urls[0]: environment variable SEEKER_TG_TOKEN is not set "
        "(placeholder ${SEEKER_TG_TOKEN})"
    ]


def test_bad_urls_are_errors_that_show_no_value_not_even_in_apprise_logs(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    urls = [
        "json://bot:$ecretpass@127.0.0.1/hook",
        "bogus://topsecretvalue",
        "tgram://badtokenSECRET/123",
        "json://user:pwSECRET@",
    ]
    with pytest.raises(ValidationError) as info:
        config(urls)
    msg = info.value.errors()[0]["msg"]
    assert "[0] '$' at character 12 starts no ${NAME} placeholder (write $$" in msg
    assert "[1] Apprise cannot use this 'bogus' URL" in msg
    assert "[2] Apprise cannot use this 'tgram' URL" in msg
    assert "[3] Apprise cannot use this 'json' URL" in msg
    logged = "\n".join(r.getMessage() for r in caplog.records)
    for secret in ("ecretpass", "topsecretvalue", "badtokenSECRET", "pwSECRET"):
        assert secret not in str(info.value) and secret not in logged


def test_events_are_a_closed_list_without_duplicates_and_needed_when_alerts_are_on() -> None:
    with pytest.raises(ValidationError, match="listed more than once: fill"):
        config([], ["fill", "stop", "fill"])
    with pytest.raises(ValidationError, match="literal_error"):
        config([], ["fills"])
    with pytest.raises(ValidationError, match="events is empty, so no alert would ever be sent"):
        config(["json://127.0.0.1/hook"], [])
    with pytest.raises(ValidationError, match=r"urls\n.*Field required"):
        AlertsConfig.model_validate({"events": ["fill"]})
    off = config([], [])
    assert not off.enabled and resolve_targets(off, {}) == ()
    every = config(
        ["json://127.0.0.1/hook"],
        ["fill", "stop", "kill_switch", "strategy_error", "reconciliation", "daily_summary"],
    )
    assert every.enabled and every.timeout_seconds == 10.0 and every.queue_size == 100


@pytest.mark.parametrize(
    "extra",
    [
        {"timeout_seconds": float("nan")},
        {"timeout_seconds": float("inf")},
        {"timeout_seconds": 0.0},
        {"timeout_seconds": 121.0},
        {"queue_size": 0},
        {"queue_size": 2.5},
        {"retries": 3},
    ],
)
def test_mechanics_are_bounded_and_unknown_keys_refused(extra: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        config([], [], **extra)


def test_redact_url_hides_tokens_and_passwords() -> None:
    tg = redact_url(f"tgram://{TG_TOKEN}/987654")
    assert tg.startswith("tgram://") and "987654" in tg
    assert "AAHdqTcv" not in tg and "123456789" not in tg
    hook = redact_url("json://user:hunter2pw@example.org:8443/path")
    assert hook == "json://user:****@example.org:8443/path"
    discord = redact_url("discord://4174216298/JHMHI8qBe7bk2ZwO5U711o3dV_js")
    assert "JHMHI8qBe7bk2ZwO5U711o3dV_js" not in discord and "4174216298" not in discord
    assert redact_url("bogus://user:hunter2pw@x") == f"bogus://{REDACTED}"
    assert set(hidden_parts(f"tgram://{TG_TOKEN}/987654")) == set(TG_TOKEN.split(":"))
    assert hidden_parts("json://user:hunter2pw@example.org/path") == ("hunter2pw",)


def test_a_whole_url_in_one_variable_is_shown_redacted() -> None:
    env = {"SEEKER_ALERT_URL": f"tgram://{TG_TOKEN}/987654"}
    cfg = AlertsConfig.model_validate(
        {"urls": ["${SEEKER_ALERT_URL}"], "events": ["stop"]}, context={"environ": env}
    )
    (target,) = resolve_targets(cfg, env)
    assert target.url == env["SEEKER_ALERT_URL"]
    assert "AAHdqTcv" not in target.shown and target.shown.startswith("tgram://")


secret_text = st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCDEFXYZ0123456789", min_size=3)


@settings(max_examples=200, deadline=None)
@given(
    secrets=st.lists(secret_text, min_size=1, max_size=4),
    chunks=st.lists(st.text(max_size=12), min_size=1, max_size=6),
)
def test_scrub_leaves_no_secret_in_any_text(secrets: list[str], chunks: list[str]) -> None:
    text = "".join(c + secrets[i % len(secrets)] for i, c in enumerate(chunks))
    out = scrub(text, secrets)
    for secret in secrets:
        assert secret not in out


def test_scrub_also_catches_the_url_quoted_form() -> None:
    secret = "p@ss/w:rd"
    text = f"GET http://x/{quote(secret, safe='')} and raw {secret}"
    assert scrub(text, [secret]) == "GET http://x/*** and raw ***"
