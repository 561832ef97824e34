"""What the read commands take from the config, read without loading every table's model.

``seeker journal`` needs only the journal folder, ``seeker summary`` also the capital and the
five caps. Validating the whole config means importing every strategy, agent and broker (most
of a second); reading journals must not wait for that, nor fail on a strategy table that has
nothing to do with them. So these commands read the TOML and check the keys they use — with
the same models and the same one-line-per-key errors (exit 2) as the full check, which
``seeker check-config`` and ``seeker run`` still do.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from seeker.cli.common import fail, missing_config

if TYPE_CHECKING:
    from pydantic import BaseModel

    from seeker.agents.risk_guard import Caps, RiskConfig

DEFAULT_LOG_DIR = "logs"
"""``runtime.log_dir`` when the config does not set it (the root model's default)."""


@dataclass(frozen=True)
class ReadSettings:
    """The parsed config file, for the keys the read commands use."""

    path: Path
    data: Mapping[str, Any]

    def table(self, name: str) -> Mapping[str, Any]:
        """Return a top-level table (empty when absent)."""
        value = self.data.get(name, {})
        if not isinstance(value, Mapping):
            fail([f"config {self.path}: {name}: expected a table"])
        return value

    def log_root(self, override: Path | None = None) -> Path:
        """Return the journal folder: `override` (``--log-dir``), else ``runtime.log_dir``."""
        if override is not None:
            return override
        value = self.table("runtime").get("log_dir", DEFAULT_LOG_DIR)
        if not isinstance(value, str) or not value:
            fail([f"config {self.path}: runtime.log_dir: expected a folder name (got {value!r})"])
        return Path(value).expanduser()

    def _model(self, name: str, model: type[BaseModel]) -> BaseModel:
        from pydantic import ValidationError

        if name not in self.data:
            fail([f"config {self.path}: {name}: required key is missing"])
        try:
            return model.model_validate(self.table(name))
        except ValidationError as exc:
            fail([f"config {self.path}: {_where(name, e)}" for e in exc.errors()])

    def risk(self) -> RiskConfig:
        """Return the validated ``[risk]`` table (the five caps' percentages)."""
        from seeker.agents.risk_guard import RiskConfig

        risk = self._model("risk", RiskConfig)
        assert isinstance(risk, RiskConfig)
        return risk

    def caps(self) -> Caps:
        """Return the Risk Guard's caps ($ of the capital currency) from [account] and [risk]."""
        from seeker.agents.risk_guard import Caps, RiskConfig
        from seeker.core.account import AccountConfig

        account = self._model("account", AccountConfig)
        risk = self._model("risk", RiskConfig)
        assert isinstance(account, AccountConfig) and isinstance(risk, RiskConfig)
        return Caps.from_config(risk, account.capital)

    def capital_currency(self) -> str:
        """Return ``account.capital_currency`` (checked with the account's model)."""
        from seeker.core.account import AccountConfig

        account = self._model("account", AccountConfig)
        assert isinstance(account, AccountConfig)
        return account.capital_currency

    def enabled(self) -> list[str]:
        """Return ``strategies.enabled`` as written (empty when absent or not a list)."""
        value = self.table("strategies").get("enabled", [])
        return [str(v) for v in value] if isinstance(value, list) else []


def _where(table: str, error: Mapping[str, Any]) -> str:
    loc = ".".join(str(p) for p in (table, *error.get("loc", ())))
    kind = error.get("type", "")
    if kind == "missing":
        return f"{loc}: required key is missing (no default for trading values)"
    if kind == "extra_forbidden":
        return f"{loc}: unknown key"
    msg = str(error.get("msg", "invalid value")).removeprefix("Value error, ")
    return f"{loc}: {msg} (got {error.get('input')!r})"


def read_settings(path: Path) -> ReadSettings:
    """Return the config at `path` parsed, or fail (exit 2) saying why it cannot be read."""
    problem = missing_config(path)
    if problem is not None:
        fail([problem])
    try:
        with path.expanduser().open("rb") as fh:
            data = tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        fail([f"{path}: not valid TOML: {exc}"])
    except OSError as exc:
        fail([f"{path}: cannot read: {exc}"])
    return ReadSettings(path, data)
