"""Trajectory pictures checked by their pixels: size, not blank, each path's colour present;
a diverging run keeps the view on the domain; the same call gives the same bytes."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
from pixels import darkest, within
from typer.testing import CliRunner

from optviz.cli import app
from optviz.figures.formats import DEFAULT_DPI
from optviz.figures.formats import figure_bytes as png_bytes
from optviz.figures.trajectory import draw_trajectory, run_trajectory_spec
from optviz.registry import FUNCTIONS
from optviz.render.style import PALETTE, colours_for
from optviz.render.trajectory import MAX_OVERSHOOT
from optviz.spec.figures import TrajectorySpec

DPI = DEFAULT_DPI
TOL = 40  # per channel, out of 255: antialiasing and alpha blending at the edge of a line


def _rgb(colour: str) -> np.ndarray:
    return np.array([int(colour[i:i + 2], 16) for i in (1, 3, 5)])


def _near(pixels: np.ndarray, colour: str, tol: int = TOL) -> int:
    return int(within(pixels, _rgb(colour), tol).sum())


def _region(pixels: np.ndarray, ax) -> np.ndarray:
    """The pixels inside an axes (its position after the layout ran at savefig)."""
    h, w = pixels.shape[:2]
    box = ax.get_position()
    return pixels[int(h * (1 - box.y1)):int(h * (1 - box.y0)), int(w * box.x0):int(w * box.x1)]


def _chromatic(colour: str) -> bool:
    rgb = _rgb(colour)
    return int(rgb.max() - rgb.min()) > 60


def _figure(png_pixels, optimizers, **fields) -> SimpleNamespace:
    spec = TrajectorySpec(optimizers=optimizers, **fields)
    result = run_trajectory_spec(spec)
    fig = draw_trajectory(result)
    png = png_bytes(fig)
    return SimpleNamespace(result=result, fig=fig, png=png, pixels=png_pixels(png),
                           colours=colours_for([r.optimizer for r in result.runs]))


def _assert_size(pixels: np.ndarray, fig) -> None:
    w, h = fig.get_size_inches()
    assert pixels.shape[:2] == (round(h * DPI), round(w * DPI))


def _n_colours(pixels: np.ndarray) -> int:
    flat = pixels.reshape(-1, 3).astype(np.int32)
    return len(np.unique((flat[:, 0] << 16) | (flat[:, 1] << 8) | flat[:, 2]))


def _assert_not_blank(pixels: np.ndarray, ink: float) -> None:
    """Many distinct colours (contours, paths, text: not a flat fill) and at least a fraction
    ``ink`` of the pixels visibly not white."""
    assert _n_colours(pixels) > 500
    assert (darkest(pixels) < 245).mean() > ink


def _assert_view_on_domain(view, domain) -> None:
    for (lo, hi), (vlo, vhi) in zip(domain, view, strict=True):
        span = hi - lo
        assert lo - MAX_OVERSHOOT * span <= vlo <= lo, (view, domain)
        assert hi <= vhi <= hi + MAX_OVERSHOOT * span, (view, domain)


# ---------------------------------------------------------------- the overlay picture

OVERLAY = ["adam:lr=0.1", "momentum:lr=0.01", "nesterov:lr=0.01"]


@pytest.fixture(scope="module")
def overlay(tmp_path_factory, png_pixels) -> SimpleNamespace:
    out = tmp_path_factory.mktemp("overlay")
    runner = CliRunner()
    files = []
    for name in ("a.png", "b.png"):  # the same call twice
        res = runner.invoke(app, ["trajectory", *OVERLAY, "--steps", "40", "-o",
                                  str(out / name)])
        assert res.exit_code == 0, res.output
        files.append((out / name).read_bytes())
    fig = _figure(png_pixels, OVERLAY, steps=40)
    fig.cli_png = files
    return fig


def test_overlay_size_is_figure_size_times_dpi(overlay, png_pixels):
    _assert_size(png_pixels(overlay.cli_png[0]), overlay.fig)


def test_overlay_not_blank(overlay):
    _assert_not_blank(overlay.pixels, ink=0.2)
    for ax in overlay.fig.axes[:2]:
        assert _n_colours(_region(overlay.pixels, ax)) > 50


def test_overlay_path_colours_present(overlay):
    left, right = overlay.fig.axes[:2]
    assert len(set(overlay.colours)) == 3
    # Black or grey would also match text and contour lines; the test picks chromatic ones.
    assert all(_chromatic(c) for c in overlay.colours), overlay.colours
    for colour in overlay.colours:
        assert _near(_region(overlay.pixels, left), colour) > 150, colour  # the path
        assert _near(_region(overlay.pixels, right), colour) > 150, colour  # its loss curve
    # The check can fail: palette colours that no run uses are absent from the contour panel.
    # (Olive is left out: the gold-on-black edge of the minimum's hollow star blends to it; so
    # are the darkest hues, which antialiased black text and contour lines pass through, and
    # hues near a used one (within 80 in a channel), which its antialiased edges blended with
    # the contours pass through.)
    # Colours within reach of the contour lines' grey-blue (117, 139, 156 over the fill) are
    # left out too: the lines' antialiased pixels pass through them.
    lines = np.array([117, 139, 156])
    unused = [c for c in PALETTE
              if c not in overlay.colours and _chromatic(c) and c != "#bcbd22"
              and _rgb(c).mean() > 70 and np.abs(_rgb(c) - lines).max() > 60
              and min(np.abs(_rgb(c) - _rgb(u)).max() for u in overlay.colours) > 80]
    assert unused
    for colour in unused:
        assert _near(_region(overlay.pixels, left), colour) < 30, colour


def test_same_call_twice_gives_identical_bytes(overlay, png_pixels):
    first, second = overlay.cli_png
    assert first == second
    # The library path draws the same picture as the command (which also embeds its config).
    assert (png_pixels(overlay.png) == png_pixels(first)).all()


def test_overlay_texts_and_axes(overlay):
    left, right = overlay.fig.axes[:2]
    assert "quadratic" in left.get_title() and "40 steps" in left.get_title()
    legend = [t.get_text() for t in overlay.fig.legends[0].get_texts()]
    assert legend == [r.label for r in overlay.result.runs] + ["known minimum"]
    assert legend[0] == "Adam (lr=0.1)"
    assert right.get_yscale() == "log"
    # Every path stays in the domain, so the view is the domain itself.
    assert left.get_xlim() == pytest.approx((-5, 5))
    assert left.get_ylim() == pytest.approx((-5, 5))


def test_overlay_marks_start_end_and_minimum(overlay):
    left = overlay.fig.axes[0]

    def marked(marker: str) -> list[list[float]]:
        return [np.column_stack([ln.get_xdata(), ln.get_ydata()]).tolist()[0]
                for ln in left.get_lines() if ln.get_marker() == marker]

    assert [0.0, 0.0] in marked("*")  # the known minimum of x² + 10y²
    assert [4.0, 3.0] in marked("o")  # the start (paths are drawn with "o" markers too)
    ends = marked("s")
    for run in overlay.result.runs:
        assert run.points[-1] == pytest.approx(ends.pop(0))


def test_colours_are_distinct_in_a_figure_and_stable_across_figures():
    from optviz.registry import OPTIMIZERS

    names = OPTIMIZERS.names()
    assert len(set(colours_for(names))) == len(names) <= len(PALETTE)
    assert len(set(colours_for(["sgd", "sgd", "sgd"]))) == 3  # same optimizer, two settings
    solo = {n: colours_for([n])[0] for n in names}
    for a in names:
        for b in names:
            if solo[a] != solo[b]:
                assert colours_for([a, b]) == [solo[a], solo[b]]


def test_overlay_path_data_is_the_result(overlay):
    left = overlay.fig.axes[0]
    for run in overlay.result.runs:
        (line,) = [ln for ln in left.get_lines() if ln.get_label() == run.label]
        np.testing.assert_array_equal(np.column_stack([line.get_xdata(), line.get_ydata()]),
                                      np.array(run.points, dtype=float))


def test_quadratic_contour_levels_are_not_log(overlay):
    levels = overlay.fig.axes[0].collections[0].levels
    ratios = levels[2:] / levels[1:-1]
    assert np.ptp(ratios) > 0.1  # quadratic spacing: dense near the minimum, not geometric


# ---------------------------------------------------------------- 1-D parabola


@pytest.fixture(scope="module")
def parabola(png_pixels) -> SimpleNamespace:
    return _figure(png_pixels, ["gd:lr=0.2", "sgd:lr=1"], function="parabola", steps=10)


def test_parabola_picture(parabola):
    _assert_size(parabola.pixels, parabola.fig)
    _assert_not_blank(parabola.pixels, ink=0.02)  # a curve on white, no filled contours
    left, right = parabola.fig.axes[:2]
    assert all(_chromatic(c) for c in parabola.colours), parabola.colours
    for colour in parabola.colours:
        assert _near(_region(parabola.pixels, left), colour) > 100, colour
        assert _near(_region(parabola.pixels, right), colour) > 30, colour
    assert left.get_xlabel() == "x"


def test_parabola_iterates_lie_on_the_curve(parabola):
    left = parabola.fig.axes[0]
    gd = parabola.result.runs[0]
    (line,) = [ln for ln in left.get_lines() if ln.get_label() == gd.label]
    xs, ys = np.asarray(line.get_xdata(), float), np.asarray(line.get_ydata(), float)
    np.testing.assert_allclose(xs, [2.0 * (-0.6) ** k for k in range(11)], rtol=1e-5)
    np.testing.assert_allclose(ys, 4 * xs**2, rtol=1e-5)


def test_parabola_divergence_keeps_the_view(parabola):
    sgd = parabola.result.runs[1]
    assert sgd.diverged == 3  # 2, −14, 98, then −686 is beyond 100 half-widths
    left = parabola.fig.axes[0]
    _assert_view_on_domain([left.get_xlim()], FUNCTIONS.resolve("parabola").domain)
    legend = [t.get_text() for t in parabola.fig.legends[0].get_texts()]
    assert legend[1] == "SGD (lr=1) — diverged at step 3"


# ---------------------------------------------------------------- 2-D divergence


@pytest.fixture(scope="module")
def diverged(png_pixels) -> SimpleNamespace:
    # gd lr 0.2 on x² + 10y²: y_k = 3·(−3)^k leaves the domain at once and escapes at step 5.
    return _figure(png_pixels, ["gd:lr=0.2", "adam:lr=0.1"], steps=12)


def test_diverged_run_draws_and_keeps_the_view(diverged):
    gd = diverged.result.runs[0]
    assert gd.diverged == 5
    assert gd.points[4] == pytest.approx([4 * 0.6**4, 243.0], rel=1e-6)  # far out, still kept
    _assert_size(diverged.pixels, diverged.fig)
    _assert_not_blank(diverged.pixels, ink=0.15)  # the contour is square: less of the canvas
    left = diverged.fig.axes[0]
    view = [left.get_xlim(), left.get_ylim()]
    _assert_view_on_domain(view, FUNCTIONS.resolve("quadratic").domain)
    # y = −27 (step 3) and 243 (step 4) are not in sight; y = 9 (step 2) is within the overshoot.
    assert view[1][1] < 27
    for colour in diverged.colours:
        assert _near(_region(diverged.pixels, left), colour) > 100, colour
    legend = [t.get_text() for t in diverged.fig.legends[0].get_texts()]
    assert legend[0] == "GD (lr=0.2) — diverged at step 5"


# ---------------------------------------------------------------- rosenbrock


def test_rosenbrock_draws_with_log_levels(png_pixels):
    pic = _figure(png_pixels, ["adam:lr=0.05"], function="rosenbrock", steps=30)
    _assert_size(pic.pixels, pic.fig)
    _assert_not_blank(pic.pixels, ink=0.2)
    left = pic.fig.axes[0]
    (colour,) = pic.colours
    assert _chromatic(colour)
    assert _near(_region(pic.pixels, left), colour) > 100
    _assert_view_on_domain([left.get_xlim(), left.get_ylim()],
                           FUNCTIONS.resolve("rosenbrock").domain)
    # Log-spaced levels: consecutive levels have one ratio.
    levels = left.collections[0].levels
    ratios = levels[1:] / levels[:-1]
    assert np.ptp(ratios) < 1e-9 * ratios.mean()
    assert ratios.mean() > 1.2


def test_a_start_outside_the_domain_is_in_view(png_pixels):
    """The user's start is always drawn: the view grows to take it in (rosenbrock's domain is
    [-2, 2] x [-1, 3]); the path is still not allowed to drag it further than half again."""
    from optviz.render.trajectory import choose_view

    spec = TrajectorySpec.model_validate(
        {"optimizers": ["adam:lr=5"], "function": "rosenbrock", "start": [100, 100],
         "steps": 200})
    result = run_trajectory_spec(spec)
    (x0, x1), (y0, y1) = choose_view(result)
    # x: the domain grown to the start (100 + 4 % of 4), then padded by 4 % of that width
    assert x0 == -2 and x1 == pytest.approx(100 + 0.04 * (100.16 + 2))
    # y: the path climbs past the start, but the view stops half a width above it at most
    assert y0 == -1 and 100 < y1 <= 100.16 + (MAX_OVERSHOOT + 0.04) * (100.16 + 1) + 1e-9
    fig = draw_trajectory(result)
    ax = fig.axes[0]
    pixels = png_pixels(png_bytes(fig))
    # the start's black ring sits inside the axes, right where (100, 100) is: dark pixels on
    # the ring (9 points across) on all four sides of the centre
    h = pixels.shape[0]
    scale = h / (fig.get_figheight() * fig.dpi)  # the PNG's dpi over the figure's own
    px, py = scale * ax.transData.transform((100, 100))
    r = round(4.5 * DPI / 72)  # the ring's radius in pixels
    for dx, dy in ((r, 0), (-r, 0), (0, r), (0, -r)):
        cx, cy = int(px) + dx, int(h - py) + dy
        patch = pixels[cy - 2:cy + 3, cx - 2:cx + 3, :3]
        assert (patch.max(axis=-1) < 90).any(), (dx, dy)


def test_sweep_best_lr_star_is_hollow_and_the_lr_axis_spans_the_grid():
    """The best lr's star is an outline (the dip's bottom shows through it) on a white halo,
    and the lr axis ends at the grid's first and last lr, with no margin past them."""
    from matplotlib.figure import Figure

    from optviz.engines.sweep import run_sweep
    from optviz.plan.optimizers import plan_optimizer
    from optviz.registry import FUNCTIONS
    from optviz.render.sweep import BEST_EDGE, draw_sweep
    from optviz.spec.figures import OptimizerSpec

    lrs = [1 / 64, 1 / 16, 1 / 4, 1.0]
    result = run_sweep(FUNCTIONS.resolve("quadratic"), plan_optimizer(OptimizerSpec(name="adam")),
                       lrs, steps=30, dtype="float64", with_path=False)
    ax = Figure().subplots()
    draw_sweep(ax, result, "#ff7f0e")
    stars = [ln for ln in ax.get_lines() if ln.get_marker() == "*"]
    assert [s.get_markerfacecolor() for s in stars] == ["none", "none"]
    assert [s.get_markeredgecolor() for s in stars] == ["white", BEST_EDGE]
    assert stars[1].get_label() == f"best lr = {result.best_lr:.3g}"
    assert np.allclose(ax.get_xlim(), (lrs[0], lrs[-1]))


def _savefig_png(fig, dpi: int) -> bytes:
    import io

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    return buf.getvalue()


@pytest.mark.parametrize("layout", ["constrained", "tight", None])
def test_png_has_savefigs_pixels_in_rgb_and_leaves_the_figure_as_it_was(layout, png_pixels):
    """optviz's PNG encoder (one layout run, Pillow RGB): the pixels matplotlib's savefig
    writes for the same figure, RGB as every pixel is opaque; the figure keeps its canvas,
    layout engine and dpi, and a second save gives the same bytes."""
    import io

    from matplotlib.figure import Figure
    from PIL import Image

    def figure() -> Figure:
        fig = Figure(figsize=(4, 3), layout=layout)
        for i, ax in enumerate(fig.subplots(1, 2)):
            ax.plot([0, 1, 2], [i, 2, 1], color="#d62728")
            ax.set_title(f"A title long enough to need room {i}")
            ax.set_ylabel("a label")
        return fig

    fig = figure()
    canvas, engine, dpi = fig.canvas, fig.get_layout_engine(), fig.dpi
    ours = png_bytes(fig, ".png", dpi=80)
    assert (fig.canvas, fig.get_layout_engine(), fig.dpi) == (canvas, engine, dpi)
    with Image.open(io.BytesIO(ours)) as im:
        assert im.mode == "RGB" and im.size == (320, 240)
    theirs = _savefig_png(figure(), 80)
    assert (png_pixels(ours) == png_pixels(theirs)).all()
    assert png_bytes(fig, ".png", dpi=80) == ours


def test_a_png_with_transparent_pixels_keeps_its_alpha():
    import io

    from matplotlib.figure import Figure
    from PIL import Image

    def figure() -> Figure:
        fig = Figure(figsize=(2, 2), layout="constrained")
        fig.patch.set_alpha(0.0)
        fig.subplots().plot([0, 1], [0, 1])
        return fig

    with Image.open(io.BytesIO(png_bytes(figure(), ".png", dpi=50))) as im:
        ours = np.asarray(im)
        assert im.mode == "RGBA"
    with Image.open(io.BytesIO(_savefig_png(figure(), 50))) as im:
        theirs = np.asarray(im)
    assert ours.shape == (100, 100, 4) and ours[0, 0, 3] == 0
    assert (ours == theirs).all()


@pytest.mark.parametrize("rc", [{"savefig.bbox": "tight"}, {"savefig.facecolor": "#ffeeee"},
                                {"savefig.transparent": True}])
def test_a_png_follows_the_users_savefig_settings_as_savefig_does(rc, png_pixels):
    import matplotlib
    from matplotlib.figure import Figure

    def figure() -> Figure:
        fig = Figure(figsize=(4, 3), layout="constrained")
        ax = fig.subplots()
        ax.plot([0, 1], [0, 1])
        ax.set_title("a title")
        return fig

    with matplotlib.rc_context(rc):
        ours, theirs = png_bytes(figure(), ".png", dpi=50), _savefig_png(figure(), 50)
    assert png_pixels(ours).shape == png_pixels(theirs).shape
    assert (png_pixels(ours) == png_pixels(theirs)).all()
