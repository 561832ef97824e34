"""bench/run_profile.py: the sampler that says where a run's time goes, on real threads and runs."""

from __future__ import annotations

import sys
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bench"))

import run_profile  # noqa: E402  (bench/ is a folder of scripts, not a package)


def _stack_of(thread: threading.Thread) -> list:
    frame = sys._current_frames()[thread.ident]  # type: ignore[index]
    stack = []
    while frame is not None:
        stack.append(frame)
        frame = frame.f_back
    return stack


def test_a_thread_waiting_on_an_event_is_idle() -> None:
    stop = threading.Event()
    started = threading.Event()

    def wait() -> None:
        started.set()
        stop.wait(30)

    thread = threading.Thread(target=wait)
    thread.start()
    try:
        started.wait(5)
        for _ in range(200):  # until the thread is inside Event.wait, not between two lines
            if _stack_of(thread)[0].f_code.co_name == "wait" and len(_stack_of(thread)) > 2:
                break
            stop.wait(0.005)
        assert run_profile.classify(_stack_of(thread)) is None
    finally:
        stop.set()
        thread.join()


def test_a_busy_stack_outside_seeker_is_counted_as_such() -> None:
    duty, area = run_profile.classify([sys._getframe()])  # type: ignore[misc]
    assert area == run_profile.OUTSIDE
    assert duty.startswith("other")


def test_a_sampled_run_counts_its_busy_samples_by_duty_and_by_area() -> None:
    config = ROOT / "config" / "seeker.toml"
    profile = run_profile.profile_run(["iron_condor", "diagonal"], 4, config, interval_ms=2.0)
    assert profile.returncode == 0
    assert profile.busy > 0
    assert sum(profile.duties.values()) == profile.busy
    assert sum(profile.areas.values()) == profile.busy
    assert sum(n for _, _, n in profile.pairs) == profile.busy
    # Every session classifies each listing's regime: its chain comes from the simulator.
    assert profile.duties.get(run_profile.DUTIES[0][1], 0) > 0
    assert profile.areas.get("simulated exchange (chains, quotes)", 0) > 0
    lines = run_profile.report(profile)
    assert lines[0].startswith("sampled run:")
    assert any("by duty" in line for line in lines)
