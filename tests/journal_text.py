"""Read journals the way a person's tools do (plain text, ``gzip``), apart from Seeker's readers.

A journal is named by its plain path (``decisions.jsonl``); derived lines live in its compressed
part (``decisions.jsonl.gz``). These helpers read both with the standard library only, so a test
that compares them with Seeker's readers checks the readers and the file format at once.
"""

from __future__ import annotations

import gzip
from pathlib import Path


def stored_bytes(path: Path) -> bytes:
    """Return a journal's bytes as written: the plain part, then the decompressed ``.gz`` part."""
    data = path.read_bytes() if path.exists() else b""
    gz = path.with_name(path.name + ".gz")
    if gz.exists():
        data += gzip.decompress(gz.read_bytes())
    return data


def stored_lines(path: Path) -> list[str]:
    """Return the non-empty text lines of a journal, both parts, in file order."""
    return [x for x in stored_bytes(path).decode("utf-8").splitlines() if x.strip()]


def journal_names(folder: Path) -> list[Path]:
    """Return the plain paths of the journals in a folder (``x.jsonl`` for ``x.jsonl.gz`` too)."""
    names = {p.name.removesuffix(".gz") for p in folder.glob("*.jsonl*") if p.suffix != ".repair"}
    return [folder / n for n in sorted(names) if n.endswith(".jsonl")]
