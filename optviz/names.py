"""Name normalisation and "did you mean" suggestions shared by every registry."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


def normalise(name: str) -> str:
    """Fold case and drop ``-``/``_`` so that ``Six-Hump_Camel`` finds ``six_hump_camel``."""
    return name.strip().lower().replace("-", "").replace("_", "")


def suggest(name: str, candidates: Iterable[str], n: int = 3) -> list[str]:
    """The closest candidates to ``name``, best first (compared in normalised form)."""
    by_key: dict[str, str] = {}
    for cand in candidates:
        by_key.setdefault(normalise(cand), cand)
    keys = difflib.get_close_matches(normalise(name), list(by_key), n=n, cutoff=0.6)
    return [by_key[k] for k in keys]


def did_you_mean(name: str, candidates: Iterable[str]) -> str:
    """A ``; did you mean 'x'?`` suffix, or an empty string when nothing is close."""
    close = suggest(name, candidates)
    if not close:
        return ""
    return "; did you mean " + " or ".join(repr(c) for c in close) + "?"
