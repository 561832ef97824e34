"""Tests of the simulated IV surface's scalar fast paths: the very numbers of the array paths."""

from __future__ import annotations

import numpy as np

from seeker.core.sim.settings import SimVolSettings
from seeker.core.sim.surface import T30, Surface, atm_vol, atm_vols, smile_rows
from tests.core.test_sim_market import make_settings


def _vol_settings() -> SimVolSettings:
    return make_settings().iv


def test_atm_vol_is_atm_vols_bit_for_bit() -> None:
    vp = _vol_settings()
    rng = np.random.default_rng(5)
    n = 4000
    t = np.concatenate(
        [
            rng.uniform(60.0 / (365.0 * 86400.0), 2.0, n),
            [1e-12, 1e-9, T30, 1.0, 1.5],  # below the small-κT cut, the 30-day point, slope cap
        ]
    )
    base_iv = rng.uniform(0.1, 0.6, t.size)
    shift = rng.normal(0.0, 0.6, t.size)
    slope = rng.normal(0.0, 0.3, t.size)
    arrays = atm_vols(base_iv, shift, slope, t, vp)
    for k in range(t.size):
        one = atm_vol(float(base_iv[k]), float(shift[k]), float(slope[k]), float(t[k]), vp)
        assert type(one) is float
        assert one == arrays[k]  # the same double, not merely close
        assert one == atm_vols(base_iv[k], shift[k], slope[k], t[k : k + 1], vp)[0]


def test_scalar_smile_and_moneyness_match_the_grouped_rows() -> None:
    vp = _vol_settings()
    surface = Surface(base_iv=0.25, shift=0.3, term_slope=-0.2, skew=0.4, params=vp)
    strikes = np.linspace(50.0, 150.0, 101)
    t = np.array([0.02, 0.3])
    forwards = np.array([99.5, 101.25])
    both = surface.moneyness(np.concatenate([strikes, strikes]), forwards, t, [101, 101])
    atm = surface.atm(t)
    vols, k = smile_rows(atm, 0.4, np.concatenate([strikes, strikes]), forwards, t, vp, [101, 101])
    for g in range(2):
        rows = slice(101 * g, 101 * (g + 1))
        alone = surface.moneyness(strikes, float(forwards[g]), float(t[g]))
        assert np.array_equal(alone, both[rows])
        one_atm = atm_vol(0.25, 0.3, -0.2, float(t[g]), vp)
        v1, k1 = smile_rows(one_atm, 0.4, strikes, float(forwards[g]), float(t[g]), vp)
        assert v1 is not None and vols is not None
        assert np.array_equal(v1, vols[rows]) and np.array_equal(k1, k[rows])
