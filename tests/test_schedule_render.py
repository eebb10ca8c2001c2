"""Schedule pictures, checked by their pixels: size, not blank, each curve's colour present,
warnings drawn when there are some, and the same bytes every time."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from pixels import darkest, within

from optviz.config import load_config
from optviz.figures.formats import figure_bytes as png_bytes
from optviz.figures.write import render_figure
from optviz.registry import SCHEDULERS
from optviz.render.schedule import WARN_COLOUR, epoch_step, schedule_figure
from optviz.render.style import colours_for
from optviz.results import PlateauTrace, ScheduleResult, ScheduleRun
from optviz.spec.figures import ScheduleSpec

CONFIGS = Path(__file__).resolve().parents[1] / "configs"
DPI = 150  # figures.formats.DEFAULT_DPI
OVERLAY_WIDTH = 11 * DPI


def rgb(hex_colour: str) -> np.ndarray:
    return np.array([int(hex_colour[i:i + 2], 16) for i in (1, 3, 5)])


def colour_pixels(img: np.ndarray, hex_colour: str, tol: int = 12) -> int:
    return int(within(img.astype(np.int16, copy=False), rgb(hex_colour), tol).sum())


def ink(img: np.ndarray) -> float:
    """Share of pixels that are not (near) white."""
    return float((darkest(img) < 235).mean())


def render(*schedulers: str, **fields):
    spec = ScheduleSpec.model_validate({"schedulers": list(schedulers), **fields})
    return render_figure(spec)


@pytest.mark.parametrize("name", SCHEDULERS.names())
def test_every_name_renders(name, png_pixels):
    rendered = render(name)
    img = png_pixels(rendered.png)
    height, width, _ = img.shape
    assert width == OVERLAY_WIDTH
    assert 500 < height < 1300
    assert ink(img) > 0.02
    (colour,) = colours_for([name])
    assert colour_pixels(img, colour) > 150, f"no {colour} curve in {name}'s picture"
    # The warning text's colour: plenty when there are lints, at most stray anti-aliasing of
    # an orange curve when there are none.
    warned = colour_pixels(img, WARN_COLOUR, tol=20)
    if rendered.result.warnings:
        assert warned > 100
    else:
        assert warned < 10


def test_grid_gives_each_scheduler_a_panel(png_pixels):
    names = ["step", "multistep", "cosine"]
    img = png_pixels(render(*names, grid=True).png)
    assert img.shape[1] == round(9.2 * DPI)
    for colour in colours_for(names):
        assert colour_pixels(img, colour) > 150
    # Two columns of panels: curve colours on both halves of the picture.
    left, right = img[:, : img.shape[1] // 2], img[:, img.shape[1] // 2:]
    step, multistep, _ = colours_for(names)
    assert colour_pixels(left, step) > 150 and colour_pixels(right, multistep) > 150


def test_overlay_draws_every_curve(png_pixels):
    names = ["step", "onecycle", "plateau", "linear_warmup"]
    rendered = render(*names, log_y=True)
    img = png_pixels(rendered.png)
    for colour in colours_for(names):
        assert colour_pixels(img, colour) > 150


def test_same_call_same_picture(png_pixels):
    a, b = render("plateau", "cyclic"), render("plateau", "cyclic")
    assert a.data == b.data
    # The same numbers give the same picture, but not always the same bytes: once in several
    # full runs, 27 anti-aliased pixels of one line differed with identical data (cause not
    # pinned down; last-bit differences in matplotlib's transforms are the likely one).
    if a.png != b.png:
        diff = np.abs(png_pixels(a.png) - png_pixels(b.png)).max(axis=-1)
        assert (diff > 0).sum() < 200


def test_renderer_needs_only_plain_data(png_pixels):
    # A result written by hand, as a re-plot from an export would be: no torch involved.
    lr = [0.1 * 0.5 ** (i // 2) for i in range(8)]
    run = ScheduleRun(label="hand (gamma=0.5)", scheduler="hand", class_path="x.Hand",
                      parameters={}, lr=lr, momentum=[0.9 - 0.01 * i for i in range(8)],
                      momentum_name="momentum", lr_groups=[lr, [v / 10 for v in lr]],
                      plateau=PlateauTrace(at=list(range(8)), metric=[1.0] * 8,
                                           best=[1.0] * 8, bad_steps=[0, 1, 2, 0, 1, 2, 0, 1],
                                           cooldown=[0, 0, 0, 1, 0, 0, 1, 0],
                                           reductions=[3, 6], patience=1, cooldown_steps=1,
                                           source="step"),
                      error="stopped")
    result = ScheduleResult(lr=[0.1, 0.01], epochs=2, steps_per_epoch=4, interval="step",
                            optimizer="SGD", optimizer_name="sgd", seed=0, runs=[run],
                            warnings=["a warning"])
    for grid in (False, True):
        img = png_pixels(png_bytes(schedule_figure(result, grid_layout=grid)))
        assert colour_pixels(img, colours_for(["hand"])[0]) > 100
        assert colour_pixels(img, WARN_COLOUR, tol=20) > 20


@pytest.mark.parametrize(("epochs", "every"), [(4, 1), (16, 1), (17, 2), (100, 10), (300, 20)])
def test_epoch_grid_lines_stay_readable(epochs, every):
    assert epoch_step(epochs) == every


def test_long_runs_render_without_markers(png_pixels):
    img = png_pixels(render("cosine", "warm_restarts", epochs=50, steps_per_epoch=40).png)
    assert img.shape[1] == OVERLAY_WIDTH
    assert ink(img) > 0.02


# -- the expert review of the schedule gallery (issue 12), through the figure objects ----------


def _lr_lines(ax):
    """The LR lines of an axes: step-drawn lines longer than a marker."""
    return [ln for ln in ax.get_lines() if ln.get_drawstyle() == "steps-post"
            and len(ln.get_xdata()) > 2]


def _notes(fig) -> list[str]:
    from matplotlib.text import Text

    return [line for t in fig.findobj(Text) if "⚠" in t.get_text()
            for line in t.get_text().split("\n")]


def test_lr_steps_hold_to_the_end_of_the_run_with_a_marker_per_step():
    rendered = render("step:step_size=3", steps_per_epoch=4, epochs=2)
    (line,) = _lr_lines(rendered.figure.axes[0])
    lr = rendered.data["runs"][0]["lr"]
    xs, ys = np.asarray(line.get_xdata()), np.asarray(line.get_ydata())
    # Value i holds from step i to i + 1: the last one is drawn to the run's end (8).
    assert xs.tolist() == list(range(9))
    assert ys.tolist() == [*lr, lr[-1]]
    assert line.get_markevery() == list(range(8))  # a marker per step, none at the end
    assert not line.get_clip_on()  # an LR of 0 on the bottom spine keeps its whole marker


def test_momentum_markers_have_room_inside_their_panel():
    fig = render("cyclic:base_lr=1e-4,max_lr=1e-3,step_size_up=4",
                 optimizer="sgd:momentum=0.9").figure
    momentum = fig.axes[1]
    (line,) = _lr_lines(momentum)
    ys = np.asarray(line.get_ydata(), dtype=float)
    lo, hi = momentum.get_ylim()
    room = 0.1 * (ys.max() - ys.min())
    assert lo < ys.min() - room and hi > ys.max() + room  # 0.8 and 0.9 not cut in half


def test_log_axis_labels_every_decade_and_the_first_lr():
    fig = render("exponential:gamma=0.5", log_y=True).figure
    ax = fig.axes[0]
    fig.canvas.draw()
    lo, hi = ax.get_ylim()
    ticks = [t for t in ax.get_yticks() if lo <= t <= hi]
    exponents = sorted(round(np.log10(t)) for t in ticks)
    assert exponents == list(range(exponents[0], -2))  # ..., 1e-4, 1e-3: one per decade
    assert exponents[-1] == -3 and hi >= 3e-3  # the first LR on a labelled tick, with room
    assert lo <= 1e-3 * 0.5 ** 31 / 3  # the last LR too


def test_grid_panels_keep_their_names_colour_never_grey():
    from optviz.render.style import style_of

    fig = render("cyclic:mode=triangular", "cyclic:mode=triangular2",
                 "cyclic:mode=exp_range,gamma=0.95", grid=True,
                 optimizer="sgd:momentum=0.9").figure
    lr_axes = [ax for ax in fig.axes if ax.get_title()]
    colours = [_lr_lines(ax)[0].get_color() for ax in lr_axes]
    # triangular2 and exp_range draw what the registered names cyclic_triangular2 and
    # cyclic_exp_range draw, and take their colours; no shade of black washed out to grey.
    assert colours == [style_of(n).colour for n in
                       ("cyclic", "cyclic_triangular2", "cyclic_exp_range")]
    assert len(set(colours)) == 3
    for ax in lr_axes:
        assert "(dashed: momentum; right axis)" in ax.get_title()


def test_no_warmup_says_so_and_has_its_own_colour():
    from optviz.render.style import style_of

    fig = render("linear_warmup:num_warmup_steps=100", "linear_warmup:num_warmup_steps=0",
                 epochs=10, steps_per_epoch=100).figure
    warm, none = _lr_lines(fig.axes[0])
    assert warm.get_label().startswith("linear with warmup (num_warmup_steps=100")
    assert none.get_label().startswith("linear, no warmup (num_warmup_steps=0")
    # Not two shades of one magenta: the run without warmup has a colour of its own.
    assert warm.get_color() != none.get_color()
    assert warm.get_color() == style_of("linear_warmup").colour
    assert fig.get_suptitle().startswith("linear with warmup · linear, no warmup\n")


def test_nested_labels_wrap_between_items_only():
    rendered = render_figure(load_config(CONFIGS / "showcase/composed_schedules.yaml"))
    legend = rendered.figure.legends[0]
    sequential = next(t.get_text() for t in legend.get_texts()
                      if t.get_text().startswith("SequentialLR"))
    lines = sequential.split("\n")
    assert len(lines) == 2
    assert lines[0].endswith("total_iters=8),")  # after the first item, never inside one
    assert "CosineAnnealingLR (T_max=40, eta_min=1e-05)" in lines[1]


def test_plateau_footnote_names_the_metric_it_draws():
    rendered = render_figure(load_config(CONFIGS / "schedules/plateau.yaml"))
    fig = rendered.figure
    (note,) = _notes(fig)
    assert note.startswith("⚠ ReduceLROnPlateau steps on the training loss of a dummy linear "
                           "model")
    assert "no metric" not in note
    twin = fig.axes[-1]
    metric = [ln for ln in twin.get_lines() if ln.get_marker() == "."]
    assert metric and twin.get_ylabel() == "metric (linear model loss)"
    # Each value sits where its stretch of steps ends, where the LR it reduces begins.
    trace = rendered.result.runs[0].plateau
    assert np.asarray(metric[0].get_xdata()).tolist() == [a + 1 for a in trace.at]
    (lr,) = _lr_lines(fig.axes[0])
    ys = np.asarray(lr.get_ydata())
    for r in trace.reductions:
        assert ys[r] < ys[r - 1]  # the drop is at the reduction's x
        assert any(np.asarray(ln.get_xdata()).tolist() == [r, r] for ln in fig.axes[0].lines)


def test_panel_footnotes_name_the_panel_then_the_warning():
    spec = ScheduleSpec.model_validate({
        "schedulers": ["onecycle"], "layout": "panels", "cols": 2,
        "panels": [{"title": "plain SGD (momentum 0)"},
                   {"title": "Adam", "optimizer": "adam"}]})
    notes = _notes(render_figure(spec).figure)
    assert notes == ["⚠ plain SGD (momentum 0): OneCycleLR cycles momentum, but SGD was made "
                     "with momentum 0."]


def test_lambda_config_steps_per_epoch_as_its_formula_says():
    rendered = render_figure(load_config(CONFIGS / "schedules/lambda_multiplicative.yaml"))
    spec = rendered.computed.result
    assert spec.interval == "epoch" and spec.steps_per_epoch == 8
    for run in rendered.data["runs"]:
        lr = run["lr"]
        # 'epoch' in lr_lambda is the epoch of the top axis: the LR holds for 8 steps at a time
        assert all(lr[i] == lr[i - i % 8] for i in range(len(lr)))
    first = rendered.data["runs"][0]["lr"]
    assert first[8 * 5] == pytest.approx(1e-3 * 0.9 ** 5)


def test_summary_grid_names_the_metric_in_the_title_not_beside_the_next_panel():
    fig = render("plateau:factor=0.5,patience=3", "step", grid=True).figure
    titled = [ax for ax in fig.axes if ax.get_title()]
    plateau = titled[0]
    assert "(grey: metric, linear model loss; right axis)" in plateau.get_title()
    assert all(ax.get_ylabel() in ("", "learning rate", "learning rate (log axis)")
               for ax in fig.axes)


def test_a_lone_variant_is_solid_and_a_shared_colour_dashed():
    from optviz.render.style import style_of

    lone = render("cyclic:mode=triangular2").figure
    (line,) = _lr_lines(lone.axes[0])
    assert line.get_color() == style_of("cyclic_triangular2").colour
    assert line.get_linestyle() == "-"
    # step and polynomial_warmup share a blue: the second is told apart by its dash.
    both = render("step", "polynomial_warmup").figure
    first, second = _lr_lines(both.axes[0])
    assert first.get_color() == second.get_color()
    assert (first.get_linestyle(), second.get_linestyle()) == ("-", "--")


def test_a_repeated_name_is_shaded_and_dashed():
    fig = render("polynomial:power=1", "polynomial:power=2").figure
    first, second = _lr_lines(fig.axes[0])
    assert first.get_color() != second.get_color()
    assert (first.get_linestyle(), second.get_linestyle()) == ("-", "--")


def test_plateau_cooldown_shades_the_epochs_it_lasts():
    from matplotlib.colors import to_hex

    from optviz.render.schedule import COOLDOWN_COLOUR

    rendered = render("plateau:patience=1,cooldown=2", interval="epoch", epochs=20, lr=[0.05],
                      optimizer="sgd:momentum=0.9")
    trace = rendered.result.runs[0].plateau
    assert trace.reductions == [96, 144]  # after epochs 12 and 18, 8 steps each
    ax = rendered.figure.axes[0]
    spans = sorted((p.get_x(), p.get_x() + p.get_width()) for p in ax.patches
                   if to_hex(p.get_facecolor()) == COOLDOWN_COLOUR)
    # Two epochs (16 steps) of cooldown after each reduction, to the run's end at the last.
    assert spans == [(96, 104), (104, 112), (144, 152), (152, 160)]


# -- the second review of the schedule gallery (issue 12), through the figure objects ---------


def test_the_no_warmup_run_is_dashed_in_a_far_hue_as_its_config_says():
    from optviz.render.style import delta_e

    rendered = render_figure(load_config(CONFIGS / "schedules/transformers_linear_warmup.yaml"))
    warm, none = _lr_lines(rendered.figure.axes[0])
    assert none.get_label().startswith("linear, no warmup")
    assert (warm.get_linestyle(), none.get_linestyle()) == ("-", "--")
    # Another colour, not a neighbour of the warmup run's magenta (the purple was ΔE ~50).
    assert delta_e(warm.get_color(), none.get_color()) > 100
    comment = (CONFIGS / "schedules/transformers_linear_warmup.yaml").read_text()
    assert "dashed" in comment
    # The same colour in any company, and in a grid (solid there: the dash is momentum's).
    alone = render("linear_warmup:num_warmup_steps=0", "step").figure
    assert _lr_lines(alone.axes[0])[0].get_color() == none.get_color()
    grid = render("linear_warmup:num_warmup_steps=0", "cosine", grid=True).figure
    assert _lr_lines(grid.axes[0])[0].get_color() == none.get_color()


def test_footnotes_are_short_sentences_that_stand_alone():
    from optviz.render.schedule import footnote

    for config in ("schedules/plateau.yaml", "schedules/summary.yaml"):
        notes = _notes(render_figure(load_config(CONFIGS / config)).figure)
        assert notes == ["⚠ ReduceLROnPlateau steps on the training loss of a dummy linear "
                         "model."]
    # A gist too long for the line is cut at a word, never inside one.
    long = footnote("word " * 40 + ": detail", 60)
    assert len(long) <= 60 and long.endswith("word …")


def test_each_patience_run_out_is_its_own_span():
    from matplotlib.colors import to_hex

    from optviz.render.schedule import PATIENCE_COLOUR

    rendered = render_figure(load_config(CONFIGS / "schedules/plateau.yaml"))
    trace = rendered.result.runs[0].plateau
    assert trace.reductions == [144, 168]  # two run-outs that meet at step 144
    ax = rendered.figure.axes[0]
    spans = sorted((p.get_x(), p.get_x() + p.get_width(), p.get_linewidth()) for p in ax.patches
                   if to_hex(p.get_facecolor()[:3]) == PATIENCE_COLOUR)
    assert len(spans) == 2
    (_, a1, edge0), (b0, b1, edge1) = spans
    # Outlined, with a gap between them where they meet, each ending just before its reduction.
    assert edge0 > 0 and edge1 > 0
    assert b0 - a1 >= 1.0  # at least a step of gap: ~8 pixels at this width
    assert a1 < 144 < b0 and 144 - a1 < 1.5 and b1 < 168 and 168 - b1 < 1.5


def test_grid_panels_of_multiplicative_decays_get_a_log_axis():
    rendered = render("exponential:gamma=0.5", "cosine", "step:step_size=4,gamma=0.5",
                      "onecycle", grid=True, optimizer="sgd:momentum=0.9")
    axes = {ax.get_title().split(" (")[0]: ax for ax in rendered.figure.axes if ax.get_title()}
    exp = axes["ExponentialLR"]
    assert exp.get_yscale() == "log" and "log" in exp.get_ylabel()
    lr = rendered.data["runs"][0]["lr"]
    lo, hi = exp.get_ylim()
    assert lo < min(lr) and hi > max(lr)  # 1e-3 * 0.5**31 stays in view, not on zero
    assert axes["CosineAnnealingLR"].get_yscale() == "linear"  # one decade: linear
    assert "log" not in axes["CosineAnnealingLR"].get_ylabel()
    # StepLR halving 7 times in 32 steps spans 2.1 decades, but only its last 4 steps are
    # under 1% of the first LR: linear, as the article draws it; halving on for 80 steps, log.
    assert axes["StepLR"].get_yscale() == "linear"
    longer = render("step:step_size=4,gamma=0.5", "cosine", grid=True, epochs=10).figure
    assert longer.axes[0].get_yscale() == "log"
    # A ramp to zero spans decades only at its end: it keeps its linear shape.
    warmup = render("linear_warmup", "cosine_warmup", grid=True, epochs=10,
                    steps_per_epoch=100).figure
    assert [ax.get_yscale() for ax in warmup.axes if ax.get_title()] == ["linear", "linear"]
    # An overlay stays linear unless asked (log_y)
    assert render("exponential:gamma=0.5").figure.axes[0].get_yscale() == "linear"
