"""Tests for grading a study: walk-forward selection, DSR over the trials tried, stability runs,
the regime table, the stored evaluation, the HTML report and the candidate file."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from seeker.config.loading import ConfigError, read_toml, validate_config
from seeker.reports.study_report import write_report
from seeker.research.candidate import (
    candidate_document,
    candidate_path,
    overlay,
    read_candidate,
    write_candidate,
)
from seeker.research.evaluate import stored_evaluation
from seeker.research.grade import CRITERIA
from seeker.research.pool import EXTRA_RUN_PREFIX, RunCache, pool_of, series
from seeker.research.runs import annual_sharpe
from seeker.research.stability import perturb
from seeker.research.study import completed, point_key, settings_of, storage_path
from tests.research.conftest import Tiny
from tests.research.tiny import STRATEGY
from tests.support import shipped, strategy_config_models, write_config

SOURCE = "sim seed 1, 10 sessions"


def test_each_fold_keeps_the_trial_its_in_sample_window_ranks_first(tiny: Tiny) -> None:
    ev, setup = tiny.evaluation, tiny.setup
    folds = setup.settings.folds.folds(setup.sessions[SOURCE])
    assert len(ev.folds) == len(folds) == 2
    pool = pool_of(tiny.study, setup.space)
    for got, fold in zip(ev.folds, folds, strict=True):
        scores = {
            t.number: annual_sharpe(series([t.runs[SOURCE]], lambda _s, f=fold: f.in_sample))
            for t in pool
        }
        best = max(scores.values())
        assert got.trial == min(n for n, s in scores.items() if s == best)
        assert (got.is_first, got.is_last) == (fold.in_sample[0], fold.in_sample[-1])
        assert (got.oos_first, got.oos_last) == (fold.out_of_sample[0], fold.out_of_sample[-1])
        assert got.is_curve[-1].pnl == pytest.approx(got.is_pnl)
    assert ev.candidate_trial == ev.folds[-1].trial
    assert ev.oos_trades == sum(f.oos_trades for f in ev.folds)


def test_the_card_shows_every_criterion_and_the_dsr_counts_the_trials_tried(tiny: Tiny) -> None:
    ev = tiny.evaluation
    assert [c.name for c in ev.card.criteria] == list(CRITERIA)
    assert ev.card.underpowered and ev.card.grade != "A"  # a handful of trades, never an A
    assert ev.dsr.n_trials == len(completed(tiny.study)) == ev.trials_completed == 3
    dsr = {c.name: c for c in ev.card.criteria}["dsr"]
    assert dsr.raw == pytest.approx(ev.dsr.dsr)
    assert stored_evaluation(tiny.study) == ev


def test_every_neighbour_of_the_candidate_is_a_real_stored_run(tiny: Tiny) -> None:
    ev, setup = tiny.evaluation, tiny.setup
    hood = perturb(setup.space, ev.candidate_point)
    assert [(n.param, n.shift) for n in ev.stability.neighbours] == [
        (p.param, p.shift) for p in hood.points
    ]
    cache = RunCache(tiny.study, pool_of(tiny.study, setup.space))
    trial_points = {point_key(t.point) for t in pool_of(tiny.study, setup.space)}
    for p in hood.points:
        assert cache.get(p.point, SOURCE) is not None
    extra = [k for k in tiny.study.user_attrs if k.startswith(EXTRA_RUN_PREFIX)]
    outside = [p for p in hood.points if point_key(p.point) not in trial_points]
    assert len(extra) >= len(outside)  # neighbours nobody tried were run for the grade


def test_the_regime_table_counts_trades_and_says_when_too_few(tiny: Tiny) -> None:
    cells = tiny.evaluation.regimes
    assert cells, "no regime met: the tiny study made no trade"
    assert [c.regime for c in cells] == sorted(c.regime for c in cells)
    for c in cells:
        if c.trial is None:
            assert c.note.startswith("too few trades: at most") and c.point is None
            assert c.is_trades < tiny.setup.settings.min_regime_trades
        else:
            assert c.is_trades >= tiny.setup.settings.min_regime_trades and c.point


def test_the_report_is_one_offline_html_file_with_the_card_and_charts(tiny: Tiny) -> None:
    settings = settings_of(tiny.study)
    page = write_report(tiny.study, settings, tiny.evaluation)
    assert page == write_report(tiny.study, settings, tiny.evaluation)  # same study, same bytes
    assert not re.search(r"(src|href)=['\"]https?:", page)  # nothing fetched from the network
    assert page.count("src='data:image/png;base64,") >= 3  # equity, objective, heatmap
    for c in tiny.evaluation.card.criteria:
        assert f"<td>{c.name}</td>" in page
    assert f"grade {tiny.evaluation.card.grade}'" in page


def test_the_candidate_file_carries_grade_and_provenance_and_overlays_validated(
    tiny: Tiny, tmp_path: Path
) -> None:
    config = write_config(tmp_path, shipped())
    before = config.read_bytes()
    ev, settings = tiny.evaluation, settings_of(tiny.study)
    path = candidate_path(config, STRATEGY, "tiny")
    assert path == tmp_path / "candidates" / f"{STRATEGY}-tiny.toml"
    write_candidate(path, candidate_document(ev, settings, storage_path(tiny.logs)))
    data = read_toml(path)
    meta = data["candidate"]
    assert (meta["grade"], meta["study"], meta["trial"]) == (
        ev.card.grade,
        "tiny",
        ev.candidate_trial,
    )
    assert set(meta["criteria"]) == set(CRITERIA)
    assert meta["provenance"]["config_sha256"] == settings.config_sha256
    assert meta["provenance"]["sources"] == [SOURCE]
    cand = read_candidate(path)
    assert cand.overrides == {k: v for k, v in ev.candidate_point.items()}
    cfg = validate_config(overlay(read_toml(config), cand), strategy_config_models(), tmp_path)
    table = cfg.strategies.table(STRATEGY)
    assert table is not None
    for name, value in ev.candidate_point.items():
        assert getattr(table, name) == value
    assert config.read_bytes() == before  # the config file itself is never edited


def test_a_candidate_may_not_touch_a_hard_constraint(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(
        '[candidate]\nstrategy = "iron_condor"\n'
        "[strategies.iron_condor]\ntake_profit_pct = 40.0\nquantity = 3\n"
        "[strategies.iron_condor.risk]\nmax_per_trade_pct = 50.0\n"
    )
    with pytest.raises(ConfigError) as err:
        read_candidate(path)
    assert any(
        "strategies.iron_condor.quantity: a candidate cannot set it" in p
        for p in err.value.problems
    )
    assert any("strategies.iron_condor.risk.max_per_trade_pct" in p for p in err.value.problems)
