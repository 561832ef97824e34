"""What every command shares: consoles, the config and log-folder options, failing with exit 2."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, NoReturn

import typer

from seeker.config.loading import ConfigError, load_config
from seeker.config.root import SeekerConfig
from seeker.engine.registry import config_models
from seeker.strategies import load
from seeker.ui.console import make_console

console = make_console()
err = make_console(stderr=True)

DEFAULT_CONFIG = Path("config/seeker.toml")

ConfigOption = Annotated[
    Path, typer.Option("--config", "-c", help="Config file (TOML).", show_default=True)
]
LogDirOption = Annotated[
    Path | None, typer.Option("--log-dir", help="Journal folder (default: runtime.log_dir).")
]


def fail(lines: list[str], code: int = 2) -> NoReturn:
    """Print each problem on its own line to stderr and exit with `code`."""
    for line in lines:
        err.print(f"[bold red]error[/]: {line}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def load_checked_config(path: Path) -> SeekerConfig:
    """Return the validated config at `path`, or fail with one line per problem (exit 2)."""
    try:
        return load_config(path, config_models(load()))
    except ConfigError as exc:
        fail([f"config {path}: {p}" if not p.startswith(str(path)) else p for p in exc.problems])


def log_root(cfg: SeekerConfig, log_dir: Path | None) -> Path:
    """Return the journal folder: --log-dir when given, else runtime.log_dir."""
    return log_dir if log_dir is not None else cfg.log_root()
