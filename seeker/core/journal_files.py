"""Journal files on disk: plain JSON Lines, or gzip members for derived lines; read either way.

A journal is named by its plain path (``decisions.jsonl``). Lines that record money, refusals
and commands stay plain text. Derived lines (decisions, analysis, regimes: rebuilt from the
market and the money lines) are stored gzip-compressed beside it, in ``decisions.jsonl.gz``:

* a run of **members** (RFC 1952), each ``MEMBER_BYTES`` of lines at most, holding whole lines;
  ``zcat decisions.jsonl.gz`` (or ``gzip -dc``) prints the exact lines that were written;
* each batch of lines is **sync-flushed** (its compressed bytes end on a byte boundary), so a
  reader of a live file — or of one cut by a crash — decodes every batch that reached the disk;
* a crash leaves the last member unfinished; the next writer finishes it before appending
  (:func:`repair_tail`): the lines it decodes are kept, a torn last line is kept as a torn line
  (readers skip it with a warning, as in a plain file) and the file is replaced atomically.

Readers take the plain path: :func:`forward_lines` yields the lines of the plain file and then
of the compressed one (older folders hold plain derived files; new lines go to the ``.gz``),
:func:`backward_lines` the same newest first, decoding one member at a time from the end.
"""

from __future__ import annotations

import logging
import os
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

log = logging.getLogger(__name__)

GZ_SUFFIX = ".gz"
"""Suffix of a journal's compressed part."""

MEMBER_BYTES = 1 << 20
"""Uncompressed bytes after which a member is finished and the next batch starts a new one."""

LEVEL = 6
"""zlib compression level of the members."""

BLOCK = 1 << 16
"""Bytes read at a time."""

SLICE = 1 << 14
"""Compressed bytes fed to the decoder at a time (a member's head is found within a slice)."""

_WBITS = 31
"""zlib window bits for the gzip wrapper (15 + 16)."""

MAGIC = b"\x1f\x8b\x08\x00\x00\x00\x00\x00"
"""The head of every member this module writes: gzip id, deflate, no flags, no time."""


def compressed_path(path: Path) -> Path:
    """Return the path of a journal's compressed part."""
    return path.with_name(path.name + GZ_SUFFIX)


def parts(path: Path) -> list[Path]:
    """Return the stored parts of a journal that exist, oldest first (plain, then compressed)."""
    return [p for p in (path, compressed_path(path)) if p.exists()]


class MemberEncoder:
    """Compress batches of lines into gzip members, each batch ending on a sync point."""

    def __init__(self, member_bytes: int = MEMBER_BYTES) -> None:
        self.member_bytes = member_bytes
        self._deflate: zlib._Compress | None = None
        self._member_bytes = 0

    def encode(self, data: bytes) -> bytes:
        """Return the compressed bytes of one batch (whole lines); finish the member when full."""
        if self._deflate is None:
            self._deflate = zlib.compressobj(LEVEL, zlib.DEFLATED, _WBITS)
            self._member_bytes = 0
        self._member_bytes += len(data)
        head = self._deflate.compress(data)
        if self._member_bytes >= self.member_bytes:
            tail = self._deflate.flush(zlib.Z_FINISH)
            self._deflate = None
        else:
            tail = self._deflate.flush(zlib.Z_SYNC_FLUSH)
        return head + tail

    def finish(self) -> bytes:
        """Return the bytes that end the open member (nothing when none is open)."""
        if self._deflate is None:
            return b""
        deflate, self._deflate = self._deflate, None
        return deflate.flush(zlib.Z_FINISH)


def compress_member(data: bytes) -> bytes:
    """Return `data` as one finished gzip member."""
    deflate = zlib.compressobj(LEVEL, zlib.DEFLATED, _WBITS)
    return deflate.compress(data) + deflate.flush(zlib.Z_FINISH)


class _Decoded:
    """What decoding compressed bytes from a member's start gave."""

    __slots__ = ("data", "error", "finished", "rest")

    def __init__(self, data: bytes, finished: bool, rest: bytes, error: str | None) -> None:
        self.data = data
        self.finished = finished
        self.rest = rest
        self.error = error


def _decode_member(raw: bytes) -> _Decoded:
    """Decode one member from the start of `raw` (it may be unfinished or followed by more)."""
    inflate = zlib.decompressobj(_WBITS)
    try:
        data = inflate.decompress(raw)
    except zlib.error as exc:
        return _Decoded(b"", False, b"", str(exc))
    return _Decoded(data, inflate.eof, inflate.unused_data, None)


def _chunks(path: Path) -> Iterator[bytes]:
    """Yield the decoded bytes of a compressed journal, a member at a time, in order.

    A member's lines are yielded once its checksum (CRC-32 and length) is verified, except the
    last member of an unfinished file (a live file, a crash), yielded as it decodes. A damaged
    member (a file changed by hand, a disk error; the writer never leaves one: see
    :func:`repair_tail`) is skipped whole with a warning, never yielded half right, and reading
    goes on at the next member's head.
    """
    try:
        fh = path.open("rb")
    except FileNotFoundError:
        return
    with fh:
        start = offset = 0  # file offsets: the current member's head, the next byte to read
        inflate = zlib.decompressobj(_WBITS)
        held: list[bytes] = []  # the current member's bytes, until its checksum is verified
        while raw := fh.read(SLICE):
            at, offset = offset, offset + len(raw)  # `at`: the file offset of raw[0]
            while raw:
                try:
                    held.append(inflate.decompress(raw))
                except zlib.error as exc:
                    found = _next_member(fh, start + 1)
                    log.warning(
                        "%s: the member at byte %d is damaged (%s): its lines are skipped; %s",
                        path,
                        start,
                        exc,
                        "nothing readable follows" if found is None else f"read on at {found}",
                    )
                    held.clear()
                    if found is None:
                        return
                    fh.seek(found)
                    start = offset = found
                    inflate = zlib.decompressobj(_WBITS)
                    break
                if not inflate.eof:
                    break
                yield b"".join(held)
                held.clear()
                rest = inflate.unused_data
                at += len(raw) - len(rest)
                start, raw = at, rest
                inflate = zlib.decompressobj(_WBITS)
        if held:
            yield b"".join(held)  # an unfinished last member: what it holds so far


def _next_member(fh: BinaryIO, offset: int) -> int | None:
    """Return the offset of the first member head at or after `offset`, None when there is none."""
    fh.seek(offset)
    carry = b""
    base = offset
    while raw := fh.read(BLOCK):
        window = carry + raw
        i = window.find(MAGIC)
        if i >= 0:
            return base - len(carry) + i
        carry = window[-(len(MAGIC) - 1) :]
        base += len(raw)
    return None


def _lines_of(chunks: Iterator[bytes], needle: bytes | None) -> Iterator[bytes]:
    """Yield the non-empty lines (newline cut) of a stream of byte chunks."""
    rest = b""
    for chunk in chunks:
        pieces = (rest + chunk).split(b"\n") if rest else chunk.split(b"\n")
        rest = pieces.pop()
        for raw in pieces:
            if raw and (needle is None or needle in raw) and raw.strip():
                yield raw
    if rest.strip() and (needle is None or needle in rest):
        yield rest


def forward_lines(path: Path, needle: bytes | None = None) -> Iterator[bytes]:
    """Yield the non-empty lines of a journal, oldest first (with `needle`: only lines holding it).

    The plain file is read first, then the compressed part; a cut last line is yielded as it is
    (its parser skips it).
    """
    yield from _plain_forward(path, needle)
    yield from _lines_of(_chunks(compressed_path(path)), needle)


def _plain_forward(path: Path, needle: bytes | None) -> Iterator[bytes]:
    try:
        fh = path.open("rb")
    except FileNotFoundError:
        return
    with fh:
        for raw in fh:
            if needle is not None and needle not in raw:
                continue
            if raw.endswith(b"\n"):
                raw = raw[:-1]
            if raw.strip():
                yield raw


def backward_lines(path: Path, block: int = BLOCK) -> Iterator[bytes]:
    """Yield the non-empty lines of a journal, newest first: the compressed part, then the plain.

    The compressed part is decoded one member at a time from its end; the plain file is read
    from its end in blocks. Nothing holds a whole file.
    """
    yield from _compressed_backward(compressed_path(path), block)
    yield from _plain_backward(path, block)


def _plain_backward(path: Path, block: int) -> Iterator[bytes]:
    try:
        fh = path.open("rb")
    except FileNotFoundError:
        return
    with fh:
        pos = fh.seek(0, 2)
        rest = b""
        while pos > 0:
            step = min(block, pos)
            pos -= step
            fh.seek(pos)
            pieces = (fh.read(step) + rest).split(b"\n")
            rest = pieces[0]  # may be cut: completed by the next block read
            for raw in reversed(pieces[1:]):
                if raw.strip():
                    yield raw
        if rest.strip():
            yield rest


def _compressed_backward(path: Path, block: int) -> Iterator[bytes]:
    try:
        fh = path.open("rb")
    except FileNotFoundError:
        return
    with fh:
        end = fh.seek(0, 2)
        size = end
        for start in _member_starts_backward(fh, end, block):
            if start >= end:
                continue
            fh.seek(start)
            decoded = _decode_member(fh.read(end - start))
            if decoded.error is not None or not (decoded.finished or end == size):
                log.warning("%s: damaged member at byte %d skipped", path, start)
                continue
            for raw in reversed(decoded.data.split(b"\n")):
                if raw.strip():
                    yield raw
            end = start


def _member_starts_backward(fh: BinaryIO, end: int, block: int) -> Iterator[int]:
    """Yield the offsets of the member head bytes in a file, last first (candidates only).

    The head is 8 fixed bytes; found inside compressed data by chance (about 2^-64 a byte),
    a candidate still has to decode to be taken.
    """
    pos = end
    tail = b""
    while pos > 0:
        step = min(block, pos)
        pos -= step
        fh.seek(pos)
        window = fh.read(step) + tail[: len(MAGIC) - 1]
        found: list[int] = []
        i = window.find(MAGIC)
        while i >= 0:
            found.append(pos + i)
            i = window.find(MAGIC, i + 1)
        yield from reversed(found)
        tail = window[: len(MAGIC) - 1]


def repair_tail(path: Path) -> None:
    """Finish a compressed journal whose last member a crash left open, before appending to it.

    Nothing happens to a file whose last member is finished. Otherwise the lines that member
    holds are written again as one finished member (a torn last line kept, with its newline),
    through a temporary file replaced atomically. A file that decodes nowhere is moved aside
    (``.damaged``) with a warning: new lines start a new file.
    """
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        return
    if size == 0:
        return
    with path.open("rb") as fh:
        for start in _member_starts_backward(fh, size, BLOCK):
            fh.seek(start)
            decoded = _decode_member(fh.read())
            if decoded.error is not None:
                continue
            if decoded.finished and not decoded.rest:
                return  # the last member is finished: nothing to do
            if decoded.finished:
                # a finished member, then bytes too short to hold a member's head: a torn head
                _rewrite(path, start, decoded.data, "the cut head of a member after it dropped")
                return
            data = decoded.data
            torn = bool(data) and not data.endswith(b"\n")
            _rewrite(
                path,
                start,
                data + (b"\n" if torn else b""),
                "finished it, its torn last line kept (readers skip it)"
                if torn
                else "finished it, every line kept",
            )
            return
    aside = path.with_name(path.name + ".damaged")
    os.replace(path, aside)
    log.warning("%s: no readable member; moved to %s, new lines start a new file", path, aside)


def _rewrite(path: Path, start: int, data: bytes, what: str) -> None:
    """Replace the file by its bytes before `start` and `data` as one finished member."""
    log.warning("%s: its last member was left open (a crash or a failed write); %s", path, what)
    tmp = path.with_name(path.name + ".repair")
    with path.open("rb") as src, tmp.open("wb") as dst:
        remaining = start
        while remaining > 0:
            raw = src.read(min(BLOCK, remaining))
            if not raw:
                break
            dst.write(raw)
            remaining -= len(raw)
        if data:
            dst.write(compress_member(data))
        dst.flush()
        os.fsync(dst.fileno())
    os.replace(tmp, path)
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)
