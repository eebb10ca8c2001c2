"""Schedule pictures, checked by their pixels: size, not blank, each curve's colour present,
warnings drawn when there are some, and the same bytes every time."""

from __future__ import annotations

import numpy as np
import pytest

from optviz.figures.formats import figure_bytes as png_bytes
from optviz.figures.write import render_figure
from optviz.registry import SCHEDULERS
from optviz.render.schedule import WARN_COLOUR, epoch_step, schedule_figure
from optviz.render.style import colours_for
from optviz.results import PlateauTrace, ScheduleResult, ScheduleRun
from optviz.spec.figures import ScheduleSpec

DPI = 150  # figures.formats.DEFAULT_DPI
OVERLAY_WIDTH = 11 * DPI


def rgb(hex_colour: str) -> np.ndarray:
    return np.array([int(hex_colour[i:i + 2], 16) for i in (1, 3, 5)])


def colour_pixels(img: np.ndarray, hex_colour: str, tol: int = 12) -> int:
    return int((np.abs(img - rgb(hex_colour)).max(axis=-1) <= tol).sum())


def ink(img: np.ndarray) -> float:
    """Share of pixels that are not (near) white."""
    return float((img.min(axis=-1) < 235).mean())


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
