"""bench/run_profile.py: where a run's time goes, from py-spy's samples of a real run."""

from __future__ import annotations

import sys
import threading
from pathlib import Path
from types import FrameType

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bench"))

import run_profile  # noqa: E402  (bench/ is a folder of scripts, not a package)


def _frames(frame: FrameType | None) -> list[run_profile.Frame]:
    """Return a live stack as the classifier reads it, innermost first."""
    out = []
    while frame is not None:
        code = frame.f_code
        out.append(run_profile.Frame(code.co_qualname, code.co_filename, frame.f_lineno))
        frame = frame.f_back
    return out


def test_a_thread_waiting_on_an_event_is_idle() -> None:
    stop = threading.Event()
    thread = threading.Thread(target=stop.wait, args=(30,))
    thread.start()
    try:
        for _ in range(400):  # until the thread is inside Event.wait's condition wait
            stack = _frames(sys._current_frames()[thread.ident])  # type: ignore[index]
            if stack[0].name == "Condition.wait":
                break
            threading.Event().wait(0.005)
        assert run_profile.classify(stack) is None
    finally:
        stop.set()
        thread.join()


def test_a_busy_stack_outside_seeker_is_counted_as_such() -> None:
    duty, area = run_profile.classify(_frames(sys._getframe()))  # type: ignore[misc]
    assert area == run_profile.OUTSIDE
    assert duty == run_profile.OTHER_DUTY


def test_py_spy_raw_lines_are_read_innermost_last_with_the_duty_and_the_fsync_line() -> None:
    journal = ROOT / "seeker" / "core" / "journal.py"
    fsync_line = next(
        n
        for n, text in enumerate(journal.read_text().splitlines(), 1)
        if "os.fsync(self._fileno())" in text
    )
    raw = [
        "Thread.run (threading.py:982);Strategy.run (seeker/engine/lifecycle.py:166);"
        "Executor.work (seeker/core/execution.py:284);"
        f"JsonlWriter.write (seeker/core/journal.py:{fsync_line}) 7",
        "Thread.run (threading.py:982);Services._classify (seeker/engine/services.py:223);"
        "SimMarket.chain (seeker/core/sim/market.py:966);_bsm (seeker/core/pricing/bsm.py:99) 5",
        "Thread.run (threading.py:982);SimClock._wait_turn (seeker/core/clock.py:300);"
        "Condition.wait (threading.py:320) 40",
        "<module> (seeker/__main__.py:3);_find_and_load (<frozen importlib._bootstrap>:1176) 3",
    ]
    samples, pairs = run_profile.tally(raw)
    assert samples == 55
    assert pairs == {
        ("orders: placing, watching, journaling", run_profile.FSYNC): 7,
        (run_profile.DUTIES[0][1], "pricing (Black-Scholes, implied vol)"): 5,
        (run_profile.STARTUP, run_profile.STARTUP): 3,
    }


def test_a_sampled_run_counts_its_busy_samples_by_duty_and_by_area() -> None:
    config = ROOT / "config" / "seeker.toml"
    profile = run_profile.profile_run(["iron_condor", "diagonal"], 4, config, rate=250)
    assert profile.returncode == 0
    assert 0 < profile.busy < profile.samples
    assert sum(profile.duties.values()) == profile.busy
    assert sum(profile.areas.values()) == profile.busy
    assert sum(n for _, _, n in profile.pairs) == profile.busy
    # Every session classifies each listing's regime, whose chain the simulator prices.
    assert profile.duties.get(run_profile.DUTIES[0][1], 0) > 0
    assert profile.areas.get("simulated exchange (chains, quotes)", 0) > 0
    assert profile.areas.get(run_profile.STARTUP, 0) > 0
    lines = run_profile.report(profile)
    assert lines[0].startswith("sampled run:")
    assert any("by duty" in line for line in lines)
