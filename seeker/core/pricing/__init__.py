"""Vectorised Black-Scholes-Merton pricing, greeks, implied volatility and touch odds.

Conventions for every function here: inputs are scalars or arrays that broadcast together;
``S`` spot, ``K`` strike, ``T`` time to expiry in years, ``r`` risk-free rate per year
(continuous), ``q`` dividend yield per year (continuous), ``sigma`` volatility per 1.00
(0.20 = 20 %), ``is_call`` a bool or bool array. Results are float64 arrays of the broadcast
shape (0-d for all-scalar inputs). Nothing here emits a RuntimeWarning.

Edge cases of the pricer, by design:

* ``T <= 0`` (expired): price is the intrinsic value ``max(w(S - K), 0)`` with ``w = +1``
  for calls and ``-1`` for puts; delta is the step ``w`` if strictly in the money else 0;
  gamma, vega, theta and rho are 0.
* ``T > 0`` and ``sigma <= 0``: the zero-volatility limit, i.e. the discounted forward
  intrinsic ``max(w(S e^{-qT} - K e^{-rT}), 0)``; delta ``w e^{-qT}``, theta
  ``w (q S e^{-qT} - r K e^{-rT})`` and rho ``w K T e^{-rT}`` when strictly in the money
  (forward), else 0; gamma and vega are 0.
* ``S`` and ``K`` are expected positive; NaN inputs give NaN outputs.

Implied volatility follows the structure of P. Jäckel, "Let's Be Rational" (Wilmott, 2015):
normalised Black price of the out-of-the-money side, a rational initial guess on four
segments, then third-order Householder steps (quartic convergence) on a segment-specific
objective; see ``implied_vol``.

Performance: work is done in blocks of ``_BLOCK`` rows with every numpy call writing into
a thread-local pool of scratch rows, so a call allocates only its result (or nothing, with
``bs_price_greeks(..., out=...)``). On one core of the dev VM, 100 000 random rows take
~45-50 ns each for price + greeks and ~0.25-0.3 us each for implied vols
(``python bench/bench_pricing.py``). Small calls pay a fixed ~0.05 ms (pricer) or
~0.3 ms (implied vol) of Python overhead; pricer calls whose inputs are already python floats
and 1-D float64 arrays of one length (at most one block) skip the broadcasting set-up (~0.03 ms).
"""

from seeker.core.pricing.bsm import bs_greeks, bs_price, bs_price_greeks
from seeker.core.pricing.implied_vol import implied_vol
from seeker.core.pricing.touch import prob_beyond, prob_touch

__all__ = [
    "bs_greeks",
    "bs_price",
    "bs_price_greeks",
    "implied_vol",
    "prob_beyond",
    "prob_touch",
]
