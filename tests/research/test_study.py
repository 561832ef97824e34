"""Tests for the optimisation study: real runs per trial, SQLite storage, resume, pruning."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import optuna
import pytest
from optuna.trial import TrialState

from seeker.research.evaluate import evaluate
from seeker.research.executors import SerialExecutor
from seeker.research.runs import RunResult, annual_sharpe, window_pnl
from seeker.research.setup import prepare
from seeker.research.study import (
    REFUSED_ATTR,
    StudyError,
    completed,
    open_study,
    runs_of,
    search,
    storage_path,
    study_names,
)
from tests.research.conftest import Tiny
from tests.research.tiny import RUNNER, request, write_space


def test_every_trial_is_a_real_run_stored_in_sqlite_and_reproducible(tiny: Tiny) -> None:
    assert storage_path(tiny.logs).is_file()
    assert study_names(tiny.logs) == ["tiny"]
    trials = completed(tiny.study)
    assert [t.number for t in trials] == [0, 1, 2]
    assert len({tuple(sorted(t.params.items())) for t in trials}) == 3  # three grid points
    runs = [runs_of(t) for t in trials]
    assert all(len(r) == 1 and r[0].source == "sim seed 1, 10 sessions" for r in runs)
    assert any(r[0].trades for r in runs), "no trade at all: the tiny study proves nothing"
    for r in runs:
        for t in r[0].trades:
            assert t.regime != "unknown" and " · IVR " in t.regime  # regime at entry, from ORDER
    # the same point on the same market is the same run (deterministic engine, nothing cached)
    first = trials[0]
    point = tiny.setup.space.from_optuna(first.params)
    job = tiny.setup.jobs(tiny.setup.table_for(point), tiny.setup.settings.sources)[0]
    assert RUNNER(job) == runs[0][0]


def test_the_objective_is_the_annual_sharpe_over_the_search_window_only(tiny: Tiny) -> None:
    settings = tiny.setup.settings
    days = tiny.setup.sessions["sim seed 1, 10 sessions"]
    window = settings.folds.search_window(days)
    assert 0 < len(window) < len(days)  # out-of-sample sessions are never seen by the sampler
    for t in completed(tiny.study):
        run = runs_of(t)[0]
        assert t.value == pytest.approx(annual_sharpe(window_pnl(run.trades, window)))


def test_progress_counts_trials_then_grading_runs(tiny: Tiny) -> None:
    search_steps = [(d, n) for phase, d, n, _b in tiny.progress if phase == "search"]
    assert search_steps[0] == (0, 3) and search_steps[-1] == (3, 3)
    assert [d for d, _n in search_steps] == sorted(d for d, _n in search_steps)
    best = [b for phase, _d, _n, b in tiny.progress if phase == "search" and b is not None]
    assert best[-1] == max(t.value for t in completed(tiny.study))
    assert any(phase == "evaluate" for phase, *_ in tiny.progress)


def test_a_study_resumes_with_the_same_settings_and_refuses_others(
    tiny: Tiny, tmp_path: Path
) -> None:
    logs = tmp_path / "logs"
    shutil.copytree(tiny.logs, logs)
    again = open_study(logs, "tiny", tiny.setup.settings)
    assert len(completed(again)) == 3
    added = search(again, tiny.setup, 4, SerialExecutor(), RUNNER)
    assert added == 1
    points = {tuple(sorted(t.params.items())) for t in completed(again)}
    assert len(points) == 4 == tiny.setup.space.grid_size()  # the last grid point, no repeat
    other = prepare(request(Path(tiny.setup.settings.space_file), sessions=11))
    moved = r'sources: \[\{"kind": "sim", "seed": 1, "sessions": 10, .* "sessions": 11'
    with pytest.raises(StudyError, match=r"exists with other settings \(.*" + moved):
        open_study(logs, "tiny", other.settings)


def test_an_interrupted_trial_is_failed_and_asked_again_first(tiny: Tiny, tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    shutil.copytree(tiny.logs, logs)
    study = open_study(logs, "tiny", tiny.setup.settings)
    stuck = study.ask(tiny.setup.space.optuna_distributions())  # left RUNNING, as by a crash
    resumed = open_study(logs, "tiny", tiny.setup.settings)
    assert resumed.trials[stuck.number].state == TrialState.FAIL
    assert len(resumed.get_trials(states=(TrialState.WAITING,))) == 1
    asked = resumed.ask(tiny.setup.space.optuna_distributions())  # what search asks next
    assert asked.params == stuck.params


def test_points_the_config_model_refuses_are_pruned_with_the_reason(tmp_path: Path) -> None:
    space = write_space(
        tmp_path,
        'strategy = "broken_wing_butterfly"\n'
        "[params.body_delta_min]\nlow = 0.40\nhigh = 0.45\nstep = 0.05\n"
        "[params.body_delta_max]\nlow = 0.30\nhigh = 0.35\nstep = 0.05\n",
    )
    setup = prepare(request(space))
    study = open_study(tmp_path / "logs", "refused", setup.settings)
    assert search(study, setup, 4, SerialExecutor(), RUNNER) == 0
    pruned = study.get_trials(states=(TrialState.PRUNED,))
    assert len(pruned) == 4  # every grid point breaks body_delta_max ≥ body_delta_min: no run
    for t in pruned:
        assert "body_delta_max" in t.user_attrs[REFUSED_ATTR]
    with pytest.raises(StudyError, match="no completed trial to grade"):
        evaluate(study, setup, SerialExecutor(), RUNNER)


def test_stored_runs_are_json_of_what_the_runner_returned(tiny: Tiny) -> None:
    for t in completed(tiny.study):
        for raw in t.user_attrs["runs"]:
            assert RunResult.from_json(raw).to_json() == raw
    loaded = optuna.load_study(study_name="tiny", storage=f"sqlite:///{storage_path(tiny.logs)}")
    assert [t.value for t in completed(loaded)] == [t.value for t in completed(tiny.study)]
    assert np.isfinite([t.value for t in completed(loaded)]).all()


def test_windows_that_do_not_fit_the_sessions_are_refused_before_any_run(tmp_path: Path) -> None:
    space = write_space(tmp_path)
    with pytest.raises(StudyError, match="leave no in-sample session in 5 sessions"):
        prepare(request(space, sessions=5, n_folds=3, oos_sessions=2))
    with pytest.raises(StudyError, match="--oos-seeds apply to the simulated market"):
        prepare(request(space, data=[tmp_path], oos_seeds=[2]))
