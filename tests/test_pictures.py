"""Pictures an expert would publish (issue 12), checked through the figure objects: the loss
axis spans the data and marks exact zeros, minima sit above end markers, a name keeps its
style in any company, schedules are steps, no text leaves the canvas, README examples draw
without a warning, and default file names never collide."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import numpy as np
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.text import Text
from typer.testing import CliRunner

from optviz.cli import app
from optviz.config import load_config, parse_config
from optviz.figures.write import default_name, render_figure
from optviz.render.style import FIXED, Z_ENDS, Z_MINIMUM, colours_for, style_of, styles_for
from optviz.spec.figures import ScheduleSpec, TrajectorySpec

ROOT = Path(__file__).resolve().parents[1]
CONFIGS = sorted((ROOT / "configs").rglob("*.yaml"))


def _figure(**fields):
    return render_figure(TrajectorySpec(**fields)).figure


# ---------------------------------------------------------------- the loss axis


def test_loss_axis_spans_the_data_without_a_clamp():
    rendered = render_figure(TrajectorySpec(optimizers=["sgd:lr=0.03"], function="parabola"))
    loss = np.array(rendered.data["runs"][0]["loss"])
    smallest = loss[loss > 0].min()
    assert smallest < 1e-20  # it keeps falling: 2.3e-23 after 100 steps
    right = rendered.figure.axes[1]
    assert right.get_yscale() == "log"
    assert right.get_ylim()[0] < smallest
    (curve,) = [ln for ln in right.get_lines() if len(ln.get_xdata()) == loss.size]
    assert np.allclose(curve.get_ydata(), loss)  # f* = 0: the values themselves, no floor


def test_exact_zero_is_marked_with_its_step():
    rendered = render_figure(TrajectorySpec(optimizers=["gd:lr=0.125"], function="parabola",
                                            steps=10))
    loss = rendered.data["runs"][0]["loss"]
    assert loss[1] == 0.0  # 4x² at lr 1/8: one step lands on the minimum exactly
    right = rendered.figure.axes[1]
    texts = [t.get_text() for t in right.texts]
    assert "reached 0 at step 1" in texts
    marks = [ln for ln in right.get_lines() if ln.get_marker() == "v"]
    assert len(marks) == 1 and list(marks[0].get_xdata()) == [1]
    # The curve stops where the log axis has nothing left to draw.
    curve = next(ln for ln in right.get_lines() if len(ln.get_xdata()) == len(loss))
    assert np.isnan(np.asarray(curve.get_ydata(), dtype=float)[1:]).all()


def test_a_divergence_is_marked_at_its_own_step_on_the_top_edge():
    """SGD at lr 1 on 4x² diverges at step 3 (loss 1.9e6, off the panel): the X sits at
    x = 3 on the top edge (axes fraction 1), not on the last drawn point (step 2)."""
    rendered = render_figure(TrajectorySpec(optimizers=["sgd:lr=1"], function="parabola",
                                            steps=10))
    step = rendered.result.runs[0].diverged
    assert step == 3
    right = rendered.figure.axes[1]
    (mark,) = [ln for ln in right.get_lines() if ln.get_marker() == "X"]
    assert list(mark.get_xdata()) == [step] and list(mark.get_ydata()) == [1.0]
    # On the canvas: at step 3's x, on the panel's top edge.
    FigureCanvasAgg(rendered.figure).draw()
    (px, py), = mark.get_transform().transform([(step, 1.0)])
    assert np.isclose(py, right.get_window_extent().y1)
    assert np.isclose(px, right.transData.transform((step, 1.0))[0])
    assert any(t.get_text() == "step 3: off the scale" for t in right.texts)


def test_positive_losses_get_no_zero_mark():
    right = _figure(optimizers=["adam:lr=0.1"]).axes[1]
    assert not [t for t in right.texts if "reached" in t.get_text()]


def test_long_front_loaded_run_gets_a_log_step_axis():
    short = _figure(optimizers=["gd:lr=0.1"], function="parabola", steps=100).axes[1]
    long = _figure(optimizers=["gd:lr=0.1"], function="parabola", steps=2000).axes[1]
    assert short.get_xscale() == "linear"
    assert long.get_xscale() == "symlog"
    assert "log scale" in long.get_xlabel()


# ---------------------------------------------------------------- stacking order


@pytest.mark.parametrize("optimizers", [["adam:lr=0.1"], ["gd:lr=0.01", "momentum:lr=0.01",
                                                        "nesterov:lr=0.01"]])
def test_minimum_is_drawn_above_every_end_marker(optimizers):
    fig = _figure(optimizers=optimizers)
    left = fig.axes[0]
    stars = [ln for ln in left.get_lines() if ln.get_marker() == "*"]
    ends = [ln for ln in left.get_lines()
            if ln.get_marker() in ("s", "X") and len(ln.get_xdata()) == 1]
    paths = [ln for ln in left.get_lines() if len(ln.get_xdata()) > 1]
    assert stars and len(ends) == len(optimizers)
    assert min(s.get_zorder() for s in stars) > max(e.get_zorder() for e in ends)
    assert min(e.get_zorder() for e in ends) > max(p.get_zorder() for p in paths)
    assert min(s.get_zorder() for s in stars) >= Z_MINIMUM > Z_ENDS
    # Hollow: the star does not fill over the end marker under it.
    assert all(s.get_markerfacecolor() == "none" for s in stars)


def test_later_runs_draw_above_earlier_ones_and_twins_are_said():
    fig = _figure(optimizers=["adam:lr=0.1", "adam:lr=0.1"], steps=20)
    left = fig.axes[0]
    paths = [ln for ln in left.get_lines() if len(ln.get_xdata()) > 1]
    assert paths[1].get_zorder() > paths[0].get_zorder()
    assert paths[1].get_linestyle() == "--"  # dashed over the first, which shows through
    legend = [t.get_text() for t in fig.legends[0].get_texts()]
    assert legend[1].endswith("= Adam (lr=0.1)")
    assert "=" not in legend[0].replace("lr=", "")


# ---------------------------------------------------------------- equal scale


def test_contours_are_drawn_at_equal_scale_unless_asked_otherwise():
    left = _figure(optimizers=["adam:lr=0.1"]).axes[0]
    assert left.get_aspect() == 1.0
    free = _figure(optimizers=["adam:lr=0.1"], aspect="auto").axes[0]
    assert free.get_aspect() == "auto"


def test_pca_plane_is_equal_scale_and_says_its_variance():
    fig = _figure(optimizers=["adam:lr=0.05"], model="linear", epochs=3)
    left = fig.axes[0]
    assert left.get_aspect() == 1.0
    assert "of variance" in left.get_xlabel() and "of variance" in left.get_ylabel()
    (x0, x1), (y0, y1) = left.get_xlim(), left.get_ylim()
    assert max(x1 - x0, y1 - y0) / min(x1 - x0, y1 - y0) <= 2.0 + 1e-9


def test_zoom_adds_an_inset_on_the_end_of_the_run():
    fig = _figure(optimizers=["adam:lr=0.1"], zoom=True)
    left = fig.axes[0]
    insets = [c for c in left.child_axes]
    assert len(insets) == 1
    (x0, x1) = insets[0].get_xlim()
    assert x1 - x0 < 0.5 * (left.get_xlim()[1] - left.get_xlim()[0])


def test_the_inset_says_its_real_magnification_and_is_sampled_over_its_box():
    """"× k" is the inset's width on the canvas over its box's width in the panel (not the
    view over the box: the inset is a fraction of the panel); its contours come from the
    function sampled over the box, so their segments are short, not the panel grid's."""
    from matplotlib.contour import ContourSet

    rendered = render_figure(TrajectorySpec(optimizers=["adam:lr=0.1"], zoom=True))
    fig = rendered.figure
    left = fig.axes[0]
    (inset,) = left.child_axes
    FigureCanvasAgg(fig).draw()
    (x0, x1), (y0, _) = inset.get_xlim(), inset.get_ylim()
    (px0, _), (px1, _) = left.transData.transform([(x0, y0), (x1, y0)])
    real = inset.get_window_extent().width / (px1 - px0)
    (caption,) = inset.texts
    assert caption.get_text() == f"end of the run (× {real:.0f})"
    naive = np.ptp(left.get_xlim()) / (x1 - x0)
    assert real < 0.6 * naive  # the old label, view / box, overstated it
    fine = rendered.computed.draw_inputs["insets"][0]
    assert np.isclose(fine.xs[0], x0) and np.isclose(fine.xs[-1], x1)
    lines = [c for c in inset.collections if isinstance(c, ContourSet) and not c.filled]
    steps = np.concatenate([np.hypot(*np.diff(p.vertices, axis=0).T)
                            for c in lines for p in c.get_paths() if len(p.vertices) > 2])
    panel_cell = np.ptp(left.get_xlim()) / 300
    assert steps.size and np.median(steps) < 0.3 * panel_cell  # the panel's grid: ~1 cell


# ---------------------------------------------------------------- colours per name


def test_a_name_keeps_its_colour_in_any_company():
    companies = [["adam:lr=0.1"], ["sgd:lr=0.01", "adam:lr=0.1", "rmsprop:lr=0.01"],
                 ["adagrad:lr=0.5", "rmsprop:lr=0.01", "lion:lr=0.01", "adam:lr=0.1"]]
    seen = set()
    for optimizers in companies:
        fig = _figure(optimizers=optimizers, steps=10)
        legend = fig.legends[0]
        for handle, text in zip(legend.legend_handles, legend.get_texts(), strict=False):
            if text.get_text().startswith("Adam ("):
                seen.add(handle.get_color())
    assert seen == {style_of("adam").colour}
    # RMSprop in a grid panel and in an overlay: one colour (it was black in one, blue in another).
    assert colours_for(["rmsprop"]) == colours_for(["adagrad", "rmsprop"])[1:]


def test_every_registered_name_has_its_own_style():
    from optviz.registry import OPTIMIZERS, SCHEDULERS

    for registry in (OPTIMIZERS, SCHEDULERS):
        names = registry.names()
        styles = [style_of(n) for n in names]
        assert len(set(styles)) == len(names), registry
        assert all(n in FIXED for n in names)  # fixed: never a hash that could move
    # AdaGrad and RMSprop, both black before.
    assert style_of("adagrad").colour != style_of("rmsprop").colour


def test_repeats_of_a_name_keep_its_hue_and_stay_apart():
    styles = styles_for(["gd", "gd", "gd"])
    assert styles[0] == style_of("gd")
    assert len({s.colour for s in styles}) == 3
    assert len({s.dash for s in styles}) == 3


def test_every_optimizer_drawn_in_one_grid_has_its_own_distinct_colour():
    """All registered optimizers in one grid (the all_* configs): each keeps its own fixed
    colour (the one it has alone), and any two differ by CIE76 ΔE over 30 (GD and Adagrad
    were two browns 25.6 apart, Adafactor and RAdam 21.7)."""
    from itertools import combinations

    from optviz.registry import OPTIMIZERS
    from optviz.render.style import delta_e

    names = list(OPTIMIZERS.names())
    assert len(names) >= 19
    colours = colours_for(names)
    assert colours == [style_of(n).colour for n in names]
    assert colours == [colours_for([n])[0] for n in names]
    worst = min((delta_e(a, b), na, nb) for (na, a), (nb, b)
                in combinations(zip(names, colours, strict=True), 2))
    assert worst[0] > 30, worst
    # And on the contours: none within ΔE 15 of their pale blues, nor of the white halo.
    for colour in colours:
        assert min(delta_e(colour, c) for c in ("#f7fbff", "#c6dbef", "#ffffff")) > 15


def test_families_drawn_together_have_far_apart_colours():
    """SGD / momentum / Nesterov / GD and Adam / AdamW / RMSprop / Adagrad / Adadelta (and the
    rest of each family) in clearly different hues: CIE76 ΔE over 30 within a family, over 20
    between any two optimizers."""
    from itertools import combinations

    from optviz.registry import OPTIMIZERS
    from optviz.render.style import FAMILIES, delta_e

    assert {"sgd", "momentum", "nesterov"} <= set(FAMILIES[0])
    assert {"adam", "adamw", "rmsprop", "adagrad", "adadelta"} <= set(FAMILIES[1])
    for family in FAMILIES:
        for a, b in combinations(family, 2):
            assert delta_e(style_of(a).colour, style_of(b).colour) > 30, (a, b)
    for a, b in combinations(OPTIMIZERS.names(), 2):
        assert delta_e(style_of(a).colour, style_of(b).colour) > 30, (a, b)
    # The measure itself: white and black are 100 apart, a colour is 0 from itself.
    assert delta_e("#ffffff", "#000000") == pytest.approx(100, abs=1e-3)
    assert delta_e("#1f77b4", "#1f77b4") == 0


def test_a_name_keeps_its_style_whatever_else_is_drawn():
    """SGD in three companies (alone, with its family, after two other runs of its own
    name): the same colour, dash and marker each time, in the legend and on the path."""
    seen = set()
    for optimizers in (["sgd:lr=0.01"], ["momentum:lr=0.01", "sgd:lr=0.01", "nesterov:lr=0.01"],
                       ["adam:lr=0.1", "rmsprop:lr=0.01", "sgd:lr=0.01"]):
        fig = _figure(optimizers=optimizers, steps=10)
        k = [o.split(":")[0] for o in optimizers].index("sgd")
        path = [ln for ln in fig.axes[0].get_lines() if len(ln.get_xdata()) > 1][k]
        seen.add((path.get_color(), path.get_linestyle(), path.get_marker()))
    assert seen == {(style_of("sgd").colour, "-", style_of("sgd").marker)}


def test_repeats_of_a_name_are_clearly_apart_and_show_their_dash():
    from itertools import combinations

    from optviz.registry import OPTIMIZERS
    from optviz.render.style import delta_e

    for name in OPTIMIZERS.names():
        colours = [s.colour for s in styles_for([name] * 3)]
        assert min(delta_e(a, b) for a, b in combinations(colours, 2)) >= 18, name
    fig = _figure(optimizers=["sgd:lr=0.01", "sgd:lr=0.03"], function="parabola", steps=20)
    paths = [ln for ln in fig.axes[0].get_lines() if ln.get_label().startswith("SGD")]
    assert [p.get_linestyle() for p in paths] == ["-", "--"]  # the path takes the dash
    handles = fig.legends[0].legend_handles
    assert [h.get_linestyle() for h in handles[:2]] == ["-", "--"]  # and the legend shows it
    assert fig.legends[0].handlelength >= 3  # long enough for a dash to read


def test_near_identical_paths_are_said_and_dashed_in_both_panels():
    fig = _figure(optimizers=["adam:lr=0.1", "adamw:lr=0.1", "rmsprop:lr=0.1"])
    legend = [t.get_text() for t in fig.legends[0].get_texts()]
    assert legend[1] == "AdamW (lr=0.1) ≈ Adam (lr=0.1)'s path"
    assert "≈" not in legend[2]  # RMSprop goes its own way
    paths = [ln for ln in fig.axes[0].get_lines() if len(ln.get_xdata()) > 2]
    assert paths[1].get_linestyle() == "--" and paths[2].get_linestyle() == "-"
    curves = [ln for ln in fig.axes[1].get_lines() if len(ln.get_xdata()) > 2]
    assert curves[1].get_linestyle() == "--" and curves[0].get_linestyle() == "-"


def test_a_run_under_later_lines_is_drawn_wider_and_shows():
    """adaptive_side_by_side: RMSprop (second) runs down the diagonal that Adam, Adamax and
    NAdam (later) follow at other speeds, so no pointwise twin test catches it; it is drawn
    wider than they are, and its colour shows along the diagonal, not only at its end."""
    from optviz.render.trajectory import PATH_WIDTH, covered_by_later

    rendered = render_figure(load_config(ROOT / "configs/showcase/adaptive_side_by_side.yaml"))
    drawn = rendered.computed.draw_inputs["panels"][0][1]
    names = [r.optimizer for r in drawn.runs]
    under = covered_by_later(drawn.runs, rendered.computed.draw_inputs["panels"][0][3])
    assert under.get(names.index("rmsprop"), 0) >= 2
    assert names.index("radam") not in under  # RAdam goes its own way
    left = rendered.figure.axes[0]
    width = {ln.get_label().split(" (")[0]: ln.get_linewidth() for ln in left.get_lines()
             if len(ln.get_xdata()) > 2}
    assert width["RAdam"] == PATH_WIDTH
    assert width["RMSprop"] > max(width["Adam"], width["Adamax"], width["NAdam"])
    canvas = FigureCanvasAgg(rendered.figure)
    canvas.draw()
    pixels = np.asarray(canvas.buffer_rgba())[..., :3].astype(int)
    pink = np.array([int(style_of("rmsprop").colour[i:i + 2], 16) for i in (1, 3, 5)])
    box = left.get_window_extent()
    h = pixels.shape[0]
    panel = pixels[int(h - box.y1):int(h - box.y0), int(box.x0):int(box.x1)]
    assert (np.abs(panel - pink).max(axis=-1) <= 30).sum() > 30  # drawn 1.4 wide: 2
    # The legend keeps ordinary line widths.
    legend = rendered.figure.legends[0]
    assert max(line.get_linewidth() for line in legend.get_lines()) <= 2.5


def test_one_d_runs_on_one_curve_get_a_lane_each():
    """parabola_momentum: three runs on 4x² lie on the curve over each other; under the curve
    each has a lane at its own height with its points at their x, in its colour."""
    rendered = render_figure(load_config(ROOT / "configs/seed/parabola_momentum.yaml"))
    left = rendered.figure.axes[0]
    lanes = [ln for ln in left.get_lines() if ln.get_label() == "_lane"]
    runs = rendered.computed.draw_inputs["panels"][0][1].runs
    assert len(lanes) == len(runs) == 3
    heights = [float(ln.get_ydata()[0]) for ln in lanes]
    assert len(set(heights)) == 3 and max(heights) < 0 and left.get_ylim()[0] < min(heights)
    for lane, run, colour in zip(lanes, runs, colours_for([r.optimizer for r in runs]),
                                 strict=True):
        assert np.allclose(lane.get_xdata(), np.array(run.points)[:, 0])
        assert lane.get_color() == colour
    # The momentum run's lane reaches its overshoot left of the minimum; SGD's never does.
    assert min(lanes[2].get_xdata()) < -1 < 0 <= min(lanes[0].get_xdata())
    one = _figure(optimizers=["sgd:lr=0.01"], function="parabola", steps=10).axes[0]
    assert not [ln for ln in one.get_lines() if ln.get_label() == "_lane"]


def test_an_end_on_the_minimum_is_filled_and_the_start_is_a_ring():
    fig = _figure(optimizers=["adam:lr=0.1", "adagrad:lr=0.1"])
    left = fig.axes[0]
    ends = [ln for ln in left.get_lines() if ln.get_marker() == "s" and len(ln.get_xdata()) == 1]
    # Both filled in their colour: the star above Adam's is an outline, so it shows through.
    assert [e.get_markerfacecolor() for e in ends] == [style_of("adam").colour,
                                                       style_of("adagrad").colour]
    (start,) = [ln for ln in left.get_lines() if ln.get_marker() == "o"
                and len(ln.get_xdata()) == 1]
    assert start.get_markerfacecolor() == "none" and start.get_zorder() == Z_ENDS


def test_the_star_is_an_outline_with_a_halo_and_the_end_under_it_shows():
    """The star (style.MINIMUM_STAR): no fill, a white halo under a thin dark edge, above the
    end markers; at its centre the pixels are the colour of the run that ended there."""
    from optviz.render.style import MINIMUM_STAR

    fig = _figure(optimizers=["adam:lr=0.1"], steps=200)
    left = fig.axes[0]
    stars = [ln for ln in left.get_lines() if ln.get_marker() == "*"]
    assert [s.get_markeredgecolor() for s in stars] == [layer["mec"] for layer in MINIMUM_STAR]
    assert [s.get_markeredgecolor() for s in stars] == ["white", "#1a1a1a"]
    assert all(s.get_markerfacecolor() == "none" for s in stars)
    assert stars[0].get_markeredgewidth() > stars[1].get_markeredgewidth()  # the halo: wider
    assert stars[0].get_zorder() >= Z_MINIMUM and stars[1].get_zorder() > stars[0].get_zorder()
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    pixels = np.asarray(canvas.buffer_rgba())[..., :3].astype(float)
    x, y = left.transData.transform((0.0, 0.0))  # the minimum of x² + 10y²
    row, col = round(pixels.shape[0] - y), round(x)
    centre = pixels[row - 1:row + 2, col - 1:col + 2].reshape(-1, 3).mean(axis=0)
    orange = np.array([int(style_of("adam").colour[i:i + 2], 16) for i in (1, 3, 5)])
    assert np.abs(centre - orange).max() < 40, centre  # Adam's end square, under the star


def test_lookahead_resets_are_drawn_as_jumps():
    """Every k steps Lookahead moves its slow weights and puts the fast ones there: the path
    breaks there (NaN), and a thin dotted line joins the two points of the jump."""
    rendered = render_figure(TrajectorySpec(optimizers=["sgd:lr=0.03"], steps=20,
                                            lookahead={"k": 5, "alpha": 0.5}))
    points = np.array(rendered.data["runs"][0]["points"])
    left = rendered.figure.axes[0]
    path = next(ln for ln in left.get_lines() if len(ln.get_xdata()) > points.shape[0] - 1
                and ln.get_linestyle() == "-")
    xs = np.asarray(path.get_xdata(), dtype=float)
    jumps = [5, 10, 15, 20]
    assert np.isnan(xs).sum() == len(jumps)
    assert np.allclose(xs[np.isfinite(xs)], points[:, 0])
    # The break sits right before each reset point.
    for i, t in enumerate(jumps):
        assert np.isnan(xs[t + i]) and xs[t + i + 1] == pytest.approx(points[t, 0])
    dotted = [ln for ln in left.get_lines() if ln.get_linestyle() == ":"
              and len(ln.get_xdata()) == 2]
    assert [list(ln.get_xdata()) for ln in dotted] == [list(points[t - 1:t + 1, 0])
                                                      for t in jumps]
    texts = [t.get_text() for t in rendered.figure.legends[0].get_texts()]
    assert any("reset onto the slow weights (a jump)" in t for t in texts)


def test_lbfgs_says_a_step_is_several_evaluations():
    fig = _figure(optimizers=["lbfgs:lr=0.5", "adam:lr=0.1"], steps=5)
    texts = [t.get_text() for t in fig.legends[0].get_texts()]
    assert texts[0] == "LBFGS (lr=0.5) — a step: up to 20 function evaluations"
    assert "evaluations" not in texts[1]
    fig = _figure(optimizers=["lbfgs:lr=0.5,max_iter=7,line_search_fn=strong_wolfe"], steps=3)
    assert "up to 8 function evaluations" in fig.legends[0].get_texts()[0].get_text()


def test_plugin_names_that_differ_from_builtins_only_by_case_are_told_apart(monkeypatch):
    monkeypatch.syspath_prepend(str(ROOT / "examples" / "handwritten_optim"))
    fig = _figure(optimizers=["handwritten_optim.RMSProp:lr=0.1", "rmsprop:lr=0.1"], steps=5)
    texts = [t.get_text() for t in fig.legends[0].get_texts()]
    assert texts[:2] == ["handwritten_optim.RMSProp (lr=0.1)", "RMSprop (lr=0.1)"]
    assert texts[0].casefold() != texts[1].casefold()
    # Alone, a plugin keeps its short label: nothing to tell it from.
    alone = _figure(optimizers=["handwritten_optim.RMSProp:lr=0.1", "sgd:lr=0.1"], steps=5)
    assert alone.legends[0].get_texts()[0].get_text() == "RMSProp (lr=0.1)"


# ---------------------------------------------------------------- panels


def _panels(**fields):
    return render_figure(TrajectorySpec(layout="panels", **fields)).figure


def test_a_run_without_a_scheduler_draws_its_flat_lr_and_state_uses_neutral_styles():
    from matplotlib.colors import to_rgb

    from optviz.render.style import FIXED

    fig = _panels(function="rosenbrock", steps=30, optimizers=["adam:lr=0.05"],
                  show_state=True, panels=[{"title": "constant"},
                                           {"title": "cosine", "scheduler": "cosine"}])
    lr_axes = [ax for ax in fig.axes if ax.get_ylabel() == "learning rate"]
    flat = [ln for ln in lr_axes[0].get_lines()]
    assert len(flat) == 1 and list(flat[0].get_ydata()) == [0.05, 0.05]
    assert list(flat[0].get_xdata()) == [0, 29]
    assert any("no scheduler" in t.get_text() for t in lr_axes[0].texts)
    state_axes = [ax for ax in fig.axes if ax.get_title().startswith("optimizer state")]
    optimizer_colours = {to_rgb(s.colour) for s in FIXED.values()} - {(0.0, 0.0, 0.0)}
    for ax in state_axes:
        for line in ax.get_lines():
            r, g, b = to_rgb(line.get_color())
            assert r == g == b  # black and greys only
            assert (r, g, b) not in optimizer_colours
    # One legend under the grid says what each quantity is.
    texts = [t.get_text() for legend in fig.legends for t in legend.get_texts()]
    assert "‖exp_avg‖: 1st moment m (a momentum of g)" in texts
    assert len(texts) == len(set(texts)) == 3


def test_every_panel_has_axis_labels_and_1d_panels_a_loss_strip():
    fig = _panels(function="parabola", steps=10, panels=[
        {"optimizers": ["sgd:lr=0.2"]}, {"optimizers": ["sgd:lr=0.125"]}])
    curves = [ax for ax in fig.axes if ax.get_ylabel() == "f(x)" and ax.get_xlabel() == "x"]
    losses = [ax for ax in fig.axes if ax.get_title() == "loss"]
    assert len(curves) == len(losses) == 2
    assert all(ax.get_yscale() == "log" for ax in losses)
    assert "reached 0 at step 1" in [t.get_text() for t in losses[1].texts]
    grid = _panels(steps=5, panels=[{"optimizers": ["adam:lr=0.1"]},
                                    {"optimizers": ["sgd:lr=0.01"]}])
    assert [(ax.get_xlabel(), ax.get_ylabel()) for ax in grid.axes] == [("x", "y")] * 2


@pytest.mark.parametrize("zoom", [False, True])
def test_grid_panels_have_boxes_of_one_size(zoom):
    """LBFGS leaves the domain, Adam stays in a well: at equal scale every view is square, so
    every panel's box is the same."""
    fig = _panels(function="rastrigin", steps=40, zoom=zoom, rows=1, cols=3, panels=[
        {"optimizers": ["lbfgs:lr=0.1"]}, {"optimizers": ["adam:lr=0.5"]},
        {"optimizers": ["sgd:lr=0.003"]}])
    main = [ax for ax in fig.axes if ax.get_title()]
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    boxes = [ax.get_window_extent() for ax in main]
    assert len(boxes) == 3
    assert max(b.width for b in boxes) - min(b.width for b in boxes) < 1.5
    assert max(b.height for b in boxes) - min(b.height for b in boxes) < 1.5


@pytest.mark.parametrize("scheduler", [None, "onecycle"])
def test_grid_boxes_are_one_size_whatever_their_titles_wrap_to(scheduler):
    """onecycle_optimizers: a title that wraps to two lines shrank its cell's contour box; each
    title is now padded to the longest's lines, so every box is the same (with LR strips under
    the contours, in subfigures, and without)."""
    long = "plain SGD + OneCycleLR (peak 0.09), no momentum cycling, a long title"
    panels = [{"title": "short", "optimizers": ["sgd:lr=0.02"]},
              {"title": long, "optimizers": ["sgd:lr=0.05"]}]
    if scheduler:
        panels = [{**p, "scheduler": scheduler} for p in panels]
    fig = _panels(function="quadratic", steps=20, rows=1, cols=2, panels=panels)
    main = [ax for ax in fig.axes if ax.get_title() and "learning rate" not in ax.get_title()]
    assert [ax.get_title().count("\n") for ax in main] == [1, 1]  # two lines each
    assert main[0].get_title() == "\nshort"
    FigureCanvasAgg(fig).draw()
    boxes = [ax.get_window_extent() for ax in main]
    assert abs(boxes[0].width - boxes[1].width) < 1.5
    assert abs(boxes[0].height - boxes[1].height) < 1.5


def test_zoom_grid_panels_take_their_view_from_their_own_path():
    from optviz.figures.trajectory import run_trajectory_spec
    from optviz.registry import FUNCTIONS

    spec = TrajectorySpec(layout="panels", function="beale", steps=100, zoom=True,
                          panels=[{"optimizers": ["adam:lr=0.05"]}])
    fig = render_figure(spec).figure
    ax = fig.axes[0]
    (x0, x1), (y0, y1) = ax.get_xlim(), ax.get_ylim()
    (dx0, dx1), _ = FUNCTIONS.resolve("beale").domain
    assert x1 - x0 < 0.6 * (dx1 - dx0)  # a view of the path, not the whole domain
    assert x1 - x0 == pytest.approx(y1 - y0)  # square
    points = np.array(run_trajectory_spec(spec.panel_specs()[0]).runs[0].points)
    assert (points[:, 0] > x0).all() and (points[:, 0] < x1).all()
    assert (points[:, 1] > y0).all() and (points[:, 1] < y1).all()
    assert x0 < 3 < x1 and y0 < 0.5 < y1  # and the minimum it heads for


def test_the_inset_holds_every_run_end_and_draws_no_connector_lines():
    from matplotlib.patches import ConnectionPatch, Rectangle

    fig = _panels(function="beale", steps=300, zoom=True, rows=1, cols=2, panels=[
        {"optimizers": ["rprop:lr=0.01"]}, {"optimizers": ["lbfgs:lr=0.5"]}])
    with_inset = [ax for ax in fig.axes if ax.child_axes]
    assert len(with_inset) == 2  # both ends are a few pixels in their panels
    for ax in with_inset:
        (inset,) = ax.child_axes
        end = next(ln for ln in inset.get_lines() if ln.get_marker() == "s"
                   and len(ln.get_xdata()) == 1)
        (x,), (y,) = end.get_xdata(), end.get_ydata()
        (ix0, ix1), (iy0, iy1) = inset.get_xlim(), inset.get_ylim()
        assert ix0 < x < ix1 and iy0 < y < iy1
        assert not [p for p in ax.findobj(ConnectionPatch)]
        assert [p for p in ax.patches if isinstance(p, Rectangle) and not p.get_fill()]
        assert all(t.get_window_extent().y1 <= inset.get_window_extent().y1 + 1
                   for t in inset.texts)  # the caption stays inside the inset


def test_a_wide_pca_plane_with_many_panels_spans_the_figure():
    fig = _figure(optimizers=["adam:lr=0.05", "momentum:lr=0.02"], model="linear",
                  in_features=10, epochs=4, scheduler="step:step_size=2", interval="epoch",
                  show_state=True)
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    plane = fig.axes[0]
    assert "PC1" in plane.get_xlabel()
    assert plane.get_window_extent().width > 0.6 * fig.bbox.width
    state = next(ax for ax in fig.axes if ax.get_title().startswith("optimizer state"))
    legend = state.get_legend()
    assert legend.get_window_extent().y1 <= state.get_window_extent().y0  # below, off curves


def test_model_loss_axis_fits_the_data():
    rendered = render_figure(TrajectorySpec(
        model="linear", in_features=1, samples=128, epochs=4,
        optimizers=[{"name": "gd", "lr": 0.15, "batch_size": 0},
                    {"name": "sgd", "lr": 0.02, "batch_size": 1}]))
    ax = next(a for a in rendered.figure.axes if a.get_ylabel().startswith("MSE"))
    batch = np.concatenate([np.array(r["batch_loss"], dtype=float)
                            for r in rendered.data["runs"]])
    means = np.concatenate([np.array(r["epoch_loss"], dtype=float)
                            for r in rendered.data["runs"]])
    lo, hi = ax.get_ylim()
    assert lo > batch.min()  # a lone sample's near-zero loss does not set the axis
    assert lo <= np.percentile(batch, 5) and lo < means.min() and hi > batch.max()
    assert "below the axis" in ax.get_ylabel()
    # The per-step losses are thin and light under the epoch means, which carry the panel.
    lines = [ln for ln in ax.get_lines() if len(ln.get_xdata()) > 1 and ln.get_linestyle() == "-"]
    steps = [ln for ln in lines if ln.get_marker() in ("None", "", None)]
    epochs = [ln for ln in lines if ln.get_marker() == "o"]
    assert len(steps) == len(epochs) == 2
    assert all(ln.get_linewidth() <= 0.5 and ln.get_alpha() <= 0.25 for ln in steps)
    assert max(ln.get_zorder() for ln in steps) < min(ln.get_zorder() for ln in epochs)


# ---------------------------------------------------------------- schedules as steps


@pytest.mark.parametrize("fields", [
    {"schedulers": ["step:step_size=3", "multistep:milestones=[5,11]"]},
    {"schedulers": ["step", "constant", "cosine"], "grid": True},
    {"schedulers": ["onecycle"], "optimizer": "sgd:momentum=0.9"},
])
def test_schedule_lines_are_steps(fields):
    fig = render_figure(ScheduleSpec(**fields)).figure
    lines = [ln for ax in fig.axes for ln in ax.get_lines() if len(ln.get_xdata()) > 2]
    assert lines
    assert all(ln.get_drawstyle() == "steps-post" for ln in lines)


def test_schedule_warnings_are_one_short_line_per_kind():
    rendered = render_figure(ScheduleSpec(schedulers=["onecycle", "onecycle_linear"]))
    assert rendered.computed.warnings  # SGD without momentum: the scheduler cycles it anyway
    notes = [t.get_text() for t in rendered.figure.findobj(Text) if "⚠" in t.get_text()]
    assert len(notes) == 1
    lines = notes[0].split("\n")
    assert len(lines) == len({line.split(" but ")[0] for line in lines}) <= 2
    assert all(len(line) <= 140 for line in lines)


# ---------------------------------------------------------------- no text off the canvas


# Every gallery figure's texts are checked on the figure test_configs renders.


def test_a_long_formula_title_wraps_inside_the_canvas(texts_off_canvas):
    fig = _figure(optimizers=["adam:lr=0.001"], function="goldstein_price", steps=20)
    assert "\n" in fig.axes[0].get_title()
    assert texts_off_canvas(fig) == []


@pytest.mark.parametrize("saved", [False, True], ids=["drawn", "just-saved"])
def test_the_canvas_check_names_what_sticks_out_drawn_or_just_saved(saved, texts_off_canvas):
    """The check test_configs runs on each gallery figure right after saving it (measured on
    savefig's layout, not drawn again) finds what a fresh draw finds: a text placed past the
    edge of a laid-out figure, and tick labels, which only a draw makes and places, below
    the bottom of a figure without a layout engine."""
    import io

    from matplotlib.figure import Figure

    rendered = render_figure(load_config(ROOT / "configs/showcase/adaptive_side_by_side.yaml"))
    if saved:
        rendered.image_bytes(".png")
    assert texts_off_canvas(rendered.figure, laid_out=saved) == []
    rendered.figure.text(0.97, 0.5, "past the right edge")
    if saved:
        rendered.image_bytes(".png")
    found = texts_off_canvas(rendered.figure, laid_out=saved)
    assert any("'past the right edge'" in text for text in found), found

    fig = Figure(figsize=(4, 3))
    ax = fig.subplots()
    ax.plot([0, 1], [0, 1])
    ax.set_xticks([0.25, 0.75], ["tick label one", "tick label two"])
    fig.subplots_adjust(bottom=0, left=0.2)
    if saved:
        fig.savefig(io.BytesIO(), format="png")
    found = texts_off_canvas(fig, laid_out=saved)
    assert any("'tick label one'" in text for text in found), found


# ---------------------------------------------------------------- README examples


def _readme_examples() -> list[str]:
    """The README's drawing commands (trajectory, schedule, sweep, basin), joined across
    continuation lines, without comments; HTML pages and files the reader brings are left out."""
    text = (ROOT / "README.md").read_text()
    blocks = re.findall(r"```bash\n(.*?)```", text, flags=re.S)
    out = []
    for block in blocks:
        for command in block.replace("\\\n", " ").splitlines():
            command = command.split("  #")[0].strip()
            if not re.match(r"optviz (trajectory|schedule|sweep|basin) ", command):
                continue
            if ".html" in command or "trace.csv" in command or ">" in command:
                continue
            out.append(command)
    return out


EXAMPLES = _readme_examples()


def test_readme_has_the_examples_this_test_runs():
    assert len(EXAMPLES) >= 15
    assert any("onecycle" in c for c in EXAMPLES) and any("plateau" in c for c in EXAMPLES)


def _spec_of(command: str):
    args = shlex.split(command)[1:]
    args = [a for a in args if a not in ("--export", "paths.json")]
    res = CliRunner().invoke(app, [*args, "--dump-config"])
    assert res.exit_code == 0, res.output
    return parse_config(res.stdout, "README")


def _shrunk(spec):
    """The README's basin maps at a coarser grid, so the test stays quick: the warnings and
    the texts do not depend on the grid."""
    if spec.kind == "basin":
        return spec.model_copy(update={"grid": 24})
    return spec


@pytest.mark.parametrize("command", EXAMPLES)
def test_readme_example_draws_without_a_warning_and_inside_the_canvas(command, texts_off_canvas):
    rendered = render_figure(_shrunk(_spec_of(command)))
    assert rendered.computed.warnings == [], command
    assert texts_off_canvas(rendered.figure) == [], command


def test_readme_plateau_example_reduces_the_lr():
    (command,) = [c for c in EXAMPLES if "plateau" in c]
    result = render_figure(_spec_of(command)).result
    assert len(result.runs[0].plateau.reductions) >= 2


def test_readme_onecycle_example_cycles_momentum():
    (command,) = [c for c in EXAMPLES if "onecycle" in c]
    run = render_figure(_spec_of(command)).result.runs[0]
    momentum = np.array(run.momentum, dtype=float)
    assert momentum.min() < momentum.max() - 0.05  # 0.85 to 0.95: a real cycle


# ---------------------------------------------------------------- default file names


def test_different_calls_never_share_a_default_name():
    T, S = TrajectorySpec, ScheduleSpec
    specs = [
        T(optimizers=["adam"]), T(optimizers=["adam"], lr=0.1),
        T(optimizers=["adam"], lr=0.1, show_state=True), T(optimizers=["adam"], lr=0.01),
        T(optimizers=["adam:lr=0.1"]), T(optimizers=["adam", "sgd"]),
        T(optimizers=["sgd", "adam"]), T(optimizers=["gd:lr=0.125", "gd:lr=0.2", "gd:lr=1"]),
        T(optimizers=["gd:lr=0.125", "gd:lr=0.2", "gd:lr=2"]),
        T(optimizers=["adam"], function="rosenbrock"), T(optimizers=["adam"], steps=200),
        T(optimizers=["adam"], start=[1, 2]), T(optimizers=["adam"], start=[-1, 2]),
        T(optimizers=["adam"], zoom=True), T(optimizers=["adam"], aspect="auto"),
        T(optimizers=["adam"], title="A"), T(optimizers=["adam"], title="B"),
        T(optimizers=["adam:betas=[0.9,0.99]"]), T(optimizers=["adam:betas=[0.9,0.999]"]),
        T(optimizers=["adam"], settings={"weight_decay": 0.1}),
        T(optimizers=["adam"], lr=0.1 + 1e-12), T(optimizers=["adam"], model="linear"),
        S(schedulers=["step"]), S(schedulers=["step:step_size=3"]),
        S(schedulers=["step"], epochs=20), S(schedulers=["step"], log_y=True),
        S(schedulers=["onecycle"], optimizer="sgd:momentum=0.9"), S(schedulers=["onecycle"]),
    ]
    names = [default_name(s) for s in specs]
    assert len(set(names)) == len(names), names
    assert [default_name(s) for s in specs] == names  # the same call: the same name
    assert default_name(specs[0]) == Path("trajectory_quadratic_adam.png")
    assert default_name(specs[2]) == Path("trajectory_quadratic_adam_show-state_lr0.1.png")
    assert all(len(n.name) <= 104 for n in names)
    assert all(re.fullmatch(r"[A-Za-z0-9_.+-]+", n.name) for n in names)
