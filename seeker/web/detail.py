"""One position in detail, as ``seeker show`` computes it: legs, greeks, touch odds, payoff.

Every figure comes from ``seeker.ui.greeks`` / ``seeker.ui.payoff_view`` on the position's
journal lines (one set of IVs for greeks, touch odds and the T+0 / T+X curves, named), so the
page and the terminal agree. Here they become data (JSON) and SVG geometry instead of text.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np

from seeker.config.root import SeekerConfig
from seeker.core.calendar import MARKET_TZ
from seeker.core.payoff import breakevens_at_expiry, pnl_at_expiry
from seeker.ui.greeks import (
    GREEKS,
    chosen_ivs,
    entry_ivs,
    first_expiry_close,
    horizon,
    last_ivs,
    spots,
    structure_greeks,
    touch_odds,
    value_at,
)
from seeker.ui.lines import describe
from seeker.ui.payoff_view import default_tx, key_points
from seeker.ui.position import PositionRecord
from seeker.ui.show import ORDER_EVENTS, Market
from seeker.web.svg import Plot, plot

PAYOFF_POINTS = 161
"""Prices at which the payoff curves are computed across the range drawn."""


@dataclass
class Payoff:
    """The payoff curves ($, whole position, before commissions) and their key points."""

    prices: list[float]
    at_expiry: list[float | None]
    t0: list[float | None] | None
    tx: list[float | None] | None
    t0_label: str | None
    tx_label: str | None
    expiry_label: str
    breakevens: list[float]
    max_profit: float | None
    max_loss: float | None
    exact: bool
    spot: float | None
    strikes: list[float]
    ivs_label: str
    notes: list[str] = field(default_factory=list)


@dataclass
class Detail:
    """Everything the position page shows; ``problems`` say what could not be computed."""

    record: PositionRecord
    facts: dict[str, Any]
    legs: list[dict[str, Any]]
    greeks: dict[str, Any] | None
    touch: list[dict[str, Any]]
    payoff: Payoff | None
    confidence: list[dict[str, Any]]
    history: list[dict[str, Any]]
    problems: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """Return the detail as JSON-ready data (the payoff as its points)."""
        return {
            "position_id": self.record.position_id,
            "facts": self.facts,
            "legs": self.legs,
            "greeks": self.greeks,
            "touch": self.touch,
            "payoff": None if self.payoff is None else self.payoff.__dict__,
            "confidence": self.confidence,
            "history": self.history,
            "problems": self.problems,
        }


def _finite(x: Any) -> float | None:
    if isinstance(x, bool) or not isinstance(x, (int, float)):
        return None
    return float(x) if math.isfinite(x) else None


def _when(ts: datetime | None) -> str | None:
    return None if ts is None else f"{ts.astimezone(MARKET_TZ):%Y-%m-%d %H:%M}"


def _listed(values: np.ndarray) -> list[float | None]:
    return [float(v) if math.isfinite(v) else None for v in values]


def facts(record: PositionRecord) -> dict[str, Any]:
    """Return the position's facts (as the top panel of ``seeker show``)."""
    pos = record.position
    meta = record.open_order.get("meta") or {}
    conf = record.last("CONFIDENCE")
    if pos.status == "closed":
        pnl, pnl_kind = pos.realized_pnl(), "realised after commissions"
    elif conf is not None and _finite(conf.get("pnl_unit")) is not None:
        pnl = float(conf["pnl_unit"]) * pos.multiplier * pos.open_qty
        pnl_kind = f"open at mid ({conf.get('ts')})"
    else:
        pnl, pnl_kind = math.nan, "never priced"
    return {
        "strategy": record.folder,
        "status": pos.status,
        "open_qty": pos.open_qty,
        "opened_qty": pos.opened_qty,
        "label": str(meta.get("label", record.open_order.get("reason", ""))),
        "listing_id": pos.listing_id,
        "underlying": pos.underlying,
        "currency": pos.currency,
        "sector": pos.sector,
        "cluster": pos.cluster,
        "opened_at": _when(pos.opened_at),
        "closed_at": _when(pos.closed_at),
        "credit": _finite(-pos.entry_price),
        "dte_at_entry": meta.get("dte"),
        "width": _finite(meta.get("width")),
        "max_loss": pos.max_loss_unit * max(pos.opened_qty, 1),
        "exit_rule": pos.exit_rule,
        "pnl": _finite(pnl),
        "pnl_kind": pnl_kind,
        "slippage": pos.slippage,
        "regime": meta.get("regime"),
        "expiry": pos.expiry.isoformat(),
    }


def _payoff(record: PositionRecord, market: Market, cfg_tx: float | None) -> Payoff | None:
    pos = record.position
    if pos.opened_qty == 0:
        return None
    r, q = market.rate, market.dividend
    ivs = chosen_ivs(record, r, q)
    legs = pos.legs
    scale = pos.multiplier * (pos.open_qty or pos.opened_qty)
    strikes = sorted({leg.contract.strike for leg in legs})
    seen = spots(record)
    spot = seen[-1].spot if seen else None
    expiry_at = first_expiry_close(legs)
    single = len({leg.contract.expiry for leg in legs}) == 1
    usable = market.problem is None and ivs.complete
    notes: list[str] = []

    def curve(prices: np.ndarray) -> np.ndarray:
        if single:
            return pnl_at_expiry(legs, pos.entry_price, prices) * scale
        if not usable:
            return np.full_like(prices, np.nan)
        return (value_at(legs, ivs.ivs, prices, expiry_at, r, q) - pos.entry_price) * scale

    wide = None
    if single:
        crossings = list(breakevens_at_expiry(legs, pos.entry_price))
    else:
        gx = np.linspace(max(0.01, strikes[0] * 0.2), strikes[-1] * 3.0, 4000)
        wide = (gx, curve(gx))
        finite = np.isfinite(wide[1])
        ys = wide[1][finite]
        xs_ = gx[finite]
        crossings = [
            float(xs_[i] - ys[i] * (xs_[i + 1] - xs_[i]) / (ys[i + 1] - ys[i]))
            for i in range(len(ys) - 1)
            if ys[i] == 0 or ys[i] * ys[i + 1] < 0
        ]
        notes.append(f"at expiry = at the nearest expiry, later legs at the {ivs.label}")
    anchor = [*strikes, *([spot] if spot else [])]
    near = [b for b in crossings if min(anchor) / 2 <= b <= max(anchor) * 2]
    lo, hi = min(anchor + near), max(anchor + near)
    pad = max((hi - lo) * 0.25, (spot or hi) * 0.03)
    xs = np.linspace(lo - pad, hi + pad, PAYOFF_POINTS)
    at_expiry = curve(xs)
    t0 = tx = None
    t0_label = tx_label = None
    if usable and seen:
        start = seen[-1].ts
        days = cfg_tx if cfg_tx is not None else default_tx(legs, market.manage_dte, start)
        end = horizon(start, legs, days)
        t0 = _listed((value_at(legs, ivs.ivs, xs, start, r, q) - pos.entry_price) * scale)
        tx = _listed((value_at(legs, ivs.ivs, xs, end, r, q) - pos.entry_price) * scale)
        t0_label = f"T+0 ({_when(start)})"
        tx_label = f"T+{(end - start).total_seconds() / 86400:.0f} ({_when(end)})"
    else:
        why = market.problem or ("no spot journaled" if not seen else "an IV is unknown")
        notes.append(f"T+0 / T+X not drawn: {why}")
    drawn = bool(np.isfinite(at_expiry).any())
    kp = key_points(legs, pos.entry_price, scale, xs, at_expiry, wide) if drawn else None
    return Payoff(
        prices=[float(x) for x in xs],
        at_expiry=_listed(at_expiry),
        t0=t0,
        tx=tx,
        t0_label=t0_label,
        tx_label=tx_label,
        expiry_label=f"at expiry ({expiry_at:%Y-%m-%d})",
        breakevens=list(kp.breakevens) if kp else [],
        max_profit=_finite(kp.max_profit) if kp else None,
        max_loss=_finite(kp.max_loss) if kp else None,
        exact=kp.exact if kp else False,
        spot=spot,
        strikes=strikes,
        ivs_label=ivs.label,
        notes=notes,
    )


def payoff_plot(p: Payoff) -> Plot:
    """Return the payoff chart's geometry: at expiry, T+0, T+X, strikes, spot and breakevens."""

    def clean(ys: list[float | None] | None) -> list[float]:
        return [math.nan if y is None else y for y in ys or []]

    series = [clean(p.at_expiry), clean(p.t0), clean(p.tx)]
    chart = plot((p.prices[0], p.prices[-1]), series, x_fmt="{:g}", y_fmt="{:+.0f} $")
    chart.add_line(p.expiry_label, "expiry", p.prices, series[0])
    if p.t0 is not None and p.t0_label:
        chart.add_line(p.t0_label, "t0", p.prices, series[1])
    if p.tx is not None and p.tx_label:
        chart.add_line(p.tx_label, "tx", p.prices, series[2])
    for k in p.strikes:
        chart.add_vertical(k, f"K {k:g}", "strike")
    if p.spot is not None:
        chart.add_vertical(p.spot, f"spot {p.spot:g}", "spot")
    for b in p.breakevens:
        chart.add_marker(b, 0.0, f"breakeven {b:.2f}", "breakeven")
    return chart


def confidence_plot(history: list[dict[str, Any]]) -> Plot | None:
    """Return the confidence score over the position's polls (x: poll number)."""
    scores = [h["score"] for h in history if h.get("score") is not None]
    if not scores:
        return None
    xs = [float(i) for i in range(len(scores))]
    chart = plot((0.0, max(1.0, xs[-1])), [[0.0, 100.0]], x_fmt="{:.0f}", y_fmt="{:.0f}")
    chart.add_line("score", "score", xs, scores)
    return chart


def detail(record: PositionRecord, cfg: SeekerConfig, tx_days: float | None = None) -> Detail:
    """Return everything the position page shows for one journaled position."""
    pos = record.position
    market = Market(record, cfg)
    r, q = market.rate, market.dividend
    problems = [market.problem] if market.problem else []
    entry = entry_ivs(record, r, q)
    last = last_ivs(record, r, q)
    legs = [
        {
            "action": leg.action,
            "ratio": leg.ratio,
            "right": leg.contract.right,
            "strike": leg.contract.strike,
            "expiry": leg.contract.expiry.isoformat(),
            "entry_iv": _finite(entry[i].iv),
            "entry_iv_source": entry[i].source,
            "last_iv": _finite(last[i].iv),
            "last_iv_source": last[i].source,
        }
        for i, leg in enumerate(pos.legs)
    ]
    greeks = None
    touch: list[dict[str, Any]] = []
    payoff = None
    if pos.opened_qty == 0:
        problems.append(f"never filled ({pos.status}): no greeks, touch odds or payoff")
    else:
        ivs = chosen_ivs(record, r, q)
        if market.problem is None:
            g = structure_greeks(record, r, q, ivs)
            if g is None:
                problems.append("greeks: no spot was ever journaled for this position")
            else:
                qty = pos.open_qty or pos.opened_qty
                greeks = {
                    "source": g.source,
                    "per_leg": [{k: _finite(row[k]) for k in GREEKS} for row in g.per_leg],
                    "per_share": {k: _finite(g.total[k]) for k in GREEKS},
                    "position": {k: _finite(g.total[k] * pos.multiplier * qty) for k in GREEKS},
                    "theta_per_day": _finite(g.total["theta"] / 365.0),
                    "vega_per_point": _finite(g.total["vega"] / 100.0),
                }
            seen = spots(record)
            if seen:
                ref = seen[-1]
                for leg, p in touch_odds(record, ivs.ivs, ref, r, q):
                    k = leg.contract.strike
                    touch.append(
                        {
                            "strike": k,
                            "right": leg.contract.right,
                            "distance_pct": 100 * (k - ref.spot) / ref.spot,
                            "probability": _finite(p),
                            "spot": ref.spot,
                            "at": _when(ref.ts),
                            "ivs": ivs.label,
                        }
                    )
        payoff = _payoff(record, market, tx_days)
    confidence = [
        {
            "ts": x.get("ts"),
            "score": _finite(x.get("score")),
            "dte": x.get("dte"),
            "spot": _finite(x.get("spot")),
            "pnl_unit": _finite(x.get("pnl_unit")),
            "reassuring": list(x.get("reassuring") or []),
            "worrying": list(x.get("worrying") or []),
        }
        for x in record.lines("CONFIDENCE")
    ]
    history = []
    for e in record.entries:
        if e.line.get("event") in ORDER_EVENTS:
            text, _ = describe(e.line)
            history.append({"ts": e.line.get("ts"), "event": e.line.get("event"), "text": text})
    return Detail(record, facts(record), legs, greeks, touch, payoff, confidence, history, problems)
