"""Check what a user typed against what exists, and say it in one line with the nearest value."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


def nearest(value: str, known: Iterable[str]) -> str | None:
    """Return the known value closest in spelling to `value` (difflib ratio ≥ 0.6), or None."""
    found = difflib.get_close_matches(value, list(known), n=1, cutoff=0.6)
    return found[0] if found else None


def unknown_name(what: str, value: str, known: Iterable[str]) -> str:
    """Return ``unknown strategy 'x'; did you mean 'y'? (known: a, b, c)`` — one line."""
    names = sorted(set(known))
    near = nearest(value, names)
    hint = f"; did you mean {near!r}?" if near else ""
    return f"unknown {what} {value!r}{hint} (known: {', '.join(names) or 'none'})"


def bad_choice(option: str, value: str, valid: Iterable[str]) -> str:
    """Return ``--outcome 'x': not one of a, b; did you mean 'a'?`` — one line."""
    values = list(dict.fromkeys(valid))
    near = nearest(value, values)
    hint = f"; did you mean {near!r}?" if near else ""
    return f"{option} {value!r}: not one of {', '.join(values)}{hint}"
