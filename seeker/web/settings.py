"""What ``seeker serve`` hands the web app: the config, the folders, and the token (kept secret)."""

from __future__ import annotations

import hmac
import os
from dataclasses import dataclass, field
from pathlib import Path

from seeker.config.root import SeekerConfig

TOKEN_ENV = "SEEKER_WEB_TOKEN"
"""Environment variable holding the token that state-changing requests must carry."""

MIN_TOKEN_CHARS = 16
"""Shortest token accepted (a guessable token is refused at start)."""

DATA_FOLDER = "_web"
"""Folder under the log root for the web's own journals when no --data-dir is given."""

LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")


class Token:
    """A secret compared in constant time; its text is never shown (repr, str, logs)."""

    __slots__ = ("_secret",)

    def __init__(self, secret: str) -> None:
        if len(secret) < MIN_TOKEN_CHARS:
            raise ValueError(f"the web token must have at least {MIN_TOKEN_CHARS} characters")
        self._secret = secret.encode()

    def matches(self, offered: str) -> bool:
        """Return True when `offered` is the token (constant-time comparison)."""
        return hmac.compare_digest(self._secret, offered.encode())

    def __repr__(self) -> str:
        return "Token(***)"

    __str__ = __repr__


def read_token(env: dict[str, str] | None = None, token_file: Path | None = None) -> Token | None:
    """Return the token from a file (first line) or the environment, None when neither has one.

    ValueError names the source when the token is too short or the file unreadable.
    """
    if token_file is not None:
        try:
            text = token_file.read_text().strip()
        except OSError as exc:
            raise ValueError(f"--token-file {token_file}: cannot read: {exc.strerror}") from None
        try:
            return Token(text)
        except ValueError as exc:
            raise ValueError(f"--token-file {token_file}: {exc}") from None
    value = (env if env is not None else dict(os.environ)).get(TOKEN_ENV, "").strip()
    if not value:
        return None
    try:
        return Token(value)
    except ValueError as exc:
        raise ValueError(f"{TOKEN_ENV}: {exc}") from None


@dataclass(frozen=True)
class WebSettings:
    """Everything the app reads: the validated config and where things are.

    `log_root`: the journals (as ``seeker run`` writes them); `data_dir`: the web's own journals
    (API decisions, config edits); `edits_dir`: where edited configs are written (a new file each
    time); `token`: None disables every state-changing request; `poll_seconds`: how often live
    updates look for new journal lines; `host`: the address served (loopback by default).
    """

    config_path: Path
    config: SeekerConfig
    log_root: Path
    data_dir: Path
    edits_dir: Path
    token: Token | None = field(repr=False)
    poll_seconds: float = 1.0
    host: str = "127.0.0.1"

    @property
    def loopback(self) -> bool:
        """Return True when the server listens on the loopback interface only."""
        return self.host in LOOPBACK_HOSTS
