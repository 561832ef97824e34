"""``seeker optimize``: search a strategy's own parameters offline, grade the result, report it.

Every trial is real runs of the engine (the simulated market with several seeds, or replay
windows); the search never touches a hard constraint; the result is a graded candidate file,
never a change to the config.
"""

from __future__ import annotations

import functools
import signal
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Annotated, Any, Literal

import typer

from seeker.cli.common import DEFAULT_CONFIG, ConfigOption, LogDirOption, console, fail

if TYPE_CHECKING:
    from seeker.research.evidence import Evaluation
    from seeker.research.settings import StudySettings
    from seeker.research.setup import StudyRequest

Sampler = Literal["tpe", "grid"]
Scheme = Literal["anchored", "rolling"]


def _ints(option: str, text: str | None) -> list[int] | None:
    if text is None:
        return None
    out = []
    for part in text.replace(" ", "").split(","):
        if not part.isdigit():
            fail([f"{option} {text!r}: expected whole numbers separated by commas (got {part!r})"])
        out.append(int(part))
    if len(set(out)) != len(out):
        fail([f"{option} {text!r}: a seed is listed twice"])
    return out


def _date(option: str, text: str | None) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        fail([f"{option} {text!r}: expected YYYY-MM-DD"])
        return None


def optimize(
    strategy: Annotated[str, typer.Argument(help="The strategy whose parameters are searched.")],
    space: Annotated[
        Path | None,
        typer.Option("--space", help="Search space (TOML), e.g. config/search/<strategy>.toml."),
    ] = None,
    sampler: Annotated[
        Sampler, typer.Option("--sampler", help="tpe (Bayesian) or grid (every point in order).")
    ] = "tpe",
    trials: Annotated[int, typer.Option("--trials", min=1, help="Completed trials wanted.")] = 50,
    seeds: Annotated[
        str | None,
        typer.Option("--seeds", help="In-sample sim seeds, comma separated (default sim.seed)."),
    ] = None,
    oos_seeds: Annotated[
        str | None,
        typer.Option(
            "--oos-seeds",
            help="Out-of-sample sim seeds (default: the in-sample seeds' later sessions).",
        ),
    ] = None,
    sessions: Annotated[
        int, typer.Option("--sessions", min=5, help="Graded sessions per simulated run.")
    ] = 60,
    tail: Annotated[
        int,
        typer.Option("--tail", min=0, help="Extra sessions per run so open positions can close."),
    ] = 0,
    data: Annotated[
        list[Path] | None,
        typer.Option("--data", help="Replay chain store (repeat for several); replaces the sim."),
    ] = None,
    first: Annotated[str | None, typer.Option("--from", help="Replay from this date.")] = None,
    last: Annotated[str | None, typer.Option("--to", help="Replay up to this date.")] = None,
    underlyings: Annotated[
        str | None,
        typer.Option("--underlyings", help="Trade only these listings (comma separated)."),
    ] = None,
    folds: Annotated[int, typer.Option("--folds", min=1, help="Walk-forward folds.")] = 3,
    scheme: Annotated[Scheme, typer.Option("--scheme", help="anchored or rolling.")] = "anchored",
    oos_sessions: Annotated[
        int | None,
        typer.Option("--oos-sessions", min=1, help="Sessions per out-of-sample window."),
    ] = None,
    embargo: Annotated[
        int, typer.Option("--embargo", min=0, help="Sessions skipped between IS and OOS.")
    ] = 0,
    by_regime: Annotated[
        bool, typer.Option("--by-regime", help="Also pick parameters per regime at entry.")
    ] = False,
    min_regime_trades: Annotated[
        int, typer.Option("--min-regime-trades", min=1, help="Trades a regime cell needs.")
    ] = 10,
    workers: Annotated[
        int | None, typer.Option("--workers", min=1, help="Run trials in N local processes.")
    ] = None,
    dask: Annotated[
        str | None,
        typer.Option("--dask", help="Run trials on the Dask cluster at this scheduler address."),
    ] = None,
    batch: Annotated[
        int, typer.Option("--batch", min=1, help="Trials asked at once (same batch, same trials).")
    ] = 4,
    seed: Annotated[int, typer.Option("--seed", min=0, help="Sampler and bootstrap seed.")] = 0,
    stability: Annotated[
        bool,
        typer.Option("--stability/--no-stability", help="Run the ±10/20 % neighbours (graded)."),
    ] = True,
    study: Annotated[
        str | None,
        typer.Option("--study", help="Study name (default: strategy and a hash of the settings)."),
    ] = None,
    report: Annotated[
        str | None,
        typer.Option("--report", help="Write this study's HTML report and print its summary."),
    ] = None,
    out: Annotated[Path | None, typer.Option("--out", help="Where to write the report.")] = None,
    export: Annotated[
        bool, typer.Option("--export", help="Write the candidate to config/candidates/.")
    ] = False,
    config: ConfigOption = DEFAULT_CONFIG,
    log_dir: LogDirOption = None,
) -> None:
    """Search a strategy's own parameters on real runs, grade the result out of sample."""
    import optuna

    from seeker.config.loading import ConfigError
    from seeker.research.space import SearchSpaceError
    from seeker.research.study import StudyError

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    if space is None and report is None:
        fail(["give --space FILE to search, or --report STUDY to report a stored study"])
    if workers is not None and dask is not None:
        fail(["--workers and --dask exclude each other: pick one"])
    request = None
    if space is not None:
        from seeker.engine.registry import config_models
        from seeker.research.setup import StudyRequest
        from seeker.strategies import load

        request = StudyRequest(
            strategy=strategy,
            space_file=space,
            config_file=config,
            sampler=sampler,
            seed=seed,
            batch=batch,
            seeds=_ints("--seeds", seeds),
            oos_seeds=_ints("--oos-seeds", oos_seeds) or [],
            sessions=sessions,
            tail=tail,
            data=data or [],
            first=_date("--from", first),
            last=_date("--to", last),
            underlyings=[u.strip() for u in underlyings.split(",") if u.strip()]
            if underlyings
            else None,
            n_folds=folds,
            scheme=scheme,
            oos_sessions=oos_sessions,
            embargo=embargo,
            stability=stability,
            by_regime=by_regime,
            min_regime_trades=min_regime_trades,
            registry_models=config_models(load()),
        )
    try:
        _run(
            strategy,
            request,
            trials,
            Workers(workers, dask),
            study,
            report,
            out,
            export,
            config,
            log_dir,
        )
    except SearchSpaceError as exc:
        fail([f"space {space}: {p}" for p in exc.problems])
    except ConfigError as exc:
        fail([p if p.startswith(str(config)) else f"config {config}: {p}" for p in exc.problems])
    except StudyError as exc:
        fail([str(exc)])


@dataclass(frozen=True)
class Workers:
    """Where the runs go: N local processes, a Dask scheduler, or (neither) this process."""

    processes: int | None
    dask: str | None


def _run(
    strategy: str,
    request: StudyRequest | None,
    trials: int,
    workers: Workers,
    study_name: str | None,
    report: str | None,
    out: Path | None,
    export: bool,
    config: Path,
    log_dir: Path | None,
) -> None:
    from seeker.cli.common import load_checked_config, log_root
    from seeker.reports.trials import read_trades
    from seeker.research.evaluate import evaluate, stored_evaluation
    from seeker.research.executors import make_executor
    from seeker.research.setup import prepare
    from seeker.research.study import StudyError, load_study, open_study, search, settings_of
    from seeker.research.trial import run_job
    from seeker.ui.study_view import StudyProgress

    cfg = load_checked_config(config)
    root = log_root(cfg, log_dir)
    name = report or study_name
    if request is not None:
        setup = prepare(request)
        name = name or f"{strategy}-{setup.settings.digest()}"
        the_study = open_study(root, name, setup.settings)
        try:
            executor = make_executor(workers.processes, workers.dask)
        except (OSError, TimeoutError, ValueError) as exc:
            fail([f"cannot reach the workers: {exc}"], code=1)
        runner = functools.partial(run_job, reader=read_trades)
        print(
            f"seeker: study {name} of {strategy} in {root}/_research/studies.db: {trials} "
            f"trials ({setup.settings.sampler}) on {executor.description}",
            flush=True,
        )
        previous = signal.signal(signal.SIGTERM, _interrupt)
        try:
            with StudyProgress(console) as progress:
                search(the_study, setup, trials, executor, runner, progress)
                evaluation = evaluate(the_study, setup, executor, runner, progress)
        except KeyboardInterrupt:
            print(
                f"seeker: study {name} interrupted; its completed trials are stored in "
                f"{root}/_research/studies.db: run the same command to resume",
                flush=True,
            )
            raise typer.Exit(0) from None
        finally:
            signal.signal(signal.SIGTERM, previous)
            executor.close()
        base = setup.table.model_dump(mode="json")
    else:
        assert name is not None
        the_study = load_study(root, name)
        stored = stored_evaluation(the_study)
        if stored is None:
            raise StudyError(
                f"study {name!r} is not graded yet: run it again with its --space (it resumes, "
                "then grades)"
            )
        evaluation, base = stored, {}
    if evaluation.strategy != strategy:
        raise StudyError(f"study {name!r} is of {evaluation.strategy}, not {strategy}")
    settings = settings_of(the_study)
    _summary(evaluation, settings, base)
    if report is not None:
        from seeker.reports.study_report import write_report

        path = out or root / "_research" / name / "report.html"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(write_report(the_study, settings, evaluation))
        print(f"seeker: report written to {path}", flush=True)
    if export:
        from seeker.research.candidate import candidate_document, candidate_path, write_candidate
        from seeker.research.study import storage_path

        target = candidate_path(config, strategy, name)
        write_candidate(target, candidate_document(evaluation, settings, storage_path(root)))
        print(f"seeker: candidate (grade {evaluation.card.grade}) written to {target}", flush=True)


def _interrupt(signum: int, _frame: FrameType | None) -> None:
    """Turn SIGTERM into the same clean stop as Ctrl+C."""
    raise KeyboardInterrupt(signal.Signals(signum).name)


def _summary(evaluation: Evaluation, settings: StudySettings, table: Mapping[str, Any]) -> None:
    from seeker.ui.study_view import print_evaluation

    base = {name: _lookup(table, name) for name in evaluation.candidate_point}
    sources = "in sample: " + ", ".join(s.key for s in settings.sources)
    sources += "; out of sample: " + ", ".join(s.key for s in settings.test_sources())
    print_evaluation(console, evaluation, sources, base)


def _lookup(table: Mapping[str, Any], dotted: str) -> object:
    value: object = table
    for part in dotted.split("."):
        if not isinstance(value, Mapping) or part not in value:
            return None
        value = value[part]
    return value
