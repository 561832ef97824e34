"""Correlation clusters of the universe: hierarchical clustering of rolling daily returns.

Distance between two listings is 1 − ρ of their daily log returns over the window (0 = moving
together, 2 = opposite); listings closer than the threshold end up in the same cluster. Recomputed
once per session and handed to the Risk Guard.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from datetime import date
from typing import Literal

import numpy as np
from pydantic import Field
from scipy.cluster.hierarchy import fcluster, linkage
from scipy.spatial.distance import squareform

from seeker.core.config_base import StrictModel
from seeker.core.models import DailyHistory, DataUnavailable


class ClustersConfig(StrictModel):
    """Correlation clustering of the universe (the ``[clusters]`` table)."""

    window_sessions: int = Field(ge=20, le=1000)
    distance_threshold: float = Field(gt=0.0, le=2.0)
    linkage: Literal["average", "complete", "single"]


def aligned_returns(
    histories: Mapping[str, DailyHistory], window: int
) -> tuple[list[str], np.ndarray]:
    """Return listing ids and a (window × n) matrix of daily log returns on common dates."""
    ids = sorted(histories)
    common = set(histories[ids[0]].dates)
    for lid in ids[1:]:
        common &= set(histories[lid].dates)
    days = sorted(common)[-(window + 1) :]
    if len(days) < window + 1:
        raise DataUnavailable(
            f"only {len(days)} common sessions across the universe, {window + 1} needed"
        )
    cols = []
    for lid in ids:
        h = histories[lid]
        pos = {d: i for i, d in enumerate(h.dates)}
        closes = np.array([h.close[pos[d]] for d in days], dtype=float)
        if not np.all(np.isfinite(closes)) or np.any(closes <= 0):
            raise DataUnavailable(f"{lid}: missing or invalid closes in the correlation window")
        cols.append(np.diff(np.log(closes)))
    return ids, np.column_stack(cols)


def correlation_clusters(
    ids: list[str], returns: np.ndarray, threshold: float, method: str
) -> dict[str, str]:
    """Return listing id → cluster label (the cluster's alphabetically first member + size)."""
    if len(ids) == 1:
        return {ids[0]: f"{ids[0]}/1"}
    std = returns.std(axis=0)
    if np.any(std == 0):
        flat = [ids[i] for i in np.flatnonzero(std == 0)]
        raise DataUnavailable(f"flat price history, correlation undefined: {', '.join(flat)}")
    rho = np.clip(np.corrcoef(returns, rowvar=False), -1.0, 1.0)
    dist = 1.0 - rho
    np.fill_diagonal(dist, 0.0)
    z = linkage(squareform(dist, checks=False), method=method)
    labels = fcluster(z, t=threshold, criterion="distance")
    groups: dict[int, list[str]] = {}
    for lid, lab in zip(ids, labels, strict=True):
        groups.setdefault(int(lab), []).append(lid)
    out: dict[str, str] = {}
    for members in groups.values():
        name = f"{sorted(members)[0]}/{len(members)}"
        for lid in members:
            out[lid] = name
    return out


class ClusterTracker:
    """Recompute the universe's clusters once per session, thread-safe."""

    def __init__(
        self,
        history: Callable[[str, int], DailyHistory],
        listing_ids: list[str],
        window: int,
        threshold: float,
        method: str,
    ) -> None:
        self._history = history
        self._ids = sorted(listing_ids)
        self.window = window
        self.threshold = threshold
        self.method = method
        self._lock = threading.Lock()
        self._day: date | None = None
        self._clusters: dict[str, str] | None = None

    def clusters(self, session: date) -> dict[str, str]:
        """Return the cluster map for `session`, computing it on first use that session."""
        with self._lock:
            if self._day == session and self._clusters is not None:
                return self._clusters
            histories = {lid: self._history(lid, self.window + 10) for lid in self._ids}
            ids, rets = aligned_returns(histories, self.window)
            self._clusters = correlation_clusters(ids, rets, self.threshold, self.method)
            self._day = session
            return self._clusters
