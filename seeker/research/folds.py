"""Walk-forward folds: in-sample and out-of-sample stretches of an ordered history, as data.

The out-of-sample (OOS) windows tile the tail of the history in order, the last one ending on the
last item; each fold's in-sample (IS) window ends `embargo` items before its OOS window starts.
Rolling folds keep a fixed IS length; anchored folds start every IS window on the first item, so
IS grows fold by fold. Items are anything ordered: sessions (dates), replay windows, or
(window, seed) pairs. Seeds ride along: every fold carries the seeds its IS runs use and the seeds
its OOS runs use (the same ones unless distinct OOS seeds are given).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Generic, Literal, Protocol, TypeVar

Scheme = Literal["anchored", "rolling"]


class Ordered(Protocol):
    """Anything that sorts: a date, a replay window with ordering, a (window, seed) tuple."""

    def __lt__(self, other: Any, /) -> bool: ...


T = TypeVar("T", bound=Ordered)


@dataclass(frozen=True)
class FoldPlan:
    """How to cut a history: scheme, number of folds, and window lengths in items (sessions…).

    `is_length` is the IS length of every rolling fold, and the least IS length of an anchored
    one (the first anchored fold holds every item before its embargo). `embargo` items between
    IS and OOS are used by neither, so trades opened in sample cannot leak into the test.
    """

    scheme: Scheme
    n_folds: int
    is_length: int
    oos_length: int
    embargo: int

    def __post_init__(self) -> None:
        if self.scheme not in ("anchored", "rolling"):
            raise ValueError(f"scheme must be 'anchored' or 'rolling' (got {self.scheme!r})")
        for name, low in (("n_folds", 1), ("is_length", 1), ("oos_length", 1), ("embargo", 0)):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                raise ValueError(f"{name} must be a whole number ≥ {low} (got {value!r})")

    @property
    def items_needed(self) -> int:
        """Return the fewest items the plan can cut: first IS + embargo + every OOS window."""
        return self.is_length + self.embargo + self.n_folds * self.oos_length


@dataclass(frozen=True)
class Fold(Generic[T]):
    """One fold: what to fit on, what is skipped, what to test on, and with which seeds."""

    index: int
    in_sample: tuple[T, ...]
    embargoed: tuple[T, ...]
    out_of_sample: tuple[T, ...]
    in_sample_seeds: tuple[int, ...]
    out_of_sample_seeds: tuple[int, ...]


def _check_items(items: Sequence[T]) -> tuple[T, ...]:
    out = tuple(items)
    for i in range(1, len(out)):
        if not out[i - 1] < out[i]:
            raise ValueError(
                f"items must be in strictly increasing order: item {i} ({out[i]!r}) does not "
                f"come after item {i - 1} ({out[i - 1]!r})"
            )
    return out


def _check_seeds(name: str, seeds: Sequence[int]) -> tuple[int, ...]:
    out = tuple(seeds)
    if not out:
        raise ValueError(f"{name} must list at least one seed")
    for i, seed in enumerate(out):
        if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
            raise ValueError(f"{name}[{i}] must be a whole number ≥ 0 (got {seed!r})")
    if len(set(out)) != len(out):
        raise ValueError(f"{name} lists a seed twice")
    return out


def walk_forward(
    items: Sequence[T],
    plan: FoldPlan,
    seeds: Sequence[int],
    oos_seeds: Sequence[int] | None = None,
) -> tuple[Fold[T], ...]:
    """Return the plan's folds over `items` (strictly increasing), oldest fold first.

    `seeds` are the runs' seeds in sample; `oos_seeds`, when given, are used out of sample
    instead and must share none with `seeds`. Raise ValueError when the history is too short
    for the plan, naming how many items it needs.
    """
    history = _check_items(items)
    is_seeds = _check_seeds("seeds", seeds)
    test_seeds = is_seeds if oos_seeds is None else _check_seeds("oos_seeds", oos_seeds)
    if oos_seeds is not None and set(is_seeds) & set(test_seeds):
        shared = sorted(set(is_seeds) & set(test_seeds))
        raise ValueError(f"oos_seeds must differ from the in-sample seeds (both list {shared})")
    if len(history) < plan.items_needed:
        raise ValueError(
            f"a {plan.scheme} walk-forward of {plan.n_folds} folds needs "
            f"{plan.items_needed} items (IS {plan.is_length} + embargo {plan.embargo} + "
            f"{plan.n_folds} × OOS {plan.oos_length}), got {len(history)}"
        )
    folds: list[Fold[T]] = []
    first_oos = len(history) - plan.n_folds * plan.oos_length
    for k in range(plan.n_folds):
        oos_start = first_oos + k * plan.oos_length
        is_end = oos_start - plan.embargo
        is_start = 0 if plan.scheme == "anchored" else is_end - plan.is_length
        folds.append(
            Fold(
                index=k,
                in_sample=history[is_start:is_end],
                embargoed=history[is_end:oos_start],
                out_of_sample=history[oos_start : oos_start + plan.oos_length],
                in_sample_seeds=is_seeds,
                out_of_sample_seeds=test_seeds,
            )
        )
    return tuple(folds)
