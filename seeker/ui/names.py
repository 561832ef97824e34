"""Words for the views: counts with the right plural, short unique names for narrow columns."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable

from seeker.core.journal import SHADOW_SUFFIX

SHADOW_MARK = "*"
"""Appended to the short name of a shadow journal folder (``ic*`` for ``iron_condor.shadow``)."""


def plural(count: int, singular: str, plural_form: str | None = None) -> str:
    """Return ``1 simulated session`` / ``2 simulated sessions`` (the count and the noun)."""
    word = singular if count == 1 else (plural_form or singular + "s")
    return f"{count} {word}"


def _words(name: str) -> list[str]:
    lead = "_" if name.startswith("_") else ""
    words = [w for w in re.split(r"[_\-\s.]+", name) if w]
    return [lead + words[0], *words[1:]] if words else []


def _candidates(name: str, width: int) -> list[str]:
    """Return the short forms of a name, shortest first, ending with the name itself."""
    if len(name) <= width:
        return [name]
    words = _words(name) or [name]
    out: list[str] = []
    longest = max(len(w) for w in words)
    for k in range(1, longest + 1):
        if len(words) > 1:
            form = "".join(w[:k] for w in words) if k == 1 else "_".join(w[:k] for w in words)
        else:
            form = words[0][: max(k, 4)]
        if len(form) <= width and form not in out:
            out.append(form)
    out.append(name)
    return out


def abbreviations(names: Iterable[str], width: int = 7) -> dict[str, str]:
    """Return a short name of at most `width` characters for each name, all distinct.

    A name that fits stays as it is (``_seeker``).

    Deterministic: ``iron_condor`` → ``ic``, ``iron_fly`` → ``if``, ``credit_spread`` → ``cs``,
    ``broken_wing_butterfly`` → ``bwb``, ``diagonal`` → ``diag``; a shadow folder gets ``*``
    (``ic*``). Names that would collide take longer forms (``ir_co``…) until none do; a name
    with no distinct short form keeps its full spelling, so two names never read the same.
    """
    unique = sorted(set(names))
    bases = {n: n.removesuffix(SHADOW_SUFFIX) for n in unique}
    marks = {n: SHADOW_MARK if n.endswith(SHADOW_SUFFIX) else "" for n in unique}
    cands = {n: _candidates(bases[n], max(1, width - len(marks[n]))) for n in unique}
    level = dict.fromkeys(unique, 0)
    while True:
        chosen = {n: cands[n][min(level[n], len(cands[n]) - 1)] + marks[n] for n in unique}
        groups: dict[str, list[str]] = defaultdict(list)
        for n, short in chosen.items():
            groups[short].append(n)
        clashes = [g for g in groups.values() if len(g) > 1]
        if not clashes:
            return chosen
        moved = False
        for group in clashes:
            for n in group:
                if level[n] < len(cands[n]) - 1:
                    level[n] += 1
                    moved = True
        if not moved:  # only full spellings left in a clash: use every full name
            return {n: n for n in unique}
