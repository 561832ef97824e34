"""Market regime: daily indicators, the option-surface points and the Regime Classifier.

The classifier reads an underlying's daily history and three points of its option surface (front
and next ATM IV, front 25-delta put and call IV) and labels five dimensions: trend, IV rank,
structure (range / breakout), term structure and skew (``classify``). A missing or undefined input
raises ``DataUnavailable`` with the reason; no value is ever substituted.
"""

from seeker.agents.regime.classify import classify
from seeker.agents.regime.indicators import adx, average_true_range, iv_percentile, iv_rank
from seeker.agents.regime.labels import (
    LABELS,
    IvrLevel,
    Regime,
    RegimeConfig,
    Skew,
    Structure,
    Term,
    Trend,
    ivr_label,
    skew_label,
    structure_label,
    term_label,
    trend_label,
)
from seeker.agents.regime.surface import SurfacePoints, surface_points, term_expiries

__all__ = [
    "LABELS",
    "IvrLevel",
    "Regime",
    "RegimeConfig",
    "Skew",
    "Structure",
    "SurfacePoints",
    "Term",
    "Trend",
    "adx",
    "average_true_range",
    "classify",
    "iv_percentile",
    "iv_rank",
    "ivr_label",
    "skew_label",
    "structure_label",
    "surface_points",
    "term_expiries",
    "term_label",
    "trend_label",
]
