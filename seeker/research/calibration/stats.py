"""The calibration statistics, measured the same way on any :class:`Observations`.

Scale-free where the underlyings differ (SPX at 2 900 against a 50 $ ETF): IVs relative to the
30-day ATM IV, spreads relative to the option's mid, open interest and volume relative to the
at-the-money bucket or the front month. Per day and expiry: the ATM IV (the mean of call and put
IV at each strike, interpolated in strike at spot) and the 25-delta put and call IVs
(interpolated in delta); per day those are interpolated in days to expiry to 30 and 90 days.
A statistic that cannot be measured is NaN, with the reason in ``missing``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from seeker.research.calibration.observations import Observations

SHORT_DTE, LONG_DTE = 30.0, 90.0
"""The constant maturities the surface is read at, calendar days."""
MIN_DTE, MAX_DTE = 7, 400
"""Expiries used for the surface."""
DELTA_BINS: tuple[tuple[float, float], ...] = ((0.05, 0.15), (0.15, 0.30), (0.30, 0.50))
"""|Δ| buckets of out-of-the-money options (the last one is the at-the-money reference)."""
DTE_BINS: tuple[tuple[int, int], ...] = ((1, 20), (20, 60), (60, 120))
"""Days-to-expiry buckets (the middle one is the reference)."""
LIQUIDITY_DTE = (20, 60)
"""The expiries open interest and volume are compared across deltas in."""
NEAR_MONEY = (0.20, 0.50)
"""|Δ| of the options compared across expiries."""


@dataclass
class Measures:
    """The statistics of one market and the curves its plots draw."""

    name: str
    values: dict[str, float] = field(default_factory=dict)
    missing: dict[str, str] = field(default_factory=dict)
    smile: tuple[np.ndarray, np.ndarray] = (np.zeros(0), np.zeros(0))
    """(standardized log-moneyness, IV / ATM IV) of the ~30-day expiries, every day."""
    term: tuple[np.ndarray, np.ndarray] = (np.zeros(0), np.zeros(0))
    """(days to expiry, ATM IV / 30-day ATM IV) of every expiry, every day."""
    spread: tuple[np.ndarray, np.ndarray, np.ndarray] = (np.zeros(0),) * 3
    """(|Δ|, mid $, (ask − bid) / mid) of out-of-the-money options."""
    oi_by_delta: list[float] = field(default_factory=list)
    volume_by_delta: list[float] = field(default_factory=list)
    oi_by_dte: list[float] = field(default_factory=list)
    volume_by_dte: list[float] = field(default_factory=list)
    moves: tuple[np.ndarray, np.ndarray] = (np.zeros(0), np.zeros(0))
    """(daily log return, change of ln 30-day ATM IV) between consecutive sessions; the
    ``iv_spot_beta`` statistic regresses the change on the return divided by the previous
    day's ATM IV (level-free: an index at 13 % and an ETF at 25 % compare)."""
    levels: tuple[np.ndarray, np.ndarray] = (np.zeros(0), np.zeros(0))
    """(30-day ATM IV, trailing realised vol) per day."""

    def put(self, name: str, value: float, why: str) -> None:
        """Record a statistic, or why it is missing when it is not finite."""
        if math.isfinite(value):
            self.values[name] = value
        else:
            self.values[name] = math.nan
            self.missing[name] = why


@dataclass(frozen=True)
class DaySurface:
    """One day's surface points: per expiry (dte, ATM, 25Δ put, 25Δ call IV)."""

    dte: np.ndarray
    atm: np.ndarray
    put25: np.ndarray
    call25: np.ndarray


def _atm_iv(strike: np.ndarray, iv: np.ndarray, spot: float) -> float:
    """Return the IV at `spot`: per strike the mean of the known call and put IVs, linear in K."""
    ok = np.isfinite(iv) & (iv > 0)
    if not ok.any():
        return math.nan
    ks, inv = np.unique(strike[ok], return_inverse=True)
    per = np.bincount(inv, weights=iv[ok]) / np.bincount(inv)
    if ks.size < 2 or not ks[0] <= spot <= ks[-1]:
        return math.nan
    return float(np.interp(spot, ks, per))


def _delta_iv(delta: np.ndarray, iv: np.ndarray, target: float) -> float:
    """Return the IV at delta `target`, linear in delta between the quotes that bracket it."""
    ok = np.isfinite(delta) & np.isfinite(iv) & (iv > 0)
    d, v = delta[ok], iv[ok]
    if d.size < 2 or not d.min() <= target <= d.max():
        return math.nan
    order = np.argsort(d)
    return float(np.interp(target, d[order], v[order]))


def groups(obs: Observations, rows: np.ndarray) -> list[tuple[int, float, np.ndarray]]:
    """Return `rows` grouped by (day, days to expiry), in that order: (day, dte, row numbers)."""
    order = rows[np.lexsort((obs.dte[rows], obs.day[rows]))]
    if order.size == 0:
        return []
    key_day, key_dte = obs.day[order], obs.dte[order]
    cut = np.flatnonzero((np.diff(key_day) != 0) | (np.diff(key_dte) != 0)) + 1
    return [(int(obs.day[part[0]]), float(obs.dte[part[0]]), part) for part in np.split(order, cut)]


def day_surfaces(obs: Observations) -> list[DaySurface]:
    """Return each day's per-expiry ATM and 25-delta IVs."""
    rows = np.flatnonzero((obs.dte >= MIN_DTE) & (obs.dte <= MAX_DTE))
    pts: list[list[tuple[float, float, float, float]]] = [[] for _ in obs.days]
    for n, dte, r in groups(obs, rows):
        calls = obs.is_call[r]
        atm = _atm_iv(obs.strike[r], obs.iv[r], float(obs.spot[n]))
        p25 = _delta_iv(obs.delta[r][~calls], obs.iv[r][~calls], -0.25)
        c25 = _delta_iv(obs.delta[r][calls], obs.iv[r][calls], 0.25)
        pts[n].append((dte, atm, p25, c25))
    out = []
    for p in pts:
        arr = np.array(p, dtype=float).reshape(-1, 4)
        out.append(DaySurface(arr[:, 0], arr[:, 1], arr[:, 2], arr[:, 3]))
    return out


def at_dte(dte: np.ndarray, values: np.ndarray, target: float) -> float:
    """Return `values` interpolated linearly at `target` days, NaN unless bracketed."""
    ok = np.isfinite(values)
    d, v = dte[ok], values[ok]
    if d.size == 0 or not d.min() <= target <= d.max():
        return math.nan
    return float(np.interp(target, d, v))


def _median(values: list[float]) -> float:
    arr = np.array(values, dtype=float)
    arr = arr[np.isfinite(arr)]
    return float(np.median(arr)) if arr.size else math.nan


def _slope(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Return the OLS slope of y on x and their correlation (NaN with fewer than 3 points)."""
    ok = np.isfinite(x) & np.isfinite(y)
    x, y = x[ok], y[ok]
    if x.size < 3 or float(np.std(x)) == 0.0 or float(np.std(y)) == 0.0:
        return math.nan, math.nan
    slope = float(np.polyfit(x, y, 1)[0])
    return slope, float(np.corrcoef(x, y)[0, 1])


def measure(obs: Observations) -> Measures:
    """Return every calibration statistic of `obs` (see :data:`STATISTICS`)."""
    m = Measures(obs.name)
    surfaces = day_surfaces(obs)
    atm30 = np.array([at_dte(s.dte, s.atm, SHORT_DTE) for s in surfaces])
    atm90 = np.array([at_dte(s.dte, s.atm, LONG_DTE) for s in surfaces])
    p25 = np.array([at_dte(s.dte, s.put25, SHORT_DTE) for s in surfaces])
    c25 = np.array([at_dte(s.dte, s.call25, SHORT_DTE) for s in surfaces])
    m.levels = (atm30, obs.rv.copy())
    m.put("atm_iv", _median(list(atm30)), "no ATM IV bracketed at 30 days")
    m.put("realised_vol", _median(list(obs.rv)), "fewer than 22 closes before the days")
    m.put("iv_over_rv", _median(list(atm30 / obs.rv)), "no ATM IV or realised vol")
    m.put("rr25", _median(list((p25 - c25) / atm30)), "no 25-delta IV at 30 days")
    m.put("bf25", _median(list(((p25 + c25) / 2.0 - atm30) / atm30)), "no 25-delta IV")
    years = (LONG_DTE - SHORT_DTE) / 365.0
    m.put("term_slope", _median(list((atm90 / atm30 - 1.0) / years)), "no 90-day ATM IV")
    _curves(obs, surfaces, atm30, m)
    _liquidity(obs, m)
    rets = np.diff(np.log(obs.spot))
    dlv = np.diff(np.log(atm30))
    consecutive = np.diff(obs.days) <= 4  # a weekend or one holiday between the two sessions
    scaled = rets / atm30[:-1]  # the return in units of the implied vol: level-free
    rets, dlv, scaled = rets[consecutive], dlv[consecutive], scaled[consecutive]
    m.moves = (rets, dlv)
    beta, corr = _slope(scaled, dlv)
    m.put("iv_spot_beta", beta, "fewer than 3 consecutive sessions with an ATM IV")
    m.put("iv_spot_corr", corr, "fewer than 3 consecutive sessions with an ATM IV")
    return m


def _curves(obs: Observations, surfaces: list[DaySurface], atm30: np.ndarray, m: Measures) -> None:
    """Fill the smile and term curves (every expiry of every day, relative to the day's ATM)."""
    xs, ys, td, tv = [], [], [], []
    nearest: dict[int, tuple[float, float]] = {}
    for n, s in enumerate(surfaces):
        if not math.isfinite(atm30[n]):
            continue
        td.extend(s.dte.tolist())
        tv.extend((s.atm / atm30[n]).tolist())
        known = np.isfinite(s.atm)
        if known.any():
            j = int(np.argmin(np.where(known, np.abs(s.dte - SHORT_DTE), np.inf)))
            nearest[n] = (float(s.dte[j]), float(s.atm[j]))
    rows = np.flatnonzero(np.isfinite(obs.iv) & (obs.iv > 0))
    for n, dte, r in groups(obs, rows):
        if nearest.get(n, (math.nan,))[0] != dte:
            continue
        atm = nearest[n][1]
        k = np.log(obs.strike[r] / obs.spot[n]) / (atm * math.sqrt(dte / 365.0))
        otm = np.where(obs.is_call[r], k >= 0, k <= 0)
        xs.extend(k[otm].tolist())
        ys.extend((obs.iv[r][otm] / atm).tolist())
    m.smile = (np.array(xs), np.array(ys))
    m.term = (np.array(td), np.array(tv))


def _liquidity(obs: Observations, m: Measures) -> None:
    """Spreads against price and delta; open interest and volume against delta and DTE."""
    absd = np.abs(obs.delta)
    mid = (obs.bid + obs.ask) / 2.0
    otm = (
        np.isfinite(absd)
        & (absd >= DELTA_BINS[0][0])
        & (absd <= DELTA_BINS[-1][1])
        & (obs.dte >= MIN_DTE)
        & (obs.dte <= 120)
        & (obs.bid > 0)
    )
    rel = (obs.ask - obs.bid) / mid
    m.spread = (absd[otm], mid[otm], rel[otm])
    for (lo, hi), name in zip(DELTA_BINS, ("spread_wing", "spread_mid", "spread_atm"), strict=True):
        sel = otm & (absd >= lo) & (absd < hi)
        m.put(name, float(np.median(rel[sel])) if sel.any() else math.nan, f"no |Δ| {lo}–{hi}")
    width = obs.ask[otm] - obs.bid[otm]
    slope, _ = _slope(np.log(mid[otm]), np.log(np.maximum(width, 1e-9)))
    m.put("spread_elasticity", slope, "too few quotes with a bid")
    for field_name, counts in (("oi", obs.oi), ("volume", obs.volume)):
        known = counts >= 0
        in_dte = known & (obs.dte >= LIQUIDITY_DTE[0]) & (obs.dte < LIQUIDITY_DTE[1])
        by_delta = [
            _mean(counts, in_dte & np.isfinite(absd) & (absd >= lo) & (absd < hi))
            for lo, hi in DELTA_BINS
        ]
        near = known & np.isfinite(absd) & (absd >= NEAR_MONEY[0]) & (absd < NEAR_MONEY[1])
        by_dte = [_mean(counts, near & (obs.dte >= lo) & (obs.dte < hi)) for lo, hi in DTE_BINS]
        ref_d, ref_t = by_delta[-1], by_dte[1]
        rel_delta = [v / ref_d if ref_d > 0 else math.nan for v in by_delta]
        rel_dte = [v / ref_t if ref_t > 0 else math.nan for v in by_dte]
        setattr(m, f"{field_name}_by_delta", rel_delta)
        setattr(m, f"{field_name}_by_dte", rel_dte)
        why = f"no {field_name} known"
        m.put(f"{field_name}_wing", rel_delta[0], why)
        m.put(f"{field_name}_near", rel_dte[0], why)
        m.put(f"{field_name}_far", rel_dte[2], why)


def _mean(values: np.ndarray, sel: np.ndarray) -> float:
    return float(values[sel].mean()) if sel.any() else math.nan


@dataclass(frozen=True)
class Statistic:
    """How one statistic is named, read and judged."""

    key: str
    label: str
    rel_tol: float
    """Relative distance to the real value that still counts as close."""
    abs_tol: float
    """Absolute distance that counts as close whatever the value."""
    percent: bool = False
    """Show the value as a percentage (a volatility)."""
    fitted: bool = True
    """False for a level the simulator's listings set on purpose (not judged)."""

    def show(self, value: float) -> str:
        """Return the value as the table prints it."""
        if not math.isfinite(value):
            return "n/a"
        return f"{100 * value:.1f} %" if self.percent else f"{value:+.3f}"


STATISTICS: tuple[Statistic, ...] = (
    Statistic("atm_iv", "30-day ATM IV (level)", 0.25, 0.02, percent=True, fitted=False),
    Statistic("realised_vol", "realised vol, 21 sessions (level)", 0.25, 0.02, True, False),
    Statistic("iv_over_rv", "ATM IV / realised vol", 0.20, 0.10),
    Statistic("rr25", "25Δ risk reversal (put − call) / ATM", 0.25, 0.03),
    Statistic("bf25", "25Δ butterfly (wings − ATM) / ATM", 0.35, 0.02),
    Statistic("term_slope", "term slope (90 d / 30 d − 1) per year", 0.35, 0.10),
    Statistic("spread_wing", "bid/ask ÷ mid, |Δ| 0.05–0.15", 0.30, 0.02),
    Statistic("spread_mid", "bid/ask ÷ mid, |Δ| 0.15–0.30", 0.30, 0.01),
    Statistic("spread_atm", "bid/ask ÷ mid, |Δ| 0.30–0.50", 0.30, 0.005),
    Statistic("spread_elasticity", "d ln(bid/ask) / d ln(mid)", 0.25, 0.05),
    Statistic("oi_wing", "open interest |Δ| 0.05–0.15 ÷ 0.30–0.50", 0.35, 0.10),
    Statistic("oi_near", "open interest 1–20 DTE ÷ 20–60 DTE", 0.35, 0.10),
    Statistic("oi_far", "open interest 60–120 DTE ÷ 20–60 DTE", 0.35, 0.10),
    Statistic("volume_wing", "volume |Δ| 0.05–0.15 ÷ 0.30–0.50", 0.35, 0.10),
    Statistic("volume_near", "volume 1–20 DTE ÷ 20–60 DTE", 0.35, 0.25),
    Statistic("volume_far", "volume 60–120 DTE ÷ 20–60 DTE", 0.35, 0.10),
    Statistic("iv_spot_beta", "d ln(ATM IV) / (daily return ÷ ATM IV)", 0.30, 0.15),
    Statistic("iv_spot_corr", "corr(d ln ATM IV, daily return ÷ ATM IV)", 0.20, 0.10),
)
"""Every statistic, in the order the table prints them."""
