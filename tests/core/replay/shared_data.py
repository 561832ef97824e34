"""Where the shared real market data lives, seen from this checkout (or skip the test)."""

from __future__ import annotations

import csv
import gzip
from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parents[3]
CANDIDATES = (PROJECT_ROOT / ".." / "shared" / "data", Path("/work/shared/data"))


def shared_data() -> Path:
    """Return the shared data folder (``../shared/data`` from the project root, or
    ``/work/shared/data``); skip the test when neither holds the files."""
    for base in CANDIDATES:
        if (base / "spx-2019-chains").is_dir() and (base / "index-history").is_dir():
            return base.resolve()
    tried = ", ".join(str(c) for c in CANDIDATES)
    pytest.skip(f"shared market data not found (tried {tried})")


def chain_file(day: str) -> Path:
    """Return the shared SPX chain file of one quote date, YYYYMMDD."""
    return shared_data() / "spx-2019-chains" / f"SPX_{day}.csv.gz"


def raw_rows(path: Path) -> list[dict[str, str]]:
    """Return a gzipped CSV's rows as text, read with the standard library only."""
    with gzip.open(path, "rt", newline="") as fh:
        return list(csv.DictReader(fh))
