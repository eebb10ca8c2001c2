"""Shared look: one style (colour, dash, marker) per name, the same in every figure, grid and
panel, and the stacking order every picture follows.

Built-in optimizer and scheduler names have a fixed entry in ``FIXED``, each distinct from
every other of its registry; any other name (a plugin, a label) gets a style from a hash of the
name, so it too is the same in any company. Within one figure a name that is repeated (the same
optimizer at three lrs) keeps its hue in darker and lighter shades (about ΔE 20 apart) with its
own dash and marker, and a hashed name that would collide with one already drawn moves to the
next free style.
"""

from __future__ import annotations

import math
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

# The minimum's star: an outline only (no fill), a thin dark edge over a wider white halo, so
# it reads on any colour and an end marker under it shows through its middle. Drawn as these
# layers, in order, each at zorder Z_MINIMUM + its index * 0.01 (render.trajectory.draw_minimum
# and the animations use the same).
MINIMUM_STAR_SIZE = 17.0
MINIMUM_STAR = (
    {"marker": "*", "mfc": "none", "mec": "white", "mew": 2.4, "alpha": 0.9},
    {"marker": "*", "mfc": "none", "mec": "#1a1a1a", "mew": 0.9},
)

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


# Fixed styles: a built-in name never changes colour. Optimizers: the five best known keep
# matplotlib's first colours (SGD blue, Adam orange, momentum green, Nesterov red, AdamW
# purple), LBFGS black, and the other thirteen were picked (farthest-point in CIE L*a*b*,
# L* 20 to 75, away from the contours' blues, white and gold) so that any two optimizers,
# drawn together in one grid, differ by CIE76 ΔE over 35 (the twenty-colour palette left
# browns and pinks within 22 to 30 of each other). Schedulers (more names than colours): a
# colour each for the common ones, a colour and a dash for the rest.
OPTIMIZER_COLOURS = {
    "sgd": "#1f77b4", "adam": "#ff7f0e", "momentum": "#2ca02c", "nesterov": "#d62728",
    "adamw": "#9467bd", "lbfgs": "#000000", "adagrad": "#79213b", "rprop": "#dfa0a7",
    "adadelta": "#b5b635", "adamax": "#17535a", "gd": "#7a6626", "adafactor": "#0576fd",
    "muon": "#7d0af6", "rmsprop": "#f72b9a", "lion": "#312a57", "sparse_adam": "#004415",
    "radam": "#251295", "asgd": "#f76cff", "nadam": "#16ae9d",
}
_MARKER = {"nesterov": "^", "adamw": "s", "adagrad": "D", "rprop": "v", "lbfgs": "s",
           "adadelta": "v", "adamax": "^", "gd": "s", "adafactor": "D", "muon": "^",
           "rmsprop": "P", "lion": "P", "sparse_adam": "v", "radam": "D", "asgd": "s",
           "nadam": "^"}
FIXED: dict[str, Style] = {
    # optimizers
    **{name: Style(colour, "-", _MARKER.get(name, "o"))
       for name, colour in OPTIMIZER_COLOURS.items()},
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

# Optimizers that are commonly drawn together: their colours must stay far apart.
FAMILIES = (
    ("sgd", "momentum", "nesterov", "gd", "asgd", "lbfgs"),
    ("adam", "adamw", "rmsprop", "adagrad", "adadelta", "adamax", "nadam", "radam"),
)


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


def lab(colour: str) -> tuple[float, float, float]:
    """CIE L*a*b* (D65) of a colour: L* from 0 (black) to 100 (white)."""
    rgb = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in to_rgb(colour)]
    xyz = [sum(m * c for m, c in zip(row, rgb, strict=True)) / w for row, w in zip(
        ((0.4124564, 0.3575761, 0.1804375), (0.2126729, 0.7151522, 0.0721750),
         (0.0193339, 0.1191920, 0.9503041)), (0.95047, 1.0, 1.08883), strict=True)]
    f = [t ** (1 / 3) if t > (6 / 29) ** 3 else t / (3 * (6 / 29) ** 2) + 4 / 29 for t in xyz]
    return 116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])


def _from_lab(l_: float, a: float, b: float) -> str:
    fy = (l_ + 16) / 116
    f = (fy + a / 500, fy, fy - b / 200)
    xyz = [(t ** 3 if t > 6 / 29 else 3 * (6 / 29) ** 2 * (t - 4 / 29)) * w
           for t, w in zip(f, (0.95047, 1.0, 1.08883), strict=True)]
    inverse = ((3.2404542, -1.5371385, -0.4985314), (-0.9692660, 1.8760108, 0.0415560),
               (0.0556434, -0.2040259, 1.0572252))
    rgb = [sum(m * c for m, c in zip(row, xyz, strict=True)) for row in inverse]
    rgb = [12.92 * c if c <= 0.0031308 else 1.055 * max(c, 0) ** (1 / 2.4) - 0.055 for c in rgb]
    return to_hex(tuple(min(1.0, max(0.0, c)) for c in rgb))


def delta_e(one: str, other: str) -> float:
    """CIE76 colour difference: about 2.3 is just noticeable, over 20 is another colour."""
    return math.dist(lab(one), lab(other))


def _shade(colour: str, k: int) -> str:
    """The k-th repeat of a hue: of the shades of that hue (L* from 24 to 78, the hue turned
    by at most 10 degrees), the one farthest from the name's colour and its earlier repeats,
    so that the repeats of a name stay clearly apart (ΔE 18 or more for up to three) while
    reading as its family; never paler than L* 78, which would vanish on the contours."""
    chosen = [colour]
    _, a0, b0 = lab(colour)
    candidates = []
    for turn in (0, 10, -10):
        t = math.radians(turn)
        a, b = a0 * math.cos(t) - b0 * math.sin(t), a0 * math.sin(t) + b0 * math.cos(t)
        candidates += [_from_lab(float(level), a, b) for level in range(24, 79, 6)]
    for _ in range(k):
        best = max(candidates, key=lambda c: min(delta_e(c, o) for o in chosen))
        chosen.append(best)
    return chosen[-1]


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
            style = Style(_shade(base.colour, k), DASHES[k % len(DASHES)],
                          MARKERS[(MARKERS.index(base.marker) + k) % len(MARKERS)]
                          if base.marker in MARKERS else base.marker)
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
