"""Risk Guard: the five caps of the spec, checked and reserved in one locked step.

Per-trade and portfolio caps are percentages of the capital basis (the reference capital, or the
lower of it and the account's equity: ``[limits] capital_basis``); sector, correlation-cluster and
underlying caps are percentages of the portfolio risk budget (basis × max_portfolio_pct). Risk is a
structure's computed worst loss plus round-trip commissions, in the capital currency. A reservation
is made before an order is sent, shrunk to what filled, and released when the position is closed,
so committed risk can never exceed a cap at any fill, whatever the threads do.

The account's cash is a sixth limit, checked in the same locked step when the caller hands it in
(``cash_for_risk``: the cash the account would hold with no position open): every reservation
together must fit inside it, so that cash cannot go negative however the positions end. A refusal
for cash is the account's verdict (agent ``account``), with the figures.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from seeker.agents.verdict import Verdict
from seeker.core.config_base import Pct, StrictModel

EPS = 1e-9
CAP_NAMES = ("per_trade", "portfolio", "sector", "cluster", "underlying")
CASH = "cash"
"""The binding name of the account's cash limit (a refusal the ``account`` agent signs)."""


class RiskConfig(StrictModel):
    """The five caps (per trade and portfolio: % of capital; the others: % of the risk budget)."""

    max_per_trade_pct: Pct
    max_portfolio_pct: Pct
    max_sector_pct: Pct
    max_corr_cluster_pct: Pct
    max_per_underlying_pct: Pct


@dataclass(frozen=True, slots=True)
class Caps:
    """The five caps in the capital currency ($)."""

    per_trade: float
    portfolio: float
    sector: float
    cluster: float
    underlying: float

    @classmethod
    def from_pcts(
        cls,
        capital: float,
        max_per_trade_pct: float,
        max_portfolio_pct: float,
        max_sector_pct: float,
        max_corr_cluster_pct: float,
        max_per_underlying_pct: float,
    ) -> Caps:
        """Return caps in $ from the config's percentages."""
        budget = capital * max_portfolio_pct / 100.0
        return cls(
            per_trade=capital * max_per_trade_pct / 100.0,
            portfolio=budget,
            sector=budget * max_sector_pct / 100.0,
            cluster=budget * max_corr_cluster_pct / 100.0,
            underlying=budget * max_per_underlying_pct / 100.0,
        )

    @classmethod
    def from_config(cls, risk: RiskConfig, capital: float) -> Caps:
        """Return the caps in $ of the ``[risk]`` table applied to `capital` ($)."""
        return cls.from_pcts(
            capital,
            risk.max_per_trade_pct,
            risk.max_portfolio_pct,
            risk.max_sector_pct,
            risk.max_corr_cluster_pct,
            risk.max_per_underlying_pct,
        )

    def as_dict(self) -> dict[str, float]:
        """Return the caps keyed by name."""
        return {name: getattr(self, name) for name in CAP_NAMES}


@dataclass(frozen=True, slots=True)
class Reservation:
    """Risk held for one position (reserved before sending, then what is filled and open)."""

    position_id: str
    strategy: str
    listing_id: str
    underlying: str
    sector: str
    risk: float


@dataclass
class ExposureSnapshot:
    """Committed risk in total and by sector, cluster and underlying ($)."""

    total: float = 0.0
    by_sector: dict[str, float] = field(default_factory=dict)
    by_cluster: dict[str, float] = field(default_factory=dict)
    by_underlying: dict[str, float] = field(default_factory=dict)
    by_strategy: dict[str, float] = field(default_factory=dict)


class RiskGuard:
    """The shared, thread-safe hard veto on risk."""

    def __init__(
        self, caps: Caps, between_check_and_reserve: Callable[[], None] | None = None
    ) -> None:
        self.caps = caps
        self._between = between_check_and_reserve
        """A test hook run inside the locked step, after the check and before the reservation
        (race tests pass ``time.sleep(0)`` to force a thread switch exactly there)."""
        self._lock = threading.Lock()
        self._held: dict[str, Reservation] = {}
        self._clusters: dict[str, str] | None = None

    # -- clusters --------------------------------------------------------------------------
    def set_clusters(self, clusters: Mapping[str, str]) -> None:
        """Replace the listing → correlation-cluster map (recomputed once per session)."""
        with self._lock:
            self._clusters = dict(clusters)

    def cluster_of(self, listing_id: str) -> str | None:
        """Return the cluster of a listing, None while clusters are unknown."""
        with self._lock:
            return None if self._clusters is None else self._clusters.get(listing_id)

    def set_caps(self, caps: Caps) -> None:
        """Replace the caps (the capital basis changed); reservations held are kept as they are."""
        with self._lock:
            self.caps = caps

    # -- reservations ----------------------------------------------------------------------
    def reserve(
        self,
        position_id: str,
        strategy: str,
        listing_id: str,
        underlying: str,
        sector: str,
        risk_by_qty: Sequence[float],
        cash_for_risk: float | None = None,
    ) -> tuple[Verdict, int]:
        """Reserve the largest quantity whose risk fits every cap; return (verdict, qty).

        `risk_by_qty[i]` is the risk ($, capital currency) of i + 1 units, commissions included.
        With `cash_for_risk` ($, capital currency), every reservation together must also fit in
        it; a refusal for cash is the ``account`` agent's verdict.
        """
        with self._lock:
            if position_id in self._held:
                raise ValueError(f"position {position_id} already holds a reservation")
            if self._clusters is None or listing_id not in self._clusters:
                return (
                    Verdict(
                        "risk_guard",
                        False,
                        f"correlation cluster of {listing_id} unknown (no cluster map yet)",
                    ),
                    0,
                )
            cluster = self._clusters[listing_id]
            used = self._used(sector, cluster, underlying)
            headroom = {name: getattr(self.caps, name) - used[name] for name in CAP_NAMES}
            details: dict[str, Any] = {
                "caps": self.caps.as_dict(),
                "used": used,
                "cluster": cluster,
                "sector": sector,
                "underlying": underlying,
            }
            names: tuple[str, ...] = CAP_NAMES
            if cash_for_risk is not None:
                names = (*CAP_NAMES, CASH)
                headroom[CASH] = cash_for_risk - used["portfolio"]
            binding = ""
            for qty in range(len(risk_by_qty), 0, -1):
                risk = risk_by_qty[qty - 1]
                over = [name for name in names if risk > headroom[name] + EPS]
                if not over:
                    if self._between is not None:
                        self._between()
                    self._held[position_id] = Reservation(
                        position_id, strategy, listing_id, underlying, sector, risk
                    )
                    details.update(qty=qty, risk=risk)
                    reason = f"reserved {risk:.2f} $ for {qty} unit(s)"
                    return Verdict("risk_guard", True, reason, details=details), qty
                binding = over[0]
            one = risk_by_qty[0] if risk_by_qty else float("nan")
            if binding == CASH and cash_for_risk is not None:
                held = used["portfolio"]
                reason = (
                    f"cash: one unit risks {one:.2f} $ but the account's cash carries "
                    f"{cash_for_risk:.2f} $ of which {held:.2f} $ is held by open positions, "
                    f"{headroom[CASH]:.2f} $ free"
                )
                details.update(
                    binding=CASH,
                    risk=one,
                    cash_for_risk=round(cash_for_risk, 2),
                    held=round(held, 2),
                    free=round(headroom[CASH], 2),
                )
                return Verdict("account", False, reason, details=details), 0
            cap = getattr(self.caps, binding) if binding else float("nan")
            reason = (
                f"{binding} cap: one unit risks {one:.2f} $ but only "
                f"{headroom.get(binding, 0.0):.2f} $"
                f" of {cap:.2f} $ is left"
            )
            details.update(binding=binding, risk=one)
            return Verdict("risk_guard", False, reason, details=details), 0

    def resize(self, position_id: str, risk: float) -> None:
        """Shrink (never grow) a reservation, e.g. to what filled or after a partial close."""
        with self._lock:
            held = self._held.get(position_id)
            if held is None:
                return
            if risk <= EPS:
                del self._held[position_id]
                return
            if risk > held.risk + EPS:
                raise ValueError(
                    f"reservation of {position_id} cannot grow ({held.risk:.2f} → {risk:.2f})"
                )
            self._held[position_id] = Reservation(
                held.position_id, held.strategy, held.listing_id, held.underlying, held.sector, risk
            )

    def release(self, position_id: str) -> None:
        """Release a position's reservation (order cancelled unfilled, or position closed)."""
        with self._lock:
            self._held.pop(position_id, None)

    def restore(self, reservation: Reservation) -> None:
        """Hold the risk of a position that already exists (rebuilt at start), without checks."""
        with self._lock:
            self._held[reservation.position_id] = reservation

    def reservations(self) -> list[Reservation]:
        """Return every reservation held now."""
        with self._lock:
            return list(self._held.values())

    def held(self, position_id: str) -> Reservation | None:
        """Return a position's reservation, if any."""
        with self._lock:
            return self._held.get(position_id)

    # -- reading ---------------------------------------------------------------------------
    def _used(self, sector: str, cluster: str, underlying: str) -> dict[str, float]:
        clusters = self._clusters or {}
        used = dict.fromkeys(CAP_NAMES, 0.0)
        for r in self._held.values():
            used["portfolio"] += r.risk
            if r.sector == sector:
                used["sector"] += r.risk
            if clusters.get(r.listing_id) == cluster:
                used["cluster"] += r.risk
            if r.underlying == underlying:
                used["underlying"] += r.risk
        return used

    def exposure(self) -> ExposureSnapshot:
        """Return committed risk in total and by sector, cluster, underlying and strategy."""
        with self._lock:
            snap = ExposureSnapshot()
            clusters = self._clusters or {}
            for r in self._held.values():
                snap.total += r.risk
                snap.by_sector[r.sector] = snap.by_sector.get(r.sector, 0.0) + r.risk
                c = clusters.get(r.listing_id, "?")
                snap.by_cluster[c] = snap.by_cluster.get(c, 0.0) + r.risk
                snap.by_underlying[r.underlying] = (
                    snap.by_underlying.get(r.underlying, 0.0) + r.risk
                )
                snap.by_strategy[r.strategy] = snap.by_strategy.get(r.strategy, 0.0) + r.risk
            return snap

    def violations(self) -> list[str]:
        """Return every cap currently exceeded (should always be empty)."""
        snap = self.exposure()
        out = []
        if snap.total > self.caps.portfolio + EPS:
            out.append(f"portfolio {snap.total:.2f} > {self.caps.portfolio:.2f}")
        for kind, values, cap in (
            ("sector", snap.by_sector, self.caps.sector),
            ("cluster", snap.by_cluster, self.caps.cluster),
            ("underlying", snap.by_underlying, self.caps.underlying),
        ):
            out += [f"{kind} {k} {v:.2f} > {cap:.2f}" for k, v in values.items() if v > cap + EPS]
        with self._lock:
            out += [
                f"per_trade {r.position_id} {r.risk:.2f} > {self.caps.per_trade:.2f}"
                for r in self._held.values()
                if r.risk > self.caps.per_trade + EPS
            ]
        return out
