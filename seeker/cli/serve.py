"""``seeker serve``: the dark web dashboard and the spec's HTTP API, beside ``seeker run`` or alone.

It reads the same journals, status file and config as the other commands. It listens on
127.0.0.1 unless told otherwise; requests that change something (control buttons, ``/decision``,
writing an edited config) need the token from ``SEEKER_WEB_TOKEN`` or ``--token-file``, which is
never served nor logged. ``--run`` also starts ``seeker run --no-dashboard`` on the same config
and log folder (the Docker image's command) and stops it when the server stops. Ctrl+C or
SIGTERM stops both; the exit code is then 0.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from types import FrameType
from typing import Annotated

import typer

from seeker.cli.common import CONFIG_ENV as SEEKER_CONFIG_ENV
from seeker.cli.common import DEFAULT_CONFIG, LogDirOption, err, fail, load_checked_config, log_root
from seeker.strategies import load

CONFIG_ENV = "CONFIG_PATH"
"""The container's config variable (Dockerfile); ``$SEEKER_CONFIG`` works too, as elsewhere."""
RUNNER_STOP_SECONDS = 20.0


def _server_class() -> type:
    import uvicorn

    class Server(uvicorn.Server):
        """uvicorn's server that also ends live-update streams at once and exits 0 on a signal."""

        def handle_exit(self, sig: int, frame: FrameType | None) -> None:
            super().handle_exit(sig, frame)
            app = self.config.loaded_app
            state = getattr(getattr(app, "app", app), "state", None) if app else None
            loop = getattr(state, "loop", None)
            stopping = getattr(state, "stopping", None)
            if loop is not None and stopping is not None:
                loop.call_soon_threadsafe(stopping.set)

        @contextlib.contextmanager
        def capture_signals(self) -> Iterator[None]:
            if threading.current_thread() is not threading.main_thread():
                yield
                return
            sigs = (signal.SIGINT, signal.SIGTERM)
            originals = {s: signal.signal(s, self.handle_exit) for s in sigs}
            try:
                yield
            finally:
                for s, handler in originals.items():
                    signal.signal(s, handler)

    return Server


def _start_runner(config: Path, root: Path) -> subprocess.Popen[bytes]:
    cmd = [
        sys.executable,
        "-m",
        "seeker",
        "run",
        "--config",
        str(config),
        "--log-dir",
        str(root),
        "--no-dashboard",
    ]
    print(f"seeker serve: starting the runner: {' '.join(cmd[1:])}", flush=True)
    return subprocess.Popen(cmd, start_new_session=True)


def _stop_runner(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is not None:
        print(f"seeker serve: the runner had exited with code {proc.returncode}", flush=True)
        return
    proc.send_signal(signal.SIGTERM)
    try:
        code = proc.wait(RUNNER_STOP_SECONDS)
    except subprocess.TimeoutExpired:
        proc.kill()
        code = proc.wait()
    print(f"seeker serve: the runner stopped (exit code {code})", flush=True)


def serve(
    config: Annotated[
        Path,
        typer.Option(
            "--config",
            "-c",
            envvar=[CONFIG_ENV, SEEKER_CONFIG_ENV],
            help="Config file (TOML); or $CONFIG_PATH, else $SEEKER_CONFIG.",
        ),
    ] = DEFAULT_CONFIG,
    host: Annotated[
        str, typer.Option("--host", help="Address to listen on (loopback by default).")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=1, max=65535, help="TCP port.")] = 8000,
    log_dir: LogDirOption = None,
    data_dir: Annotated[
        Path | None,
        typer.Option(
            "--data-dir",
            help="Folder of the web's own journals: API decisions (decisions.jsonl), config "
            "edits (default: <log dir>/_web).",
        ),
    ] = None,
    edits_dir: Annotated[
        Path | None,
        typer.Option(
            "--edits-dir",
            help="Where edited configs are written, a new file each (default: the config's "
            "folder).",
        ),
    ] = None,
    token_file: Annotated[
        Path | None,
        typer.Option(
            "--token-file", help="Read the token from this file instead of $SEEKER_WEB_TOKEN."
        ),
    ] = None,
    run: Annotated[
        bool,
        typer.Option("--run", help="Also start `seeker run --no-dashboard` and stop it on exit."),
    ] = False,
    poll: Annotated[
        float,
        typer.Option("--poll", min=0.1, max=60.0, help="Seconds between looks for new lines."),
    ] = 1.0,
) -> None:
    """Serve the web dashboard and the HTTP API on http://HOST:PORT/ (Ctrl+C stops)."""
    import uvicorn

    from seeker.web.app import create_app
    from seeker.web.settings import DATA_FOLDER, WebSettings, read_token

    cfg = load_checked_config(config)
    root = log_root(cfg, log_dir)
    try:
        token = read_token(token_file=token_file)
    except ValueError as exc:
        fail([str(exc)])
    settings = WebSettings(
        config_path=config.resolve(),
        config=cfg,
        log_root=root,
        data_dir=data_dir if data_dir is not None else root / DATA_FOLDER,
        edits_dir=edits_dir if edits_dir is not None else config.resolve().parent,
        token=token,
        poll_seconds=poll,
        host=host,
    )
    root.mkdir(parents=True, exist_ok=True)
    app = create_app(settings, dict(load()))
    if not settings.loopback:
        err.print(
            f"[yellow]warning[/]: listening on {host}, not only on this machine: read-only pages "
            "are open to whoever reaches it; keep it behind a firewall or a published "
            "127.0.0.1 port",
            highlight=False,
        )
    if token is None:
        err.print(
            "[yellow]note[/]: no token ($SEEKER_WEB_TOKEN or --token-file): buttons and requests "
            "that change something are refused (401)",
            highlight=False,
        )
    print(
        f"seeker serve: http://{'localhost' if settings.loopback else host}:{port}/ "
        f"(journals {root}/, config {settings.config_path}, pid {os.getpid()})",
        flush=True,
    )
    runner = _start_runner(config.resolve(), root) if run else None
    server_cls = _server_class()
    server = server_cls(
        uvicorn.Config(
            app,
            host=host,
            port=port,
            log_level="warning",
            timeout_graceful_shutdown=3,
            lifespan="on",
        )
    )
    try:
        server.run()
    finally:
        if runner is not None:
            _stop_runner(runner)
    if not server.started:
        fail([f"cannot listen on {host}:{port} (is the port taken?)"], code=1)
    print("seeker serve: stopped", flush=True)
