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


def _texts_off_canvas(fig) -> list[str]:
    """What is drawn past the canvas' edge: the tight box of everything drawn (titles, labels,
    tick labels that are drawn, legends, annotations) against the canvas; each text that
    sticks out is named."""
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    renderer = canvas.get_renderer()
    tight = fig.get_tightbbox(renderer)
    w, h = fig.get_size_inches()
    if tight.x0 >= -0.01 and tight.y0 >= -0.01 and tight.x1 <= w + 0.01 and tight.y1 <= h + 0.01:
        return []
    bad = []
    for text in fig.findobj(Text):
        if not text.get_visible() or not text.get_text().strip():
            continue
        box = text.get_window_extent(renderer)
        if box.x0 < -1 or box.y0 < -1 or box.x1 > fig.bbox.width + 1 \
                or box.y1 > fig.bbox.height + 1:
            bad.append(f"{text.get_text()!r} at {box.bounds}")
    return bad or [f"something drawn at {tight.bounds}, canvas {w} x {h} in"]


# The gallery's heavy configs (lr auto on 19 optimizers, 256² basin grids) run in test_gallery.
HEAVY = {"all_rastrigin.yaml", "all_beale.yaml", "basin_adam_rosenbrock.yaml",
         "basin_sgd_himmelblau_steps.yaml", "basin_sgd_himmelblau_minimum.yaml"}


@pytest.mark.parametrize("path", [p for p in CONFIGS if p.name not in HEAVY],
                         ids=lambda p: p.name)
def test_no_text_leaves_the_canvas_in_the_gallery(path):
    fig = render_figure(load_config(path)).figure
    assert _texts_off_canvas(fig) == []


def test_a_long_formula_title_wraps_inside_the_canvas():
    fig = _figure(optimizers=["adam:lr=0.001"], function="goldstein_price", steps=20)
    assert "\n" in fig.axes[0].get_title()
    assert _texts_off_canvas(fig) == []


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
def test_readme_example_draws_without_a_warning_and_inside_the_canvas(command):
    rendered = render_figure(_shrunk(_spec_of(command)))
    assert rendered.computed.warnings == [], command
    assert _texts_off_canvas(rendered.figure) == [], command


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
