"""Shared machinery of the pricer and the implied-vol solver: constants, scratch rows, operands."""

from __future__ import annotations

import threading

import numpy as np
from numpy.typing import ArrayLike, NDArray

FloatArray = NDArray[np.float64]

_INV_SQRT_2PI = 0.3989422804014326779399460599343818684758586311649
_GREEK_KEYS = ("delta", "gamma", "vega", "theta", "rho")
# Rows per block: pricer and implied-vol solver work block by block in a thread-local
# pool of scratch rows (``_Scratch``), so a call allocates nothing but its result. Fresh
# temporaries each cost a page fault per 4 KiB touched (~2 us in a VM) and used to
# dominate; bigger blocks amortise the per-call Python overhead (the IV solver makes
# ~600 numpy calls per block). The pool grows to ~60 rows of _BLOCK values (~8 MB) per
# thread that solves implied vols, ~1 MB per thread that only prices.
_BLOCK = 16384


class _Scratch:
    """Pool of reusable 1-D scratch rows, handed out stack-wise (mark/release)."""

    def __init__(self, width: int) -> None:
        self.width = width
        self._rows: dict[str, list[np.ndarray]] = {"f": [], "i": [], "b": []}
        self._used = {"f": 0, "i": 0, "b": 0}
        self.arange = np.arange(width, dtype=np.intp)

    def _take(self, kind: str, n: int, dtype: type) -> np.ndarray:
        rows = self._rows[kind]
        i = self._used[kind]
        if i == len(rows):
            rows.append(np.empty(self.width, dtype=dtype))
        self._used[kind] = i + 1
        return rows[i][:n]

    def f(self, n: int) -> FloatArray:
        """Return a float64 scratch row of length n."""
        return self._take("f", n, np.float64)

    def i(self, n: int) -> NDArray[np.intp]:
        """Return an index scratch row of length n."""
        return self._take("i", n, np.intp)

    def b(self, n: int) -> NDArray[np.bool_]:
        """Return a bool scratch row of length n."""
        return self._take("b", n, np.bool_)

    def mark(self) -> tuple[int, int, int]:
        """Return the current stack position."""
        return self._used["f"], self._used["i"], self._used["b"]

    def release(self, mark: tuple[int, int, int]) -> None:
        """Free every row taken since ``mark``."""
        self._used["f"], self._used["i"], self._used["b"] = mark


_TLS = threading.local()


def _scratch() -> _Scratch:
    """Return this thread's scratch pool, emptied."""
    ws: _Scratch | None = getattr(_TLS, "scratch", None)
    if ws is None:
        ws = _TLS.scratch = _Scratch(_BLOCK)
    ws.release((0, 0, 0))
    return ws


def _as_float_arrays(*args: ArrayLike) -> tuple[tuple[int, ...], list[FloatArray]]:
    """Return the broadcast shape and float64 arrays of at least 1-D with that shape.

    Arrays are views where possible (no copies); 0-d inputs become shape (1,) so that
    in-place ufuncs work, and callers reshape results back to the returned shape.
    """
    arrs = [np.asarray(a, dtype=np.float64) for a in args]
    shape = np.broadcast_shapes(*(a.shape for a in arrs))
    if shape == ():
        return shape, [a.reshape(1) for a in arrs]
    if any(a.shape != shape for a in arrs):
        arrs = list(np.broadcast_arrays(*arrs))
    return shape, arrs


def _sign(is_call: ArrayLike) -> FloatArray:
    """Return +1.0 for calls and -1.0 for puts."""
    w = np.asarray(is_call, dtype=bool).astype(np.float64)
    w *= 2.0
    w -= 1.0
    return w


def _flat_operand(a: ArrayLike, shape: tuple[int, ...], size: int) -> FloatArray | float:
    """Return a python float for a single value, else a flat float64 array of `size`."""
    arr = np.asarray(a, dtype=np.float64)
    if arr.size == 1:
        return float(arr.reshape(()))
    if arr.shape != shape:
        arr = np.broadcast_to(arr, shape)
    return arr.reshape(size)  # a view for contiguous full-shape arrays


def _flat_call(
    call: NDArray[np.bool_], shape: tuple[int, ...], size: int
) -> NDArray[np.bool_] | bool:
    """Return a python bool for a single flag, else a flat bool array of `size`."""
    if call.size == 1:
        return bool(call.reshape(()))
    if call.shape != shape:
        call = np.broadcast_to(call, shape)
    return call.reshape(size)
