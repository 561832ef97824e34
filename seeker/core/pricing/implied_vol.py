"""Implied volatility after P. Jäckel, "Let's Be Rational" (Wilmott, 2015), vectorised."""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.special import ndtr, ndtri

from seeker.core.pricing._common import (
    _BLOCK,
    _INV_SQRT_2PI,
    FloatArray,
    _flat_operand,
    _Scratch,
    _scratch,
)

# The solver runs on blocks of _BLOCK rows in the thread-local scratch pool: every numpy
# call writes into a preallocated row (``out=``) and subsets are built with
# ``np.compress(..., out=)``.

_SQRT3 = 1.732050807568877293527446341505872366942805253810
_TWO_PI = 6.283185307179586476925286766559005768394338798750
_TWO_PI_OVER_SQRT27 = 1.209199576156145233729385505094770488189377498728
_PI_OVER_SIX = 0.523598775598298873077107230546583814032861566563
_EPS = float(np.finfo(np.float64).eps)
_HUGE = float(np.finfo(np.float64).max)
# Rational cubic control parameter bounds (Delbourgo & Gregory 1985, as used by Jäckel).
_RC_MIN = -(1.0 - float(np.sqrt(_EPS)))
_RC_MAX = 2.0 / (_EPS * _EPS)
# A Householder(3) step of relative size <= _STEP_TOL leaves an error of order
# _STEP_TOL**4 (quartic convergence), far below double precision: stop there.
_STEP_TOL = 1e-7
_ABS_TOL = 1e-15
_MAX_ITER = 100
_SQRT_2PI = 2.506628274631000502415765284811045253006986740610


def _guess_lowest(
    ws: _Scratch,
    beta: FloatArray,
    x: FloatArray,
    s_l: FloatArray,
    b_l: FloatArray,
    s0: FloatArray,
) -> None:
    """Jäckel's guess below the tangent point: rational cubic in his lower map f(beta).

    Interpolates f between (0, 0) with f' = 1 and (b_l, f(s_l)) matching f' and f'' there,
    then inverts f(s) = 2π|x|/√27 N(-|x|/(√3 s))³ in closed form. Writes into ``s0``.
    """
    n = beta.shape[0]
    mark = ws.mark()
    ax, z, y, s2, cdf, fpp, fp, fl, ssec, r, tmp, aux = (ws.f(n) for _ in range(12))
    m1, m2, m3 = ws.b(n), ws.b(n), ws.b(n)
    np.negative(x, out=ax)
    np.divide(ax, s_l, out=z)
    np.multiply(z, 1.0 / _SQRT3, out=z)
    np.multiply(z, z, out=y)
    np.multiply(s_l, s_l, out=s2)
    np.negative(z, out=cdf)
    ndtr(cdf, out=cdf)
    pdf = z
    np.multiply(y, -0.5, out=pdf)
    np.exp(pdf, out=pdf)
    np.multiply(pdf, _INV_SQRT_2PI, out=pdf)
    # f'' = π/6 y/s³ N (8√3 s|x| + (3 s²(s² - 8) - 8x²) N/n) e^{2y + s²/4}
    np.subtract(s2, 8.0, out=fpp)
    np.multiply(fpp, s2, out=fpp)
    np.multiply(fpp, 3.0, out=fpp)
    np.multiply(ax, ax, out=tmp)
    np.multiply(tmp, 8.0, out=tmp)
    np.subtract(fpp, tmp, out=fpp)
    np.multiply(fpp, cdf, out=fpp)
    np.divide(fpp, pdf, out=fpp)
    np.multiply(s_l, ax, out=tmp)
    np.multiply(tmp, 8.0 * _SQRT3, out=tmp)
    np.add(fpp, tmp, out=fpp)
    np.multiply(fpp, cdf, out=fpp)
    np.multiply(fpp, y, out=fpp)
    np.divide(fpp, s2, out=fpp)
    np.divide(fpp, s_l, out=fpp)
    np.multiply(fpp, _PI_OVER_SIX, out=fpp)
    np.multiply(y, 2.0, out=tmp)
    np.multiply(s2, 0.25, out=aux)
    np.add(tmp, aux, out=tmp)
    np.exp(tmp, out=tmp)
    np.multiply(fpp, tmp, out=fpp)
    # f' = 2π y N² e^{y + s²/8};  f = 2π/√27 |x| N³
    np.multiply(s2, 0.125, out=fp)
    np.add(fp, y, out=fp)
    np.exp(fp, out=fp)
    np.multiply(fp, y, out=fp)
    np.multiply(fp, cdf, out=fp)
    np.multiply(fp, cdf, out=fp)
    np.multiply(fp, _TWO_PI, out=fp)
    np.multiply(cdf, cdf, out=fl)
    np.multiply(fl, cdf, out=fl)
    np.multiply(fl, ax, out=fl)
    np.multiply(fl, _TWO_PI_OVER_SQRT27, out=fl)
    # Control parameter: fit f'' at b_l, but no less than the shape-preserving minimum.
    np.divide(fl, b_l, out=ssec)
    np.multiply(b_l, fpp, out=r)
    np.multiply(r, 0.5, out=r)
    np.add(r, fp, out=r)
    np.subtract(r, 1.0, out=r)
    np.subtract(fp, ssec, out=tmp)
    np.divide(r, tmp, out=r)
    np.add(fp, 1.0, out=tmp)
    np.divide(tmp, ssec, out=tmp)  # monotonicity bound (f' > 0 at both ends)
    np.fmax(r, tmp, out=r)
    np.subtract(fp, 1.0, out=tmp)
    np.subtract(fp, ssec, out=aux)
    np.divide(tmp, aux, out=aux)
    np.abs(aux, out=aux)
    np.subtract(ssec, 1.0, out=y)
    np.divide(tmp, y, out=y)
    np.abs(y, out=y)
    np.fmax(aux, y, out=aux)  # convexity bound, if the data are convex or concave
    np.greater_equal(ssec, 1.0, out=m1)  # convex data: 1 <= secant <= f'_l
    np.less_equal(ssec, fp, out=m2)
    np.logical_and(m1, m2, out=m1)
    np.less_equal(ssec, 1.0, out=m2)  # concave data: 1 >= secant >= f'_l
    np.greater_equal(ssec, fp, out=m3)
    np.logical_and(m2, m3, out=m2)
    np.logical_or(m1, m2, out=m1)
    np.logical_not(m1, out=m1)
    np.copyto(aux, _RC_MAX, where=m1)
    np.fmax(r, aux, out=r)
    np.maximum(r, _RC_MIN, out=r)
    # Rational cubic through (0, 0; 1) and (b_l, f_l; f'_l) at t = beta / b_l.
    t, omt = y, ssec
    np.divide(beta, b_l, out=t)
    np.subtract(1.0, t, out=omt)
    num = fpp
    np.multiply(r, fl, out=num)
    np.multiply(b_l, fp, out=tmp)
    np.subtract(num, tmp, out=num)
    np.multiply(num, omt, out=num)
    np.multiply(fl, t, out=tmp)
    np.add(num, tmp, out=num)
    np.multiply(num, t, out=num)
    np.multiply(b_l, omt, out=tmp)
    np.multiply(tmp, omt, out=tmp)
    np.add(num, tmp, out=num)
    np.multiply(num, t, out=num)
    np.multiply(t, omt, out=tmp)
    np.subtract(r, 3.0, out=aux)
    np.multiply(tmp, aux, out=tmp)
    np.add(tmp, 1.0, out=tmp)
    f = num
    np.divide(num, tmp, out=f)
    np.greater_equal(r, _RC_MAX, out=m1)
    np.multiply(fl, t, out=tmp)
    np.copyto(f, tmp, where=m1)
    # Quadratic fallback (f(0) = 0, f'(0) = 1, f(b_l) = f_l) where round-off broke it.
    np.greater(f, 0.0, out=m1)
    np.logical_not(m1, out=m1)
    np.multiply(b_l, omt, out=aux)
    np.add(tmp, aux, out=tmp)
    np.multiply(tmp, t, out=tmp)
    np.copyto(f, tmp, where=m1)
    # Invert the lower map: s = |x| / (√3 |N^{-1}((f / (2π|x|/√27))^{1/3})|).
    np.multiply(ax, _TWO_PI_OVER_SQRT27, out=tmp)
    np.divide(f, tmp, out=tmp)
    np.cbrt(tmp, out=tmp)
    ndtri(tmp, out=tmp)
    np.abs(tmp, out=tmp)
    np.multiply(tmp, _SQRT3, out=tmp)
    np.divide(ax, tmp, out=s0)
    np.less(s0, s_l, out=m1)
    np.greater(s0, 0.0, out=m2)
    np.logical_and(m1, m2, out=m1)
    np.logical_not(m1, out=m1)
    np.multiply(s_l, 0.5, out=tmp)
    np.copyto(s0, tmp, where=m1)
    ws.release(mark)


def _guess_lower_middle(
    ws: _Scratch,
    beta: FloatArray,
    x: FloatArray,
    ex: FloatArray,
    s_l: FloatArray,
    b_l: FloatArray,
    s_c: FloatArray,
    b_c: FloatArray,
    s0: FloatArray,
) -> None:
    """Jäckel's guess between the tangent point and the inflexion point.

    Rational cubic s(beta) through (b_l, s_l) and (b_c, s_c) with slopes 1/vega at both
    ends and zero curvature at b_c. Writes into ``s0``.
    """
    n = beta.shape[0]
    mark = ws.mark()
    dl, dr, span, ssec, r, t, omt, tmp, aux = (ws.f(n) for _ in range(9))
    m1, m2, m3 = ws.b(n), ws.b(n), ws.b(n)
    # dl = 1 / vega(s_l) (inf when s_l = 0), dr = 1 / vega(s_c) = √(2π) / e^{x/2}
    np.divide(x, s_l, out=tmp)
    np.multiply(tmp, tmp, out=tmp)
    np.multiply(s_l, 0.5, out=aux)
    np.multiply(aux, aux, out=aux)
    np.add(tmp, aux, out=tmp)
    np.multiply(tmp, 0.5, out=dl)
    np.exp(dl, out=dl)
    np.multiply(dl, _SQRT_2PI, out=dl)
    np.divide(_SQRT_2PI, ex, out=dr)
    np.subtract(b_c, b_l, out=span)
    np.subtract(s_c, s_l, out=ssec)
    np.divide(ssec, span, out=ssec)
    # Control parameter: zero curvature at b_c, no less than the shape-preserving minimum.
    np.subtract(dr, dl, out=tmp)
    np.subtract(dr, ssec, out=aux)
    np.divide(tmp, aux, out=r)
    np.abs(r, out=aux)
    np.subtract(ssec, dl, out=omt)
    np.divide(tmp, omt, out=omt)
    np.abs(omt, out=omt)
    np.fmax(aux, omt, out=aux)  # convexity bound, if the data are convex or concave
    np.less_equal(dl, ssec, out=m1)
    np.less_equal(ssec, dr, out=m2)
    np.logical_and(m1, m2, out=m1)
    np.greater_equal(dl, ssec, out=m2)
    np.greater_equal(ssec, dr, out=m3)
    np.logical_and(m2, m3, out=m2)
    np.logical_or(m1, m2, out=m1)
    np.logical_not(m1, out=m1)
    np.copyto(aux, -_HUGE, where=m1)
    np.fmax(r, aux, out=r)
    np.add(dr, dl, out=tmp)
    np.divide(tmp, ssec, out=tmp)  # monotonicity bound
    np.fmax(r, tmp, out=r)
    np.maximum(r, _RC_MIN, out=r)
    # Rational cubic at t = (beta - b_l) / (b_c - b_l).
    np.subtract(beta, b_l, out=t)
    np.divide(t, span, out=t)
    np.subtract(1.0, t, out=omt)
    np.multiply(span, dl, out=dl)  # h d_l
    np.multiply(span, dr, out=dr)  # h d_r
    np.multiply(r, s_c, out=tmp)
    np.subtract(tmp, dr, out=tmp)
    np.multiply(tmp, omt, out=tmp)
    np.multiply(s_c, t, out=aux)
    np.add(tmp, aux, out=tmp)
    np.multiply(tmp, t, out=tmp)
    np.multiply(tmp, t, out=tmp)  # t² (s_c t + (r s_c - h d_r) omt)
    np.multiply(r, s_l, out=aux)
    np.add(aux, dl, out=aux)
    np.multiply(aux, t, out=aux)
    np.multiply(s_l, omt, out=dr)
    np.add(aux, dr, out=aux)
    np.multiply(aux, omt, out=aux)
    np.multiply(aux, omt, out=aux)  # omt² ((r s_l + h d_l) t + s_l omt)
    np.add(tmp, aux, out=tmp)
    np.multiply(t, omt, out=aux)
    np.subtract(r, 3.0, out=dl)
    np.multiply(aux, dl, out=aux)
    np.add(aux, 1.0, out=aux)
    np.divide(tmp, aux, out=s0)
    np.greater_equal(r, _RC_MAX, out=m1)
    np.multiply(s_c, t, out=tmp)
    np.add(tmp, dr, out=tmp)  # linear: s_c t + s_l omt
    np.copyto(s0, tmp, where=m1)
    # Anything outside [s_l, s_c] (round-off, degenerate data): start at the midpoint.
    np.greater_equal(s0, s_l, out=m1)
    np.less_equal(s0, s_c, out=m2)
    np.logical_and(m1, m2, out=m1)
    np.logical_not(m1, out=m1)
    np.add(s_l, s_c, out=tmp)
    np.multiply(tmp, 0.5, out=tmp)
    np.copyto(s0, tmp, where=m1)
    ws.release(mark)


def _guess_upper(
    ws: _Scratch,
    beta: FloatArray,
    ex: FloatArray,
    s_c: FloatArray,
    b_c: FloatArray,
    s0: FloatArray,
) -> None:
    """Guess above the inflexion point: quadratic in Jäckel's upper map f = N(-s/2).

    Through f(b_c) = N(-s_c/2), f(bmax) = 0 with f'(bmax) = -1/2, inverted with ndtri;
    exact at x = 0 and within ~3 % elsewhere. Writes into ``s0``.
    """
    n = beta.shape[0]
    mark = ws.mark()
    span, t, f, tmp = (ws.f(n) for _ in range(4))
    m1 = ws.b(n)
    np.subtract(ex, b_c, out=span)
    np.subtract(beta, b_c, out=t)
    np.divide(t, span, out=t)
    np.subtract(1.0, t, out=tmp)  # 1 - t
    np.multiply(s_c, -0.5, out=f)
    ndtr(f, out=f)
    np.multiply(f, tmp, out=f)
    np.multiply(span, t, out=t)
    np.multiply(t, 0.5, out=t)
    np.add(f, t, out=f)
    np.multiply(f, tmp, out=f)
    ndtri(f, out=s0)
    np.multiply(s0, -2.0, out=s0)
    np.greater(s0, s_c, out=m1)
    np.logical_not(m1, out=m1)  # NaN or below the bracket: let the solver bisect
    np.multiply(s_c, 2.0, out=tmp)
    np.add(tmp, 0.1, out=tmp)
    np.copyto(s0, tmp, where=m1)
    ws.release(mark)


def _householder(
    ws: _Scratch,
    state: list[np.ndarray],
    k0: int,
    k1: int,
    result: FloatArray,
) -> None:
    """Solve b(x, s) = beta by bracketed Householder(3) steps; write s into ``result[pos]``.

    ``state`` holds rows pos, beta, x, ex, aux, s, lo, hi, sorted by objective (Jäckel
    2015): rows [0, k0) use ``1/ln b - 1/ln beta`` (aux = ln beta), rows [k0, k1) use
    ``b - beta``, rows [k1, n) use ``ln(bmax - beta) - ln(bmax - b)`` (aux = ln(bmax -
    beta)). Converged rows are dropped each step; rows still open after _MAX_ITER steps
    stay NaN.
    """
    active = state[0].shape[0]
    spare = [ws.i(active)] + [ws.f(active) for _ in range(7)]
    for _ in range(_MAX_ITER):
        if active == 0:
            return
        pos, beta, x, ex, aux, s, lo, hi = (a[:active] for a in state)
        mark = ws.mark()
        h, t, b, bp, tmp, ds, den = (ws.f(active) for _ in range(7))
        above, done, bad = ws.b(active), ws.b(active), ws.b(active)
        np.divide(x, s, out=h)
        np.multiply(s, 0.5, out=t)
        np.add(h, t, out=b)
        ndtr(b, out=b)
        np.multiply(b, ex, out=b)
        np.subtract(h, t, out=bp)
        ndtr(bp, out=bp)
        np.divide(bp, ex, out=bp)
        np.subtract(b, bp, out=b)  # b = e^{x/2} N(h + t) - e^{-x/2} N(h - t)
        np.multiply(h, h, out=bp)
        np.multiply(t, t, out=tmp)
        np.add(bp, tmp, out=bp)
        np.multiply(bp, -0.5, out=bp)
        np.exp(bp, out=bp)
        np.multiply(bp, _INV_SQRT_2PI, out=bp)  # b' = db/ds
        np.greater(b, beta, out=above)
        np.minimum(hi, s, out=hi, where=above)
        np.logical_not(above, out=above)
        np.maximum(lo, s, out=lo, where=above)
        halley, hh3 = h, t  # start as b''/b' and b'''/b', then per objective
        np.divide(h, s, out=tmp)  # x / s²
        np.multiply(h, tmp, out=halley)
        np.multiply(s, 0.25, out=ds)
        np.subtract(halley, ds, out=halley)  # b''/b' = x²/s³ - s/4
        np.multiply(tmp, tmp, out=hh3)
        np.multiply(hh3, -3.0, out=hh3)
        np.multiply(halley, halley, out=tmp)
        np.add(hh3, tmp, out=hh3)
        np.subtract(hh3, 0.25, out=hh3)  # b'''/b' = (b''/b')² - 3 x²/s⁴ - 1/4
        newton = ds
        np.subtract(beta, b, out=newton)
        np.divide(newton, bp, out=newton)
        if k0 > 0:
            _lower_objective(ws, b[:k0], bp[:k0], aux[:k0], newton[:k0], halley[:k0], hh3[:k0])
        if k1 < active:
            sl = slice(k1, active)
            _upper_objective(ws, b[sl], bp[sl], ex[sl], aux[sl], newton[sl], halley[sl], hh3[sl])
        # s += newton (1 + halley newton / 2) / (1 + newton (halley + hh3 newton / 6))
        np.multiply(hh3, newton, out=den)
        np.multiply(den, 1.0 / 6.0, out=den)
        np.add(den, halley, out=den)
        np.multiply(den, newton, out=den)
        np.add(den, 1.0, out=den)
        np.multiply(halley, newton, out=tmp)
        np.multiply(tmp, 0.5, out=tmp)
        np.add(tmp, 1.0, out=tmp)
        np.multiply(tmp, newton, out=tmp)
        np.divide(tmp, den, out=tmp)
        np.multiply(s, -0.5, out=den)
        np.maximum(tmp, den, out=tmp)  # never more than halve s ...
        np.minimum(tmp, s, out=tmp)  # ... nor more than double it
        step, s_new = tmp, den
        np.add(s, step, out=s_new)
        np.abs(step, out=step)
        np.multiply(s_new, _STEP_TOL, out=h)
        np.add(h, _ABS_TOL, out=h)
        np.less_equal(step, h, out=done)
        np.subtract(hi, lo, out=h)
        np.multiply(s_new, 4.0 * _EPS, out=t)
        np.less_equal(h, t, out=above)
        np.logical_or(done, above, out=done)
        # Safeguard: a step that leaves the bracket (or is NaN) becomes a bisection.
        np.greater(s_new, lo, out=bad)
        np.less(s_new, hi, out=above)
        np.logical_and(bad, above, out=bad)
        np.logical_or(bad, done, out=bad)
        np.logical_not(bad, out=bad)
        if bad.any():
            np.add(lo, hi, out=h)
            np.multiply(h, 0.5, out=h)
            np.isinf(hi, out=above)
            np.multiply(lo, 2.0, out=t)
            np.add(t, 0.1, out=t)
            np.copyto(h, t, where=above)  # no upper bound yet: expand
            np.copyto(s_new, h, where=bad)
        n_done = int(np.count_nonzero(done))
        if n_done:
            idx = ws.i(n_done)
            val = ws.f(n_done)
            np.compress(done, pos, out=idx)
            np.compress(done, s_new, out=val)
            result[idx] = val
            if n_done == active:
                return
            keep = done
            np.logical_not(done, out=keep)
            n_low = int(np.count_nonzero(keep[:k0]))
            k1 = n_low + int(np.count_nonzero(keep[k0:k1]))
            k0 = n_low
            new_active = active - n_done
            for src, dst in zip((pos, beta, x, ex, aux, s_new, lo, hi), spare, strict=True):
                np.compress(keep, src, out=dst[:new_active])
            state, spare = spare, state
            active = new_active
        else:
            np.copyto(s, s_new)
        ws.release(mark)


def _lower_objective(
    ws: _Scratch,
    b: FloatArray,
    bp: FloatArray,
    ln_beta: FloatArray,
    newton: FloatArray,
    halley: FloatArray,
    hh3: FloatArray,
) -> None:
    """Turn newton/halley/hh3 (set for b - beta) into those of 1/ln b - 1/ln beta, in place.

    newton = (ln beta - ln b) ln b / ln beta * b/b';  halley = b''/b' - b'/b (1 + 2/ln b);
    hh3 = b'''/b' + 2 (b'/b)^2 (1 + 3/ln b (1 + 1/ln b)) - 3 b''/b' b'/b (1 + 2/ln b).
    """
    n = b.shape[0]
    mark = ws.mark()
    ln_b, bpob, inv, c1, tmp = (ws.f(n) for _ in range(5))
    np.log(b, out=ln_b)
    np.divide(bp, b, out=bpob)
    np.subtract(ln_beta, ln_b, out=newton)
    np.multiply(newton, ln_b, out=newton)
    np.divide(newton, ln_beta, out=newton)
    np.divide(newton, bpob, out=newton)
    np.divide(1.0, ln_b, out=inv)
    np.multiply(inv, 2.0, out=c1)
    np.add(c1, 1.0, out=c1)
    np.add(inv, 1.0, out=tmp)
    np.multiply(tmp, inv, out=tmp)
    np.multiply(tmp, 3.0, out=tmp)
    np.add(tmp, 1.0, out=tmp)
    np.multiply(tmp, bpob, out=tmp)
    np.multiply(tmp, bpob, out=tmp)
    np.multiply(tmp, 2.0, out=tmp)
    np.add(hh3, tmp, out=hh3)
    np.multiply(halley, bpob, out=tmp)
    np.multiply(tmp, c1, out=tmp)
    np.multiply(tmp, 3.0, out=tmp)
    np.subtract(hh3, tmp, out=hh3)
    np.multiply(bpob, c1, out=tmp)
    np.subtract(halley, tmp, out=halley)
    ws.release(mark)


def _upper_objective(
    ws: _Scratch,
    b: FloatArray,
    bp: FloatArray,
    ex: FloatArray,
    ln_gap_beta: FloatArray,
    newton: FloatArray,
    halley: FloatArray,
    hh3: FloatArray,
) -> None:
    """Turn newton/halley/hh3 into those of ln(bmax - beta) - ln(bmax - b), in place.

    With g' = b'/(bmax - b): newton = ln((bmax - b)/(bmax - beta)) / g';
    halley = b''/b' + g';  hh3 = b'''/b' + g' (2 g' + 3 b''/b').
    """
    n = b.shape[0]
    mark = ws.mark()
    gap, gp, tmp = (ws.f(n) for _ in range(3))
    np.subtract(ex, b, out=gap)
    np.divide(bp, gap, out=gp)
    np.log(gap, out=gap)
    np.subtract(gap, ln_gap_beta, out=newton)
    np.divide(newton, gp, out=newton)
    np.multiply(halley, 3.0, out=tmp)
    np.add(tmp, gp, out=tmp)
    np.add(tmp, gp, out=tmp)
    np.multiply(tmp, gp, out=tmp)
    np.add(hh3, tmp, out=hh3)
    np.add(halley, gp, out=halley)
    ws.release(mark)


def _normalised_solve(
    ws: _Scratch, beta: FloatArray, x: FloatArray, ex: FloatArray, result: FloatArray
) -> None:
    """Write s = sigma sqrt(T) solving b(x, s) = beta into ``result`` (NaN on failure).

    Needs x <= 0, 0 < beta < ex = e^{x/2}. Rows are sorted into Jäckel's segments: lowest
    (beta < b_l), lower-middle (b_l <= beta < b_c), upper (beta >= b_c; split at bmax/2
    for the objective), each with its own initial guess, then solved together.
    """
    c = beta.shape[0]
    sc, bc, tmp = ws.f(c), ws.f(c), ws.f(c)
    lower, upper = ws.b(c), ws.b(c)
    np.multiply(x, -2.0, out=sc)
    np.sqrt(sc, out=sc)  # inflexion point s_c = sqrt(2|x|)
    np.negative(sc, out=bc)
    ndtr(bc, out=bc)
    np.divide(bc, ex, out=bc)
    np.multiply(ex, 0.5, out=tmp)
    np.subtract(tmp, bc, out=bc)  # b_c = b(x, s_c) = e^{x/2}/2 - e^{-x/2} N(-s_c)
    np.less(beta, bc, out=lower)
    np.logical_not(lower, out=upper)
    n_low = int(np.count_nonzero(lower))
    split = [ws.i(c)] + [ws.f(c) for _ in range(5)]
    for src, dst in zip((ws.arange[:c], beta, x, ex, sc, bc), split, strict=True):
        np.compress(lower, src, out=dst[:n_low])
        np.compress(upper, src, out=dst[n_low:])
    state = [ws.i(c)] + [ws.f(c) for _ in range(7)]  # pos, beta, x, ex, aux, s, lo, hi
    f_sc, f_bc, f_sl, f_bl = (ws.f(c) for _ in range(4))
    n0 = 0
    if n_low:
        p_, b_, x_, e_, sc_, bc_ = (a[:n_low] for a in split)
        s_l, b_l, h, t = (ws.f(n_low) for _ in range(4))
        np.divide(bc_, e_, out=s_l)
        np.multiply(s_l, _SQRT_2PI, out=s_l)
        np.subtract(sc_, s_l, out=s_l)
        np.maximum(s_l, 0.0, out=s_l)  # tangent at s_c hits b = 0 at s_l >= 0 (convexity)
        np.divide(x_, s_l, out=h)
        np.multiply(s_l, 0.5, out=t)
        np.add(h, t, out=b_l)
        ndtr(b_l, out=b_l)
        np.multiply(b_l, e_, out=b_l)
        np.subtract(h, t, out=h)
        ndtr(h, out=h)
        np.divide(h, e_, out=h)
        np.subtract(b_l, h, out=b_l)  # b_l = b(x, s_l)
        lowest, rest = ws.b(n_low), ws.b(n_low)
        np.less(b_, b_l, out=lowest)
        np.logical_not(lowest, out=rest)
        n0 = int(np.count_nonzero(lowest))
        dsts = (*state[:4], f_sc, f_bc, f_sl, f_bl)
        for src, dst in zip((p_, b_, x_, e_, sc_, bc_, s_l, b_l), dsts, strict=True):
            np.compress(lowest, src, out=dst[:n0])
            np.compress(rest, src, out=dst[n0:n_low])
    n_u1 = 0
    if n_low < c:
        p_, b_, x_, e_, sc_, bc_ = (a[n_low:] for a in split)
        high, low = ws.b(c - n_low), ws.b(c - n_low)
        half = tmp[: c - n_low]
        np.multiply(e_, 0.5, out=half)
        np.greater(b_, half, out=high)
        np.logical_not(high, out=low)
        n_u1 = int(np.count_nonzero(low))
        for src, dst in zip((p_, b_, x_, e_, sc_, bc_), (*state[:4], f_sc, f_bc), strict=True):
            np.compress(low, src, out=dst[n_low : n_low + n_u1])
            np.compress(high, src, out=dst[n_low + n_u1 : c])
    _, sb, sx, se, aux, s, lo, hi = state
    if n0:
        seg = slice(0, n0)
        _guess_lowest(ws, sb[seg], sx[seg], f_sl[seg], f_bl[seg], s[seg])
        lo[seg] = 0.0
        np.multiply(f_sl[seg], 1.0 + 1e-12, out=hi[seg])
        np.log(sb[seg], out=aux[seg])
    if n_low > n0:
        seg = slice(n0, n_low)
        _guess_lower_middle(
            ws, sb[seg], sx[seg], se[seg], f_sl[seg], f_bl[seg], f_sc[seg], f_bc[seg], s[seg]
        )
        np.multiply(f_sl[seg], 1.0 - 1e-12, out=lo[seg])
        np.multiply(f_sc[seg], 1.0 + 1e-12, out=hi[seg])
    if n_low < c:
        seg = slice(n_low, c)
        _guess_upper(ws, sb[seg], se[seg], f_sc[seg], f_bc[seg], s[seg])
        lo[seg] = f_sc[seg]
        hi[seg] = np.inf
    k1 = n_low + n_u1
    if k1 < c:
        seg = slice(k1, c)
        np.subtract(se[seg], sb[seg], out=aux[seg])
        np.log(aux[seg], out=aux[seg])
    result.fill(np.nan)
    _householder(ws, state, n0, k1, result)


def _iv_block(
    ws: _Scratch,
    P: FloatArray | float,
    S: FloatArray | float,
    K: FloatArray | float,
    T: FloatArray | float,
    r: FloatArray | float,
    q: FloatArray | float,
    call: NDArray[np.bool_] | bool,
    out: FloatArray,
) -> None:
    """Write implied volatilities of one block into ``out`` (NaN where none exists)."""
    n = out.shape[0]
    valid, tmpb = ws.b(n), ws.b(n)
    np.greater(P, 0.0, out=valid)
    for a in (S, K, T):
        np.greater(a, 0.0, out=tmpb)
        np.logical_and(valid, tmpb, out=valid)
    for a in (P, S, K, T, r, q):
        np.isfinite(a, out=tmpb)
        np.logical_and(valid, tmpb, out=valid)
    fwd, kd, diff, otm, x, beta = (ws.f(n) for _ in range(6))
    np.multiply(q, T, out=fwd)
    np.negative(fwd, out=fwd)
    np.exp(fwd, out=fwd)
    np.multiply(fwd, S, out=fwd)  # S e^{-qT}
    np.multiply(r, T, out=kd)
    np.negative(kd, out=kd)
    np.exp(kd, out=kd)
    np.multiply(kd, K, out=kd)  # K e^{-rT}
    np.subtract(fwd, kd, out=diff)
    np.negative(diff, out=otm)
    np.copyto(otm, diff, where=call)
    np.maximum(otm, 0.0, out=otm)  # discounted forward intrinsic
    np.subtract(P, otm, out=otm)  # out-of-the-money price, via put-call parity
    np.greater(otm, 0.0, out=tmpb)
    np.logical_and(valid, tmpb, out=valid)
    np.copyto(diff, kd)
    np.copyto(diff, fwd, where=call)  # upper bound
    np.greater(diff, P, out=tmpb)
    np.logical_and(valid, tmpb, out=valid)
    np.divide(fwd, kd, out=x)
    np.log(x, out=x)
    np.abs(x, out=x)
    np.negative(x, out=x)  # x = -|ln(F/K)|
    np.isfinite(x, out=tmpb)
    np.logical_and(valid, tmpb, out=valid)
    np.multiply(fwd, kd, out=beta)
    np.sqrt(beta, out=beta)
    np.divide(otm, beta, out=beta)  # normalised OTM price
    ex = diff
    np.multiply(x, 0.5, out=ex)
    np.exp(ex, out=ex)
    np.less(beta, ex, out=tmpb)
    np.logical_and(valid, tmpb, out=valid)
    out.fill(np.nan)
    c = int(np.count_nonzero(valid))
    if c == 0:
        return
    res = ws.f(c)
    if c == n:
        _normalised_solve(ws, beta, x, ex, res)
        sqt = fwd
        np.sqrt(T, out=sqt)
        np.divide(res, sqt, out=out)
        return
    pos = ws.i(c)
    np.compress(valid, ws.arange[:n], out=pos)
    b_, x_, e_, sqt = ws.f(c), ws.f(c), ws.f(c), ws.f(c)
    np.compress(valid, beta, out=b_)
    np.compress(valid, x, out=x_)
    np.compress(valid, ex, out=e_)
    _normalised_solve(ws, b_, x_, e_, res)
    if isinstance(T, float):
        np.divide(res, np.sqrt(T), out=res)
    else:
        np.compress(valid, T, out=sqt)
        np.sqrt(sqt, out=sqt)
        np.divide(res, sqt, out=res)
    out[pos] = res


def implied_vol(
    price: ArrayLike,
    S: ArrayLike,
    K: ArrayLike,
    T: ArrayLike,
    r: ArrayLike,
    is_call: ArrayLike,
    q: ArrayLike = 0.0,
) -> FloatArray:
    """Return the Black-Scholes-Merton implied volatility (per 1.00) of option prices.

    NaN wherever no positive volatility reproduces the price: price at or below the
    discounted forward intrinsic ``max(w(S e^{-qT} - K e^{-rT}), 0)``, price at or above
    the upper bound (``S e^{-qT}`` for calls, ``K e^{-rT}`` for puts), ``T <= 0``,
    non-positive price, S or K, or any non-finite input.

    Method (P. Jäckel, "Let's Be Rational", Wilmott 2015): put-call parity turns every
    quote into the out-of-the-money option, in normalised form ``b = price / sqrt(F K) /
    e^{-rT}`` with ``x = -|ln(F/K)|``. Initial guess: Jäckel's rational cubic in his lower
    map below the tangent point ``s_l``, a rational cubic in ``s`` up to the inflexion point
    ``sqrt(2|x|)``, and above it a quadratic in his upper map ``N(-s/2)`` inverted with
    ``ndtri`` (within ~10 %, ~1 %, ~3 % of the root). Then Householder(3) steps on his
    log-transformed objectives, kept inside a bracket with bisection fallback, on the
    unconverged subset only; two steps reach machine precision in practice.
    """
    arrs = [np.asarray(a, dtype=np.float64) for a in (price, S, K, T, r, q)]
    call_in = np.asarray(is_call, dtype=bool)
    shape = np.broadcast_shapes(*(a.shape for a in arrs), call_in.shape)
    size = math.prod(shape)
    flat = [_flat_operand(a, shape, size) for a in arrs]
    call: NDArray[np.bool_] | bool
    if call_in.size == 1:
        call = bool(call_in.reshape(()))
    else:
        call = np.broadcast_to(call_in, shape).reshape(size)
    out = np.empty(size)
    ws = _scratch()
    with np.errstate(all="ignore"):
        for start in range(0, size, _BLOCK):
            stop = min(start + _BLOCK, size)
            ws.release((0, 0, 0))
            args = [a if isinstance(a, float) else a[start:stop] for a in flat]
            block_call = call if isinstance(call, bool) else call[start:stop]
            _iv_block(ws, *args, block_call, out[start:stop])
    return out.reshape(shape)
