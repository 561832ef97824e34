"""Read the Parquet chain store: one quote date at a time, as columns.

:class:`ChainStore` lists the quote dates and loads a day as an Arrow table; :class:`DayChain`
holds one underlying's (and option root's) rows of a day as numpy arrays, and builds
:class:`~seeker.core.models.OptionQuote` objects only for the rows asked for. Missing optional
values come out as NaN (floats) and None (open interest, volume), as OptionQuote allows.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from seeker.core.models import DataUnavailable, OptionContract, OptionQuote, Right
from seeker.core.replay.schema import FLOAT_COLUMNS, PARTITION, arrow_schema

_PARTITION_DIR = re.compile(rf"^{PARTITION}=(\d{{4}}-\d{{2}}-\d{{2}})$")
_EPOCH = date(1970, 1, 1)


class ChainStore:
    """A store written by :func:`~seeker.core.replay.importers.import_chains`."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        if not self.path.is_dir():
            raise FileNotFoundError(f"{self.path}: no chain store here (not a folder)")
        days: dict[date, Path] = {}
        for entry in sorted(self.path.iterdir()):
            m = _PARTITION_DIR.match(entry.name)
            if m is None or not entry.is_dir():
                continue
            parts = sorted(entry.glob("*.parquet"))
            if parts:
                days[date.fromisoformat(m.group(1))] = entry
        self._days = days

    def quote_dates(self) -> list[date]:
        """Return the quote dates in the store, sorted."""
        return sorted(self._days)

    def load_day(self, quote_date: date, columns: Sequence[str] | None = None) -> pa.Table:
        """Return one quote date's rows in the normalized schema (or only `columns`)."""
        folder = self._days.get(quote_date)
        if folder is None:
            raise DataUnavailable(f"no chain for {quote_date} in {self.path}")
        body = arrow_schema(with_partition=False)
        names = [n for n in body.names if columns is None or n in columns]
        tables = [
            pq.read_table(p, columns=names, schema=body) for p in sorted(folder.glob("*.parquet"))
        ]
        table = pa.concat_tables(tables) if len(tables) > 1 else tables[0]
        if columns is None or PARTITION in columns:
            qd = pa.array([quote_date] * table.num_rows, pa.date32())
            table = table.add_column(0, PARTITION, qd)
        return table

    def day(
        self, quote_date: date, underlying: str, root: str | None, table: pa.Table | None = None
    ) -> DayChain:
        """Return the rows of one underlying (and root, if given) on one quote date.

        `table` is the day as :meth:`load_day` returned it, when the caller already holds it.
        """
        t = self.load_day(quote_date) if table is None else table
        mask = pc.equal(t["underlying"], underlying)
        if root is not None:
            mask = pc.and_(mask, pc.equal(t["root"], root))
        return DayChain(quote_date, t.filter(pc.fill_null(mask, False)))


def _floats(col: pa.ChunkedArray) -> np.ndarray:
    return np.asarray(pc.fill_null(col, np.nan).to_numpy(), dtype=np.float64)


def _counts(col: pa.ChunkedArray) -> tuple[np.ndarray, np.ndarray]:
    valid = np.asarray(pc.is_valid(col).to_numpy(zero_copy_only=False), dtype=bool)
    values = np.asarray(pc.fill_null(col, 0).to_numpy(), dtype=np.int64)
    return values, valid


class DayChain:
    """One underlying's option rows of one quote date, as numpy columns."""

    def __init__(self, quote_date: date, table: pa.Table) -> None:
        self.quote_date = quote_date
        self.rows = table.num_rows
        self.expiry_days = np.asarray(
            pc.cast(table["expiration"], pa.int32()).to_numpy(), dtype=np.int32
        )
        self.strike = _floats(table["strike"])
        self.is_call = np.asarray(pc.equal(table["right"], "C").to_numpy(zero_copy_only=False))
        self.f = {name: _floats(table[name]) for name in FLOAT_COLUMNS}
        self.volume, self.volume_ok = _counts(table["volume"])
        self.oi, self.oi_ok = _counts(table["open_interest"])
        self._text = {
            name: table[name]
            for name in ("quote_time", "settlement", "style", "root", "multiplier")
        }
        self._index: dict[tuple[int, float, bool], int] | None = None
        self._dates: dict[int, date] = {}

    # -- what is listed --------------------------------------------------------------------
    def expiries(self) -> list[date]:
        """Return the expiries present, sorted."""
        return [self._date(int(d)) for d in np.unique(self.expiry_days)]

    def strikes(self, expiry: date) -> list[float]:
        """Return the strikes present for one expiry (either right), sorted."""
        mask = self.expiry_days == (expiry - _EPOCH).days
        return [float(k) for k in np.unique(self.strike[mask])]

    def select(
        self, expiries: Sequence[date], strike_range: tuple[float, float] | None
    ) -> np.ndarray:
        """Return the row numbers of the given expiries, strikes within the range if given."""
        wanted = np.array([(e - _EPOCH).days for e in expiries], dtype=np.int32)
        mask = np.isin(self.expiry_days, wanted)
        if strike_range is not None:
            lo, hi = strike_range
            mask &= (self.strike >= lo) & (self.strike <= hi)
        return np.flatnonzero(mask)

    def check_unique(self) -> None:
        """Raise DataUnavailable when two rows are the same contract (several roots selected)."""
        self.row_of(date(1970, 1, 1), 0.0, "C")

    def row_of(self, expiry: date, strike: float, right: Right) -> int | None:
        """Return the row of one contract, None when the day does not quote it."""
        if self._index is None:
            keys = zip(
                self.expiry_days.tolist(),
                np.round(self.strike, 4).tolist(),
                self.is_call.tolist(),
                strict=True,
            )
            self._index = {k: i for i, k in enumerate(keys)}
            if len(self._index) != self.rows:
                raise DataUnavailable(
                    f"{self.quote_date}: several rows share an expiry, strike and right "
                    "(more than one option root selected? name the root)"
                )
        return self._index.get(((expiry - _EPOCH).days, round(strike, 4), right == "C"))

    # -- values ----------------------------------------------------------------------------
    def text_values(self, name: str, rows: np.ndarray | None = None) -> list[str | int | None]:
        """Return the distinct values of a text (or multiplier) column, nulls included."""
        col = self._text[name]
        if rows is not None:
            col = col.take(pa.array(rows, pa.int64()))
        return sorted(pc.unique(col).to_pylist(), key=lambda v: (v is None, str(v)))

    def underlying_price(self) -> float:
        """Return the underlying price of the snapshot (one value), else DataUnavailable."""
        prices = np.unique(self.f["underlying_price"])
        if len(prices) != 1:
            raise DataUnavailable(
                f"{self.quote_date}: {len(prices)} underlying prices in the snapshot, need one"
            )
        return float(prices[0])

    def chain_volume(self) -> int | None:
        """Return the day's volume over every row, None when any row's volume is unknown."""
        if self.rows == 0 or not bool(self.volume_ok.all()):
            return None
        return int(self.volume.sum())

    def quotes(self, rows: np.ndarray, listing_id: str, ts: datetime) -> list[OptionQuote]:
        """Build the OptionQuote of each given row (the only per-row objects made)."""
        f = self.f
        cols = [
            self.expiry_days[rows].tolist(),
            self.strike[rows].tolist(),
            self.is_call[rows].tolist(),
            f["bid"][rows].tolist(),
            f["ask"][rows].tolist(),
            f["implied_vol"][rows].tolist(),
            f["delta"][rows].tolist(),
            f["gamma"][rows].tolist(),
            f["vega"][rows].tolist(),
            f["theta"][rows].tolist(),
            np.where(self.oi_ok[rows], self.oi[rows], -1).tolist(),
            np.where(self.volume_ok[rows], self.volume[rows], -1).tolist(),
            f["underlying_price"][rows].tolist(),
        ]
        out = []
        for d, k, call, bid, ask, iv, delta, gamma, vega, theta, oi, vol, und in zip(
            *cols, strict=True
        ):
            contract = OptionContract(listing_id, self._date(d), k, "C" if call else "P")
            out.append(
                OptionQuote(
                    contract,
                    bid,
                    ask,
                    iv,
                    delta,
                    gamma,
                    vega,
                    theta,
                    oi if oi >= 0 else None,
                    vol if vol >= 0 else None,
                    und,
                    ts,
                )
            )
        return out

    def _date(self, days: int) -> date:
        d = self._dates.get(days)
        if d is None:
            d = self._dates[days] = _EPOCH + timedelta(days=days)
        return d
