"""A deliberately overfit search grades F: many trials picked on one short in-sample window.

Sixteen grid points of the butterfly (take profit × upper body delta) are ranked on the first 3
sessions of seed 3 (two to four trades each); one of them wins those sessions by luck (an annual
Sharpe of 9). It is judged on the next 9 sessions of seeds 1 and 2: it loses. The Deflated
Sharpe Ratio sees through the selection (3 sessions cannot tell 16 trials apart) and the grade is
F.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from seeker.research.evaluate import evaluate
from seeker.research.executors import SerialExecutor
from seeker.research.grade import DEFAULT_POLICY
from seeker.research.setup import prepare
from seeker.research.study import completed, open_study, search
from tests.research.tiny import RUNNER, request, write_space

SPACE = """\
strategy = "broken_wing_butterfly"

[params.take_profit_pct]
low = 30
high = 60
step = 10

[params.body_delta_max]
low = 0.30
high = 0.45
step = 0.05
"""


@pytest.mark.slow
def test_many_trials_on_one_short_window_grade_f(tmp_path: Path) -> None:
    setup = prepare(
        request(
            write_space(tmp_path, SPACE),
            sessions=12,
            n_folds=1,
            oos_sessions=9,
            seeds=[3],
            oos_seeds=[1, 2],
            stability=False,
        )
    )
    assert setup.settings.folds.is_length == 3  # one short in-sample window
    study = open_study(tmp_path / "logs", "overfit", setup.settings)
    search(study, setup, 16, SerialExecutor(), RUNNER)
    assert len(completed(study)) == 16
    ev = evaluate(study, setup, SerialExecutor(), RUNNER)
    assert ev.is_sharpe > 5.0  # a great in-sample window (annualised Sharpe 9.2 on this market)…
    assert ev.oos_sharpe < 0.0 and ev.oos_pnl < 0.0  # …that does not survive fresh sessions
    assert ev.dsr.n_trials == 16 and ev.dsr.n_obs == 3
    assert ev.dsr.dsr < 0.95  # not significant once the 16 trials tried are counted
    assert ev.card.grade == "F"
    assert ev.card.score < DEFAULT_POLICY.cutoffs.d  # F on the score too, not only by the rule
    assert {c.name: c.score for c in ev.card.criteria}["dsr"] < 1.0
    assert not [n for n in ev.notes if "opened a position" in n]  # its trials did trade


NO_WINGS = """\
strategy = "broken_wing_butterfly"

[params.narrow_wing_widths]
choices = [[5.0], [10.0]]

[params.broken_wing_widths]
choices = [[15.0], [20.0]]
"""
"""Index-sized wings on equity listings whose strikes are 0.5–1 $ apart: no setup ever."""


def test_a_study_whose_trials_never_trade_says_so(tmp_path: Path) -> None:
    setup = prepare(
        request(write_space(tmp_path, NO_WINGS), sessions=4, n_folds=1, stability=False)
    )
    study = open_study(tmp_path / "logs", "no-wings", setup.settings)
    search(study, setup, 2, SerialExecutor(), RUNNER)
    ev = evaluate(study, setup, SerialExecutor(), RUNNER)
    assert ev.trials_completed == 2 and ev.oos_trades == 0 and ev.card.grade == "F"
    assert [n for n in ev.notes if n.startswith("none of the 2 trials opened a position")]
