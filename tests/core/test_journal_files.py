"""Compressed journals: what is written reads back whole, live or cut anywhere by a crash.

The standard library's ``gzip`` is the independent reader: a finished file must decompress with
it to exactly the lines written, and Seeker's forward and backward readers must agree with it.
"""

from __future__ import annotations

import gzip
import json
import logging
import zlib
from datetime import datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from seeker.core.journal import Journal, JsonlWriter, read_jsonl, to_json_line
from seeker.core.journal_files import (
    MAGIC,
    MEMBER_BYTES,
    MemberEncoder,
    backward_lines,
    compressed_path,
    forward_lines,
    repair_tail,
)
from tests.journal_text import stored_bytes

LINE = st.text(
    alphabet=st.characters(blacklist_characters="\n", blacklist_categories=("Cs",)),
    min_size=1,
    max_size=60,
).filter(lambda t: t.strip() != "")
BATCHES = st.lists(st.lists(LINE, min_size=1, max_size=6), max_size=25)
SETTINGS = settings(max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture])


def encoded(batches: list[list[str]], member_bytes: int) -> tuple[bytes, list[int], bytes]:
    """Return (file bytes, file size after each batch, uncompressed bytes) of the batches."""
    encoder = MemberEncoder(member_bytes)
    out, ends, plain = b"", [], b""
    for batch in batches:
        data = "".join(x + "\n" for x in batch).encode()
        out += encoder.encode(data)
        plain += data
        ends.append(len(out))
    return out + encoder.finish(), ends, plain


@given(batches=BATCHES, member_bytes=st.integers(1, 400), block=st.integers(1, 300))
@SETTINGS
def test_members_read_back_forward_and_backward(
    tmp_path: Path, batches: list[list[str]], member_bytes: int, block: int
) -> None:
    raw, _, plain = encoded(batches, member_bytes)
    path = tmp_path / "x.jsonl"
    compressed_path(path).write_bytes(raw)
    assert gzip.decompress(raw) == plain
    lines = [x.encode() for batch in batches for x in batch]
    assert list(forward_lines(path)) == lines
    assert list(backward_lines(path, block)) == lines[::-1]


@given(batches=BATCHES, member_bytes=st.integers(1, 400), cut=st.floats(0, 1), more=BATCHES)
@SETTINGS
def test_a_file_cut_anywhere_keeps_every_whole_batch_and_takes_new_lines(
    tmp_path: Path,
    batches: list[list[str]],
    member_bytes: int,
    cut: float,
    more: list[list[str]],
) -> None:
    """A crash may stop the file at any byte: a live reader sees every batch written before the
    cut; the next writer finishes the cut member; the file is then standard gzip holding those
    batches, at most one torn line, and the new lines."""
    raw, ends, plain = encoded(batches, member_bytes)
    size = int(len(raw) * cut)
    path = tmp_path / "x.jsonl"
    gz = compressed_path(path)
    gz.write_bytes(raw[:size])
    whole = sum(len(batch) for batch, end in zip(batches, ends, strict=True) if end <= size)
    lines = [x.encode() for batch in batches for x in batch]
    live = list(forward_lines(path))
    assert len(live) >= whole and live[:-1] == lines[: max(len(live) - 1, 0)]
    assert not live or lines[len(live) - 1].startswith(live[-1])  # the last may be cut
    assert list(backward_lines(path, 64))[::-1] == live

    repair_tail(gz)
    kept = gzip.decompress(gz.read_bytes()) if gz.exists() else b""
    assert kept.endswith(b"\n") or kept == b""
    assert plain.startswith(kept) or plain.startswith(kept[:-1])  # a torn line gets its newline
    assert kept.count(b"\n") >= whole
    new, _, new_plain = encoded(more, member_bytes)
    with gz.open("ab") as fh:
        fh.write(new)
    assert gzip.decompress(gz.read_bytes()) == kept + new_plain
    assert list(forward_lines(path)) == [x for x in (kept + new_plain).split(b"\n") if x.strip()]


def _decode(raw: bytes) -> tuple[str, bytes]:
    """Return how one member's bytes decode: ("whole", data), ("bad", b"") or ("other", b"")."""
    inflate = zlib.decompressobj(31)
    try:
        data = inflate.decompress(raw)
    except zlib.error:
        return "bad", b""
    return ("whole", data) if inflate.eof and not inflate.unused_data else ("other", b"")


@given(
    batches=st.lists(st.lists(LINE, min_size=1, max_size=4), min_size=3, max_size=20),
    member_bytes=st.integers(1, 120),
    which=st.integers(0, 1000),
    where=st.floats(0, 1),
    xor=st.integers(1, 255),
)
@SETTINGS
def test_a_damaged_member_is_skipped_whole_and_every_other_is_read(
    tmp_path: Path,
    batches: list[list[str]],
    member_bytes: int,
    which: int,
    where: float,
    xor: int,
) -> None:
    """A byte changed in a member's data or checksum (a disk error, an edit) costs that member's
    lines, never a line of another member, and never yields a line half right."""
    raw, _, _ = encoded(batches, member_bytes)
    heads = [i for i in range(len(raw)) if raw.startswith(MAGIC, i)]
    assume(len(heads) >= 2)
    bounds = list(zip(heads, [*heads[1:], len(raw)], strict=True))
    hit = which % len(bounds)
    a, b = bounds[hit]
    damaged = bytearray(raw)
    damaged[a + 10 + int((b - a - 11) * where)] ^= xor  # after the 10-byte head
    status, data = _decode(bytes(damaged[a:b]))
    assume(status != "other")  # the change made the member run on past its end
    members = [zlib.decompress(raw[x:y], 31) for x, y in bounds]
    members[hit] = data  # an undetectable change (a padding bit) leaves the same lines
    expected = [x for m in members for x in m.split(b"\n") if x.strip()]
    path = tmp_path / "x.jsonl"
    compressed_path(path).write_bytes(bytes(damaged))
    assert list(forward_lines(path)) == expected
    assert list(backward_lines(path, 64)) == expected[::-1]


def test_the_writer_rolls_members_and_finishes_the_last_on_close(tmp_path: Path) -> None:
    path = compressed_path(tmp_path / "decisions.jsonl")
    writer = JsonlWriter(path, durable=False, sync_seconds=1.0, compressed=True)
    pad = "x" * 300
    members, member = 1, 0
    for i in range(2000):  # about 2.9 MB of lines
        batch = [{"event": "DECISION", "ts": "t", "n": n, "b": i, "pad": pad} for n in range(i % 7)]
        writer.write(batch)
        member += sum(len(to_json_line(r)) for r in batch)
        if member >= MEMBER_BYTES and i < 1999:
            members, member = members + 1, 0
    writer.close()
    data = gzip.decompress(path.read_bytes())
    assert data.count(b"\n") == sum(i % 7 for i in range(2000))
    assert members == 3
    assert path.read_bytes().count(b"\x1f\x8b\x08\x00\x00\x00\x00\x00") == members
    assert path.stat().st_size * 10 < len(data)
    again = JsonlWriter(path, durable=False, sync_seconds=1.0, compressed=True)
    again.write([{"event": "DECISION", "ts": "2026-03-02T10:01:00-05:00", "n": -1}])
    again.close()
    tail = next(iter(backward_lines(tmp_path / "decisions.jsonl")))
    assert json.loads(tail)["n"] == -1


def test_a_journal_reads_its_old_plain_part_then_the_compressed_one(tmp_path: Path) -> None:
    """A folder written before compression keeps its plain ``decisions.jsonl``; new lines go to
    the ``.gz`` and every reader sees the plain lines first."""
    folder = tmp_path / "iron_condor"
    folder.mkdir()
    old = {"event": "DECISION", "ts": "2026-03-02T10:00:00-05:00", "decision_id": "old"}
    (folder / "decisions.jsonl").write_text(json.dumps(old) + "\n")
    journal = Journal(tmp_path, "iron_condor", now=lambda: datetime(2026, 3, 2, 10, 1))
    journal.write("DECISION", decision_id="new")
    journal.close()
    ids = [x["decision_id"] for x in read_jsonl(folder / "decisions.jsonl")]
    assert ids == ["old", "new"]
    assert [json.loads(x)["decision_id"] for x in backward_lines(folder / "decisions.jsonl")] == [
        "new",
        "old",
    ]
    assert stored_bytes(folder / "decisions.jsonl").count(b"\n") == 2


def test_a_file_that_decodes_nowhere_is_moved_aside(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = compressed_path(tmp_path / "analysis.jsonl")
    path.write_bytes(b"not gzip at all\n")
    with caplog.at_level(logging.WARNING):
        writer = JsonlWriter(path, durable=False, sync_seconds=1.0, compressed=True)
    writer.write([{"event": "CONFIDENCE", "ts": "2026-03-02T10:00:00-05:00"}])
    writer.close()
    assert "no readable member" in caplog.text
    assert (tmp_path / "analysis.jsonl.gz.damaged").read_bytes() == b"not gzip at all\n"
    assert gzip.decompress(path.read_bytes()).count(b"\n") == 1
