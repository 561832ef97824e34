"""What every command shares: consoles, the config and log-folder options, failing with exit 2.

Only light modules are imported here (typer, rich's console): a command imports what it needs
when it runs, so ``seeker --help`` and ``seeker list`` start in a fraction of a second.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer

from seeker.ui.console import make_console

if TYPE_CHECKING:
    from seeker.config.root import SeekerConfig

console = make_console()
err = make_console(stderr=True)

CONFIG_ENV = "SEEKER_CONFIG"
"""Environment variable naming the config file when ``--config`` is not given."""

DEFAULT_CONFIG = Path("config/seeker.toml")

ConfigOption = Annotated[
    Path,
    typer.Option(
        "--config",
        "-c",
        metavar="PATH",
        envvar=CONFIG_ENV,
        help=f"Config file (TOML); or set {CONFIG_ENV}.",
        show_default=True,
    ),
]
LogDirOption = Annotated[
    Path | None,
    typer.Option("--log-dir", metavar="DIR", help="Journal folder (default: runtime.log_dir)."),
]
CandidateOption = Annotated[
    Path | None,
    typer.Option(
        "--candidate",
        help="Overlay a candidate (seeker optimize --export) on its strategy's table.",
    ),
]


def complete_strategy(incomplete: str) -> list[str]:
    """Return the strategy names that start with `incomplete` (shell completion)."""
    from seeker.strategies.catalog import strategy_names

    return [n for n in strategy_names() if n.startswith(incomplete)]


def fail(lines: list[str], code: int = 2) -> NoReturn:
    """Print each problem on its own line to stderr and exit with `code`."""
    from rich.markup import escape

    for line in lines:
        err.print(f"[bold red]error[/]: {escape(line)}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def missing_config(path: Path) -> str | None:
    """Return why the config file at `path` cannot be used (the folder searched, how to point
    at another one), or None when it is a file."""
    if path.expanduser().is_file():
        return None
    folder = path.expanduser().parent.resolve()
    return (
        f"config file {path} not found (looked in {folder}/); run from Seeker's folder, or "
        f"point at one with --config PATH or {CONFIG_ENV}=PATH"
    )


def load_checked_config(path: Path) -> SeekerConfig:
    """Return the validated config at `path`, or fail with one line per problem (exit 2)."""
    from seeker.config.loading import ConfigError, load_config
    from seeker.engine.registry import config_models
    from seeker.strategies import load

    problem = missing_config(path)
    if problem is not None:
        fail([problem])
    try:
        return load_config(path, config_models(load()))
    except ConfigError as exc:
        fail([f"config {path}: {p}" if not p.startswith(str(path)) else p for p in exc.problems])


def log_root(cfg: SeekerConfig, log_dir: Path | None) -> Path:
    """Return the journal folder: --log-dir when given, else runtime.log_dir."""
    return log_dir if log_dir is not None else cfg.log_root()
