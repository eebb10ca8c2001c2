"""Shared look: one style (colour, dash, marker) per name, the same in every figure, grid and
panel, and the stacking order every picture follows.

Built-in optimizer and scheduler names have a fixed entry in ``FIXED``, each distinct from
every other of its registry; any other name (a plugin, a label) gets a style from a hash of the
name, so it too is the same in any company. Within one figure a name that is repeated (the same
optimizer at three lrs) keeps its hue in darker and lighter shades with its own dash, and a
hashed name that would collide with one already drawn moves to the next free style.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from dataclasses import dataclass

from matplotlib.colors import to_hex, to_rgb

# Stacking order (zorder) of every trajectory-like picture: filled contours 1, contour lines 2,
# paths 3 (later runs above earlier ones, each a little higher), start and end markers 7,
# minima 8 (a hollow, outlined star that an end marker never hides), labels and insets 9.
Z_PATH = 3.0
Z_PATH_STEP = 0.01
Z_SLOW = 2.5
Z_ENDS = 7.0
Z_MINIMUM = 8.0
Z_LABEL = 9.0

# Twenty colours that stay apart on the pale blue contours (every pair differs by at least 58
# of 255 in some channel): tab10, its grey (which vanishes on grey contours) replaced by black,
# and ten more hues picked to keep that distance. None is the minima's gold.
PALETTE = (
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
    "#8c564b", "#e377c2", "#000000", "#bcbd22", "#17becf",
    "#08306b", "#7a0177", "#800000", "#e7298a", "#543005",
    "#00441b", "#4b0082", "#ff00ff", "#00876c", "#00ff7f",
)
DASHES = ("-", "--", "-.", ":")
MARKERS = ("o", "s", "^", "D", "v", "P")


@dataclass(frozen=True)
class Style:
    colour: str
    dash: str = "-"
    marker: str = "o"


def _s(i: int, dash: str = "-", marker: str = "o") -> Style:
    return Style(PALETTE[i], dash, marker)


# Fixed styles: a built-in name never changes colour. Optimizers: a colour each. Schedulers
# (more names than colours): a colour each for the common ones, a colour and a dash for the rest.
FIXED: dict[str, Style] = {
    # optimizers
    "sgd": _s(0), "adam": _s(1), "momentum": _s(2), "adamw": _s(3), "nesterov": _s(4),
    "adagrad": _s(5), "rmsprop": _s(6), "lbfgs": _s(7), "adadelta": _s(8), "adamax": _s(9),
    "gd": _s(10, marker="s"), "nadam": _s(11, marker="^"), "radam": _s(12, marker="D"),
    "rprop": _s(13, marker="v"), "lion": _s(14, marker="P"), "asgd": _s(15, marker="s"),
    "muon": _s(16, marker="^"), "adafactor": _s(17, marker="D"),
    "sparse_adam": _s(18, marker="v"),
    # schedulers
    "step": _s(0), "multistep": _s(1), "constant": _s(2), "linear": _s(3),
    "exponential": _s(4), "cosine": _s(5), "warm_restarts": _s(6), "cyclic": _s(7),
    "onecycle": _s(8), "plateau": _s(9), "polynomial": _s(10), "lambda": _s(11),
    "multiplicative": _s(12), "sequential": _s(13), "chained": _s(14), "wsd": _s(15),
    "inverse_sqrt": _s(16), "linear_warmup": _s(17), "cosine_warmup": _s(18),
    "constant_warmup": _s(19), "polynomial_warmup": _s(0, "--", "s"),
    "cosine_min_lr_warmup": _s(1, "--", "s"), "cosine_restarts_warmup": _s(2, "--", "s"),
    "cyclic_triangular2": _s(3, "--", "s"), "cyclic_exp_range": _s(4, "--", "s"),
    "onecycle_linear": _s(5, "--", "s"), "constant_schedule": _s(6, "--", "s"),
    "cosine_warmup_with_min_lr": _s(7, "--", "s"), "reduce_on_plateau_schedule": _s(8, "--", "s"),
}


def _key(name: str) -> str:
    return name.strip().lower().replace("-", "_")


def style_of(name: str) -> Style:
    """The name's own style, the same in every figure: fixed for built-in names, else from a
    hash of the name (a plugin's dotted path, a hand-made label)."""
    fixed = FIXED.get(_key(name))
    if fixed is not None:
        return fixed
    h = zlib.crc32(_key(name).encode())
    return Style(PALETTE[h % len(PALETTE)], DASHES[(h // 20) % 2], MARKERS[(h // 40) % 6])


def _shade(colour: str, k: int) -> str:
    """The k-th repeat of a hue: a dark colour lighter, a light one darker, further each time,
    so that repeats stay apart from the first and from each other."""
    rgb = to_rgb(colour)
    amount = min(0.3 * k, 0.75)
    if sum(rgb) / 3 < 0.45:  # dark: towards white
        return to_hex(tuple(c + (1 - c) * amount for c in rgb))
    return to_hex(tuple(c * (1 - amount) for c in rgb))


def styles_for(names: Sequence[str]) -> list[Style]:
    """A style per entry: the name's own (``style_of``); a repeated name keeps its hue, shaded,
    with the next dash; a hashed name that collides with one already drawn takes the next free
    colour of the palette."""
    out: list[Style] = []
    seen: dict[str, int] = {}
    # Built-in names keep their colour whatever comes first; hashed names step around them.
    used = {FIXED[_key(n)].colour for n in names if _key(n) in FIXED}
    for name in names:
        base = style_of(name)
        k = seen.get(_key(name), 0)
        seen[_key(name)] = k + 1
        if k:
            style = Style(_shade(base.colour, k), DASHES[k % len(DASHES)], base.marker)
        else:
            style = base
            if _key(name) not in FIXED and style.colour in used:
                start = PALETTE.index(style.colour)
                for step in range(1, len(PALETTE)):
                    colour = PALETTE[(start + step) % len(PALETTE)]
                    if colour not in used:
                        style = Style(colour, style.dash, style.marker)
                        break
        used.add(style.colour)
        out.append(style)
    return out


def colours_for(names: Sequence[str]) -> list[str]:
    """The colour of each entry of ``styles_for``."""
    return [s.colour for s in styles_for(names)]


def wrap_items(items: Sequence[str], width: int, sep: str = " · ") -> str:
    """Items joined by ``sep`` on lines of at most ``width`` characters, broken only between
    items (an item longer than a line is broken at its own spaces, never inside a word)."""
    import textwrap

    lines: list[str] = []
    line = ""
    for item in items:
        if not item:
            continue
        candidate = f"{line}{sep}{item}" if line else item
        if len(candidate) <= width or not line:
            line = candidate
        else:
            lines.append(line)
            line = item
        if len(line) > width:
            # A product breaks after its dot, as a sum breaks at its spaces.
            parts = textwrap.wrap(line.replace("·", "· "), width,
                                  break_long_words=False) or [line]
            lines.extend(parts[:-1])
            line = parts[-1]
    if line:
        lines.append(line)
    return "\n".join(lines)
