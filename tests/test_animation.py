"""Motion and depth: GIF and MP4 frames, the 3-D view and the optimizer's inner vectors, checked
against numbers: exported points through the axes transform, torch stepped by hand, decoded
frames and durations, bytes twice."""

from __future__ import annotations

import io

import numpy as np
import pytest
import torch
from PIL import Image
from typer.testing import CliRunner

from optviz.cli import app
from optviz.figures.animate import ANIMATION_DPI
from optviz.figures.kinds import kind_of
from optviz.figures.write import default_name, render_figure
from optviz.registry import FUNCTIONS
from optviz.render.animate import MAX_FRAMES, Animator, frame_steps
from optviz.spec.figures import TrajectorySpec

runner = CliRunner()


def spec_of(**kw) -> TrajectorySpec:
    data = {"optimizers": ["adam"], "function": "valley", "steps": 20, "lr": 0.01} | kw
    return TrajectorySpec(**data)


def animator_of(spec: TrajectorySpec, dpi: int = 60, **kw):
    rendered = render_figure(spec)
    still = spec.model_copy(update={"vectors_at": None, "vectors": False})
    fig = kind_of(spec).draw(rendered.computed, still)
    results = [drawn for _, drawn, _, _ in rendered.computed.draw_inputs["panels"]]
    return rendered, Animator(fig, results, dpi, **kw)


def gif_frames(data: bytes) -> tuple[list[np.ndarray], list[int]]:
    im = Image.open(io.BytesIO(data))
    frames, durations = [], []
    for i in range(im.n_frames):
        im.seek(i)
        frames.append(np.asarray(im.convert("RGB"), dtype=np.int16))  # differences fit
        durations.append(im.info["duration"])
    return frames, durations


# -- which steps the frames show ----------------------------------------------------------------


def test_frame_steps_every_step_up_to_the_cap():
    assert frame_steps(100) == list(range(101))
    assert frame_steps(MAX_FRAMES - 1) == list(range(MAX_FRAMES))


def test_frame_steps_long_runs_dense_at_the_start_then_even():
    steps = frame_steps(1000)
    assert len(steps) == MAX_FRAMES
    assert steps[:75] == list(range(75))  # the first half of the frames: one step each
    assert steps[-1] == 1000
    gaps = np.diff(steps[75:])
    assert gaps.min() >= 12 and gaps.max() <= 14  # (1000 − 75) / 74 ≈ 12.5
    assert (np.diff(steps) > 0).all()


def test_frame_steps_given_count_and_never_more_than_one_per_step():
    assert len(frame_steps(100, 40)) == 40
    assert frame_steps(100, 40)[-1] == 100
    assert frame_steps(10, 500) == list(range(11))


# -- GIF: frames, durations, determinism, size --------------------------------------------------


def test_gif_frame_count_and_durations_match_the_options():
    spec = spec_of(steps=12, fps=10)
    data = render_figure(spec).image_bytes(".gif", dpi=40)
    frames, durations = gif_frames(data)
    assert len(frames) == 13
    assert durations[:-1] == [100] * 12
    assert durations[-1] == 100 + 1000  # the pause on the last frame
    spec = spec_of(steps=30, fps=25, frames=8)
    frames, durations = gif_frames(render_figure(spec).image_bytes(".gif", dpi=40))
    assert len(frames) == 8
    assert durations[0] == 40


def test_gif_carries_the_resolved_config():
    rendered = render_figure(spec_of(steps=5))
    im = Image.open(io.BytesIO(rendered.image_bytes(".gif", dpi=30)))
    assert im.info["comment"].decode() == rendered.config_text()
    assert "function: valley" in rendered.config_text()


def test_same_config_same_gif_bytes():
    spec = spec_of(optimizers=["sgd", "adam"], steps=15)
    one = render_figure(spec).image_bytes(".gif", dpi=40)
    two = render_figure(spec).image_bytes(".gif", dpi=40)
    assert one == two
    assert one[:6] == b"GIF89a"


def test_decoded_gif_frames_equal_the_rendered_frames():
    """The transparent 'unchanged' pixels decode to the frames as drawn (up to the palette)."""
    spec = spec_of(optimizers=["sgd", "momentum"], steps=10)
    rendered, animator = animator_of(spec, dpi=ANIMATION_DPI)
    drawn = [animator.frame(k).astype(int) for k in range(11)]
    frames, _ = gif_frames(rendered.image_bytes(".gif"))
    assert len(frames) == 11
    for k in (0, 4, 10):
        err = np.abs(frames[k] - drawn[k]).max(axis=2)
        assert np.percentile(err, 99) <= 24, k  # palette rounding only
        # and each frame differs from its neighbour where the paths moved
    assert np.abs(frames[10] - frames[4]).max() > 100


def test_hundred_steps_three_optimizers_gif_under_3_mb():
    spec = TrajectorySpec(optimizers=["sgd", "momentum", "adam"], function="valley", steps=100)
    data = render_figure(spec).image_bytes(".gif")
    frames, _ = gif_frames(data)
    assert len(frames) == 101
    assert frames[0].shape == (417, 936, 3)
    assert len(data) < 3_000_000


def test_animate_true_writes_a_gif_by_default():
    assert default_name(spec_of(animate=True)).suffix == ".gif"
    assert default_name(spec_of()).suffix == ".png"


# -- where the head marker is, what the last frame holds ----------------------------------------


def _head_centre(animator: Animator, path, step: int) -> np.ndarray:
    """The centre of the pixels that the head marker paints at ``step``."""
    with_head = animator.frame(step).astype(int)
    path.head.set_alpha(0.0)
    without = animator.frame(step).astype(int)
    path.head.set_alpha(None)
    rows, cols = np.nonzero(np.abs(with_head - without).sum(axis=2) > 30)
    assert rows.size > 20
    return np.array([cols.mean(), rows.mean()])


@pytest.mark.parametrize("step", [0, 7, 20])
def test_head_marker_sits_on_the_exported_point(step):
    spec = spec_of(steps=20)
    rendered, animator = animator_of(spec, dpi=80)
    (path,) = animator.paths
    point = rendered.data["runs"][0]["points"][step]
    ax = path.head.axes
    height = animator.frame(step).shape[0]
    x, y = ax.transData.transform(point)
    centre = _head_centre(animator, path, step)
    assert centre == pytest.approx([x, height - y], abs=1.5)
    # the path drawn so far is exactly the points up to this step
    line = path.lines[0]
    assert np.asarray(line.get_xdata()).tolist() == [p[0] for p in
                                                    rendered.data["runs"][0]["points"][:step + 1]]


def test_last_frame_has_the_still_pictures_paths():
    spec = spec_of(optimizers=["sgd", "momentum", "rmsprop"], steps=25, lr=0.002)
    rendered, animator = animator_of(spec)
    animator.frame(25)
    still = kind_of(spec).draw(rendered.computed, spec)
    still_lines = {(line.get_label()): np.asarray(line.get_xydata())
                   for line in still.axes[0].get_lines() if len(line.get_xdata()) == 26}
    assert len(animator.paths) == 3
    for path in animator.paths:
        (line,) = path.lines
        assert np.array_equal(np.asarray(line.get_xydata()), still_lines[line.get_label()],
                              equal_nan=True)
        assert all(end.get_visible() for end in path.ends) and path.ends
    # the loss panel's curves are whole again, with the cursor on the last step
    for _, line, xs, _ in animator.series:
        assert np.array_equal(np.asarray(line.get_xdata()), xs)
    assert all(c.get_xdata()[0] == 25 for _, c, _ in animator.cursors)
    assert animator.label.get_text() == "step 25 / 25"


def test_frames_grow_the_paths_and_cut_the_loss_curve():
    spec = spec_of(optimizers=["sgd"], steps=20, lr=0.001)
    _, animator = animator_of(spec)
    animator.frame(5)
    (path,) = animator.paths
    assert len(path.lines[0].get_xdata()) == 6
    assert not any(end.get_visible() for end in path.ends)  # the end marker waits for the end
    loss_lines = [line for _, line, _, _ in animator.series if len(line.get_xdata()) > 1]
    assert loss_lines and all(max(line.get_xdata()) <= 5 for line in loss_lines)
    assert animator.cursors[0][1].get_xdata()[0] == 5


def test_a_diverged_run_stops_where_it_diverged_with_its_label():
    spec = spec_of(optimizers=["sgd", "adam"], lr=0.05, steps=30)
    rendered, animator = animator_of(spec)
    sgd = rendered.result.runs[0]
    assert sgd.diverged is not None and sgd.diverged < 30
    animator.frame(30)
    path = next(p for p in animator.paths if p.run.optimizer == "sgd")
    xs = np.asarray(path.lines[0].get_xdata(), dtype=float)
    assert np.isfinite(xs).sum() == sgd.diverged  # the points before it left the view
    assert path.head.get_marker() == "X"
    assert path.head.get_xdata()[0] == xs[sgd.diverged - 1]
    assert f"diverged at step {sgd.diverged}" in path.lines[0].get_label()


def test_panels_animate_every_panel():
    spec = TrajectorySpec(function="valley", steps=10, lr=0.01,
                          panels=[{"optimizers": ["sgd"]}, {"optimizers": ["adam"]}])
    _, animator = animator_of(spec)
    assert len(animator.paths) == 2
    assert len({p.head.axes for p in animator.paths}) == 2
    animator.frame(4)
    assert all(len(p.lines[0].get_xdata()) == 5 for p in animator.paths)


def test_linear_model_animates():
    spec = TrajectorySpec(optimizers=["sgd"], model="linear", in_features=1, epochs=3,
                          samples=64, lr=0.1)
    rendered, animator = animator_of(spec)
    steps = rendered.result.runs[0].steps
    assert animator.steps == steps == 3 * 2
    animator.frame(3)
    assert len(animator.paths[0].lines[0].get_xdata()) == 4


# -- MP4 ----------------------------------------------------------------------------------------


def test_mp4_decodes_with_the_frames_and_the_pause():
    import imageio_ffmpeg

    spec = spec_of(steps=9, fps=10)
    data = render_figure(spec).image_bytes(".mp4", dpi=40)
    assert data[4:8] == b"ftyp"
    path = io.BytesIO(data)
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as tmp:
        file = Path(tmp) / "a.mp4"
        file.write_bytes(path.getvalue())
        reader = imageio_ffmpeg.read_frames(str(file))
        meta = next(reader)
        frames = list(reader)
    assert meta["fps"] == 10
    assert len(frames) == 10 + 10  # ten steps' frames, then a second's pause
    assert meta["size"][0] % 16 == 0 and meta["size"][1] % 16 == 0
    assert data == render_figure(spec).image_bytes(".mp4", dpi=40)  # bit-exact


# -- 3-D ----------------------------------------------------------------------------------------


def _lines3d(fig):
    ax = next(a for a in fig.axes if hasattr(a, "get_zlim"))
    return ax, {line.get_label(): line.get_data_3d() for line in ax.get_lines()}


def test_3d_paths_are_the_exported_points_lifted_by_their_loss():
    spec = spec_of(optimizers=["sgd", "adam"], function="quadratic", lr=0.05, view="3d")
    rendered = render_figure(spec)
    ax, lines = _lines3d(rendered.figure)
    for run in rendered.data["runs"]:
        xs, ys, zs = lines[run["label"]]
        pts = np.array(run["points"])
        assert np.allclose(xs, pts[:, 0]) and np.allclose(ys, pts[:, 1])
        assert np.allclose(zs, run["loss"])  # quadratic: heights are f itself
    assert ax.get_zlabel() == "f(x, y)"


def test_3d_log_heights_for_steep_functions_said_on_the_axis():
    spec = spec_of(optimizers=["adam"], function="rosenbrock", lr=0.01, view="3d")
    rendered = render_figure(spec)
    ax, lines = _lines3d(rendered.figure)
    run = rendered.data["runs"][0]
    _, _, zs = lines[run["label"]]
    assert np.allclose(zs, np.log10(np.array(run["loss"]) - 0.0))
    assert ax.get_zlabel() == "log₁₀ f"


def test_3d_panels_and_animation():
    spec = TrajectorySpec(function="beale", steps=8, lr=0.01, view="3d",
                          panels=[{"optimizers": ["sgd"]}, {"optimizers": ["adam"]}])
    rendered = render_figure(spec)
    assert sum(hasattr(a, "get_zlim") for a in rendered.figure.axes) == 2
    _, animator = animator_of(spec)
    assert len(animator.paths) == 2 and all(p.zs is not None for p in animator.paths)
    animator.frame(3)
    for path in animator.paths:
        xs, _, zs = path.lines[0].get_data_3d()
        assert len(xs) == 4 and np.allclose(zs, path.zs[:4])


def test_rotating_3d_animation_turns_the_camera():
    spec = spec_of(function="quadratic", steps=6, view="3d", rotate=True)
    frames, _ = gif_frames(render_figure(spec).image_bytes(".gif", dpi=30))
    assert len(frames) == 7
    still = spec.model_copy(update={"rotate": False})
    fixed, _ = gif_frames(render_figure(still).image_bytes(".gif", dpi=30))
    assert np.abs(frames[0] - fixed[0]).mean() < 1.0  # the same start
    assert np.abs(frames[-1] - fixed[-1]).mean() > 3  # then the camera has moved


def _full_draw(animator: Animator, step: int, turn: float) -> np.ndarray:
    """The frame as a plain draw of the whole figure would give it (no background)."""
    animator._set(step)
    for ax, azim in animator._turn:
        ax.view_init(elev=ax.elev, azim=azim + turn)
    for artist in [*animator.fig.get_children(), *animator.moving]:
        artist.set_animated(False)
    animator.canvas.draw()
    return np.asarray(animator.canvas.buffer_rgba())[..., :3].copy()


def test_a_turning_frame_redraws_its_3d_axes_over_a_background_as_a_full_draw_would():
    """Each turning frame draws the 3-D axes (and what lies over them) on a background of
    the rest drawn once: inside the 3-D axes every pixel is the full draw's; elsewhere only
    the loss panel's dotted cursor, drawn over its grid lines, may differ."""
    spec = spec_of(function="rosenbrock", optimizers=["sgd", "adam"], steps=12, lr=0.002,
                   view="3d", rotate=True)
    _, blitted = animator_of(spec, rotate=True)
    _, full = animator_of(spec, rotate=True)
    full.frame(0, 0.0)  # the same layout, solved by the first frame
    (ax3d, _), = blitted._turn
    for step, turn in ((0, 0.0), (6, 40.0), (12, 90.0)):
        a, b = blitted.frame(step, turn), _full_draw(full, step, turn)
        assert a.shape == b.shape
        box = ax3d.get_window_extent()
        h = a.shape[0]
        rows = slice(int(h - box.y1) + 1, int(h - box.y0) - 1)
        cols = slice(int(box.x0) + 1, int(box.x1) - 1)
        np.testing.assert_array_equal(a[rows, cols], b[rows, cols])
        assert np.any(a != b, axis=-1).mean() < 0.002, (step, turn)
    assert np.abs(blitted.frame(12, 90.0).astype(int)
                  - blitted.frame(12, 0.0).astype(int)).mean() > 3  # the camera moved


def test_3d_needs_two_coordinates():
    res = runner.invoke(app, ["trajectory", "sgd", "-f", "parabola", "--view", "3d"])
    assert res.exit_code == 2
    assert "--view 3d draws a surface" in res.stderr and res.stderr.count("\n") == 1


# -- the optimizer's inner vectors --------------------------------------------------------------


def torch_vectors(cls, steps, **kwargs):
    """Step torch by hand on the valley: per step the gradient, update and state."""
    fn = FUNCTIONS.resolve("valley").load()
    x = torch.tensor([-0.16, -0.09], requires_grad=True)
    opt = cls([x], **kwargs)
    out = []
    for _ in range(steps):
        opt.zero_grad()
        fn(x).backward()
        grad = x.grad.clone()
        before = x.detach().clone()
        opt.step()
        out.append((grad, x.detach() - before, {k: v.clone() for k, v in opt.state[x].items()}))
    return out


def test_vectors_equal_torch_stepped_by_hand():
    spec = spec_of(optimizers=["momentum:lr=0.002", "adam:lr=0.01", "sgd:lr=0.001"],
                   steps=6, vectors=True)
    runs = render_figure(spec).data["runs"]
    momentum = torch_vectors(torch.optim.SGD, 6, lr=0.002, momentum=0.9)
    adam = torch_vectors(torch.optim.Adam, 6, lr=0.01)
    for i in range(6):
        g, u, state = momentum[i]
        v = runs[0]["vectors"]
        assert v["gradient"][i] == pytest.approx(g.tolist(), rel=1e-6)
        assert v["update"][i] == pytest.approx(u.tolist(), rel=1e-5, abs=1e-9)
        assert v["momentum"][i] == pytest.approx(state["momentum_buffer"].tolist(), rel=1e-6)
        g, u, state = adam[i]
        v = runs[1]["vectors"]
        assert v["gradient"][i] == pytest.approx(g.tolist(), rel=1e-6)
        assert v["momentum"][i] == pytest.approx(state["exp_avg"].tolist(), rel=1e-6)
        assert v["second_moment"][i] == pytest.approx(state["exp_avg_sq"].tolist(), rel=1e-6)
        scale = 1 / (state["exp_avg_sq"].double().sqrt() + 1e-8)
        assert v["scaling"][i] == pytest.approx(scale.tolist(), rel=1e-5)
    assert runs[0]["vector_keys"] == {"momentum": "momentum_buffer"}
    assert runs[1]["vector_keys"] == {"momentum": "exp_avg", "second_moment": "exp_avg_sq"}
    assert set(runs[2]["vectors"]) == {"gradient", "update"}  # plain SGD keeps no state


def test_vectors_at_draws_arrows_equal_to_the_recorded_vectors():
    from matplotlib.quiver import Quiver

    from optviz.render.vectors import ARROWS

    spec = spec_of(optimizers=["momentum:lr=0.002", "adam:lr=0.01"], steps=8,
                   vectors_at=[0, 5])
    rendered = render_figure(spec)
    runs = rendered.data["runs"]
    colours = {kind: colour for kind, _, colour, _ in ARROWS}
    quivers = [c for c in rendered.figure.axes[0].collections if isinstance(c, Quiver)]
    assert len(quivers) == 2 * (3 + 3)  # 2 steps x (gradient, momentum, update) per run
    drawn = []
    for q in quivers:
        kind = next(k for k, c in colours.items()
                    if np.allclose(q.get_facecolor()[0][:3], _rgb(c)))
        drawn.append((kind, *np.round([*q.XY[0], q.U[0], q.V[0]], 12)))
    expected = []
    for run in runs:
        for i in (0, 5):
            for kind in ("gradient", "momentum", "update"):
                sign = -1 if kind in ("gradient", "momentum") else 1
                u, v = (sign * c for c in run["vectors"][kind][i])
                expected.append((kind, *np.round([*run["points"][i], u, v], 12)))
    assert sorted(drawn) == sorted(expected)
    # Adam's scaling box: sides in the ratio of its per-coordinate scaling
    from matplotlib.patches import Rectangle

    boxes = [p for p in rendered.figure.axes[0].patches
             if isinstance(p, Rectangle) and p.get_visible() and p.get_linestyle() == "--"]
    assert len(boxes) == 2
    s = np.array(runs[1]["vectors"]["scaling"][5])
    ratio = s[0] / s[1]
    assert any(b.get_width() / b.get_height() == pytest.approx(ratio, rel=1e-9) for b in boxes)


def _rgb(colour: str) -> tuple[float, float, float]:
    from matplotlib.colors import to_rgb

    return to_rgb(colour)


def test_vectors_follow_the_head_in_animations():
    spec = spec_of(optimizers=["momentum:lr=0.002"], steps=10, vectors=True)
    rendered, animator = animator_of(spec, vectors=True)
    (path,) = animator.paths
    run = rendered.data["runs"][0]
    for k in (0, 6):
        animator.frame(k)
        gradient = next(q for kind, _, _, q in path.vectors.arrows if kind == "gradient")
        assert np.allclose(gradient.XY[0], run["points"][k])
        assert [gradient.U[0], gradient.V[0]] == pytest.approx(
            [-c for c in run["vectors"]["gradient"][k]])
    # the last point, from which no step is taken: the last step's vectors, drawn from where
    # it was taken (so the last frame, the one left showing, has its arrows), and said so
    animator.frame(10)
    gradient = next(q for kind, _, _, q in path.vectors.arrows if kind == "gradient")
    assert all(a.get_visible() for a in path.vectors.artists)
    assert np.allclose(gradient.XY[0], run["points"][9])
    assert [gradient.U[0], gradient.V[0]] == pytest.approx(
        [-c for c in run["vectors"]["gradient"][9]])
    assert "vectors: last step's" in animator.label.get_text()
    animator.frame(9)
    assert "last step" not in animator.label.get_text()


def test_last_frame_of_the_vectors_gif_shows_the_arrows():
    # the GIF's last frame (held for a second) had no arrows and no scaling box
    from matplotlib.colors import to_rgb

    from optviz.render.vectors import ARROWS, BOX_COLOUR

    spec = spec_of(optimizers=["momentum:lr=0.002", "adam:lr=0.01"], steps=12, vectors=True)
    rendered, animator = animator_of(spec, dpi=ANIMATION_DPI, vectors=True)
    frames, _ = gif_frames(rendered.image_bytes(".gif"))
    assert len(frames) == 13
    animator.frame(12)
    ax = animator.paths[0].head.axes
    height = frames[-1].shape[0]
    yy, xx = np.mgrid[0:height, 0:frames[-1].shape[1]]
    legend = ax._optviz_vector_legend.get_window_extent()
    outside = ~((xx >= legend.x0 - 2) & (xx <= legend.x1 + 2) &
                (height - yy >= legend.y0 - 2) & (height - yy <= legend.y1 + 2))
    for path in animator.paths:
        x, y = ax.transData.transform([path.xs[11], path.ys[11]])  # where the last step began
        near = outside & ((xx - x) ** 2 + (yy - (height - y)) ** 2 <= 80 ** 2)
        kinds = [c for k, _, c, _ in ARROWS if k in path.run.vectors]
        if "scaling" in path.run.vectors:
            kinds.append(BOX_COLOUR)
        for colour in kinds:
            rgb = np.round(np.array(to_rgb(colour)) * 255).astype(int)
            seen = (np.all(np.abs(frames[-1] - rgb) <= 2, axis=2) & near).sum()
            assert seen >= 5, (path.run.label, colour, seen)


def test_vectors_refused_on_the_linear_model_and_out_of_range():
    res = runner.invoke(app, ["trajectory", "sgd", "--vectors-at", "50", "-n", "10"])
    assert res.exit_code == 2 and "--vectors-at 50" in res.stderr
    res = runner.invoke(app, ["trajectory", "sgd", "--model", "linear", "--vectors"])
    assert res.exit_code == 2 and "test functions only" in res.stderr


def test_animation_of_another_kind_is_one_line():
    res = runner.invoke(app, ["schedule", "StepLR:step_size=5", "-o", "x.gif"])
    assert res.exit_code == 2
    assert "stills" in res.stderr and res.stderr.count("\n") == 1


def test_lookahead_slow_weights_grow_with_the_frames():
    spec = spec_of(optimizers=["sgd"], lr=0.001, steps=12, lookahead={"k": 5, "alpha": 0.5})
    rendered, animator = animator_of(spec)
    (path,) = animator.paths
    ((line, _, _),) = path.slow
    animator.frame(7)
    slow = rendered.data["runs"][0]["slow_points"]
    assert np.asarray(line.get_xdata()).tolist() == [slow[0][0], slow[5][0]]  # moved at 5
    animator.frame(12)
    assert np.asarray(line.get_xdata()).tolist() == [slow[0][0], slow[5][0], slow[10][0]]


# -- the linear model's data and fit ------------------------------------------------------------


def _fit_of(animator):
    (fit,) = animator.fits
    return fit


def test_linear_fit_line_at_frame_k_is_the_exported_weights_at_step_k():
    from optviz.problems.linear import make_data

    spec = TrajectorySpec(optimizers=["sgd:lr=0.1", "adam:lr=0.05"], model="linear",
                          in_features=1, epochs=4, samples=48, batch_size=8, seed=7,
                          noise=0.3)
    rendered, animator = animator_of(spec)
    fit = _fit_of(animator)
    runs = rendered.data["runs"]
    # the scatter is the data trained on, as exported and as regenerated from the seed
    data = rendered.data["problem"]["data"]
    again = make_data(48, 1, 1, True, 0.3, 7)
    assert np.array(data["x"]) == pytest.approx(again.x.double().numpy(), abs=0)
    assert np.array(data["y"]) == pytest.approx(again.y.double().numpy(), abs=0)
    (scatter,) = fit.ax.collections
    assert np.array_equal(scatter.get_offsets(), np.column_stack([np.ravel(data["x"]),
                                                                  np.ravel(data["y"])]))
    for k in (0, 1, 9, len(runs[0]["points"]) - 1):
        animator.frame(k)
        for line, run in zip(fit.fits, runs, strict=True):
            (x0, x1), (y0, y1) = np.asarray(line.get_xdata()), np.asarray(line.get_ydata())
            slope = (y1 - y0) / (x1 - x0)
            intercept = y0 - slope * x0
            weight, bias = run["points"][k]  # two parameters: the points are the weights
            assert slope == pytest.approx(weight, rel=1e-9, abs=1e-12)
            assert intercept == pytest.approx(bias, rel=1e-9, abs=1e-12)
    # the still shows every run at its last step
    still = kind_of(spec).draw(rendered.computed, spec)
    still_fit = next(ax._optviz_fit for ax in still.axes
                     if hasattr(ax, "_optviz_fit"))
    for line, run in zip(still_fit.fits, runs, strict=True):
        (x0, x1), (y0, y1) = np.asarray(line.get_xdata()), np.asarray(line.get_ydata())
        assert (y1 - y0) / (x1 - x0) == pytest.approx(run["points"][-1][0], rel=1e-9)


def test_linear_fit_with_many_features_shows_fitted_values_against_targets():
    spec = TrajectorySpec(optimizers=["sgd:lr=0.05"], model="linear", in_features=3,
                          epochs=2, samples=32, batch_size=8)
    rendered, animator = animator_of(spec)
    fit = _fit_of(animator)
    data = rendered.data["problem"]["data"]
    x, y = np.array(data["x"]), np.array(data["y"])
    run = rendered.data["runs"][0]
    for k in (0, 5):
        animator.frame(k)
        theta = np.array(run["weights"][k])  # drawn on the PCA plane: the weights beside it
        expected = x @ theta[:3] + theta[3]
        (line,) = fit.fits
        assert np.asarray(line.get_xdata()) == pytest.approx(y.ravel(), abs=0)
        assert np.asarray(line.get_ydata()) == pytest.approx(expected, rel=1e-9, abs=1e-12)


def test_linear_fit_diverged_run_keeps_its_last_finite_line():
    spec = TrajectorySpec(optimizers=["sgd:lr=40"], model="linear", in_features=1,
                          epochs=3, samples=64, batch_size=8)
    rendered, animator = animator_of(spec)
    run = rendered.result.runs[0]
    assert run.diverged is not None
    animator.frame(run.steps)
    (line,) = _fit_of(animator).fits
    (x0, x1), (y0, y1) = np.asarray(line.get_xdata()), np.asarray(line.get_ydata())
    assert (y1 - y0) / (x1 - x0) == pytest.approx(run.points[run.diverged - 1][0], rel=1e-9)


# -- stacking: slow runs and the minimum stay visible -------------------------------------------


def _minimum_lines(ax):
    return [line for line in ax.get_lines() if line.get_marker() == "*"]


def test_heads_above_paths_slowest_on_top_minimum_above_all():
    spec = TrajectorySpec(function="valley", steps=40,
                          optimizers=["sgd", "momentum", "adagrad", "adam"])
    _, animator = animator_of(spec)
    order = animator.moving
    position = {id(a): i for i, a in enumerate(order)}
    paths = animator.paths
    ax = paths[0].head.axes
    lengths = []
    for p in paths:
        pts = np.column_stack([p.xs, p.ys])
        lengths.append(np.abs(np.diff(pts, axis=0) / [np.ptp(ax.get_xlim()),
                                                      np.ptp(ax.get_ylim())]).sum())
    by_speed = [paths[i] for i in np.argsort(lengths)[::-1]]  # fastest first
    # drawn bottom to top: fastest path first; every head after every path and end marker
    line_at = [position[id(p.lines[0])] for p in by_speed]
    head_at = [position[id(p.head)] for p in by_speed]
    assert line_at == sorted(line_at) and head_at == sorted(head_at)
    assert min(head_at) > max(position[id(e)] for p in paths for e in p.ends)
    assert min(head_at) > max(line_at)
    # heads shrink upwards; lower paths are wider, so they show beside the ones above
    sizes = [p.head.get_markersize() for p in by_speed]
    # (each over the still's own width, which is wider for a run later runs cover)
    still = kind_of(spec).draw(render_figure(spec).computed, spec)
    still_width = {line.get_label(): line.get_linewidth() for line in still.axes[0].get_lines()}
    widths = [p.lines[0].get_linewidth() - still_width[p.lines[0].get_label()]
              for p in by_speed]
    assert sizes == sorted(sizes, reverse=True) and sizes[0] > sizes[-1]
    assert widths == sorted(widths, reverse=True) and widths[0] > widths[-1]
    assert all(p.head.get_markeredgecolor() == "black" for p in paths)
    # the minimum's star is drawn again on top of the heads in every frame
    stars = _minimum_lines(ax)
    assert stars and all(position[id(s)] > max(head_at) for s in stars)


def test_minimum_star_outline_on_top_and_a_head_on_it_visible():
    # momentum swings over the minimum from step 10 on: its head and path pass the star. The
    # star is an outline (the stills' style): its strokes stay on top in every frame, and a
    # head on the minimum shows through its middle (a filled star hid it)
    spec = TrajectorySpec(function="valley", steps=40, optimizers=["momentum:lr=0.003"])
    rendered, animator = animator_of(spec, dpi=72)
    (path,) = animator.paths
    ax = path.head.axes
    stars = _minimum_lines(ax)
    assert stars and all(s.get_markerfacecolor() == "none" for s in stars)
    (star,) = {tuple(line.get_xydata()[0]) for line in stars}
    first = animator.frame(0).astype(int)
    for s in stars:
        s.set_alpha(0.0)
    bare = animator.frame(0).astype(int)
    for s in stars:
        s.set_alpha(None)
    outline = np.abs(first - bare).sum(axis=2) > 120  # where the star's strokes paint
    assert outline.sum() > 15
    height = first.shape[0]
    cx, cy = ax.transData.transform(star)
    points = np.array(rendered.data["runs"][0]["points"])
    over = [k for k in range(41) if np.hypot(*(ax.transData.transform(points[k])
                                                - [cx, cy])) < 3]
    assert over  # the head does sit on the star
    colour = path.lines[0].get_color()
    for k in range(41):  # (antialiased edges blend a little with what passes below)
        frame = animator.frame(k)
        change = np.abs(frame[outline].astype(int) - first[outline]).max()
        assert change <= 60, k
        if k in over:
            seen = _colour_pixels(frame, colour, (cx, height - cy), 5)
            assert seen >= 6, (k, seen)


def _colour_pixels(frame: np.ndarray, colour: str, centre, radius: float) -> int:
    """Pixels of ``colour`` (to 24 of 255) within ``radius`` of ``centre`` (x, y from the top)."""
    rgb = np.array(_rgb(colour)) * 255
    h, w = frame.shape[:2]
    x0, y0 = max(int(centre[0] - radius) - 1, 0), max(int(centre[1] - radius) - 1, 0)
    x1, y1 = min(int(centre[0] + radius) + 2, w), min(int(centre[1] + radius) + 2, h)
    yy, xx = np.mgrid[y0:y1, x0:x1]  # the disc's box: nothing outside it is near
    near = (xx - centre[0]) ** 2 + (yy - centre[1]) ** 2 <= radius ** 2
    close = np.abs(frame[y0:y1, x0:x1].astype(int) - rgb).max(axis=2) <= 24
    return int((near & close).sum())


def test_every_run_shows_at_its_head_in_every_frame():
    # SGD and momentum walk the same line y = 0.05 to the saddle: momentum's path and head
    # used to hide SGD's whole run
    spec = TrajectorySpec(function="plateau_saddle", steps=40,
                          optimizers=["sgd:lr=0.05", "momentum:lr=0.05", "adam:lr=0.05"])
    _, animator = animator_of(spec, dpi=72)
    for k in range(1, 41, 2):  # (at step 0 every head is on the start: rings, largest below)
        frame = animator.frame(k)
        height = frame.shape[0]
        for p in animator.paths:
            x, y = p.head.axes.transData.transform([p.xs[k], p.ys[k]])
            radius = p.head.get_markersize() / 72 * 72 / 2 + 1
            seen = _colour_pixels(frame, p.lines[0].get_color(), (x, height - y), radius)
            assert seen >= 4, (k, p.run.label, seen)


# -- the 3-D surface's mesh -----------------------------------------------------------------


def test_3d_mesh_averages_f_so_the_valley_floor_has_no_curtain():
    from optviz.engines.single import surface
    from optviz.render.surface3d import GRID, mesh

    grid = surface(FUNCTIONS.resolve("rosenbrock"), [[-2, 2], [-1, 3]])
    gx, gy, z = mesh(grid)
    assert z.shape == gx.shape == gy.shape and max(z.shape) <= GRID
    # each node is the mean of f over the samples within two mesh cells of it
    fine = np.asarray(grid.z)
    ex = -(-len(grid.xs) // GRID)
    i, j = 30, 17
    r = int(np.flatnonzero(np.asarray(grid.ys) == gy[i, 0])[0])
    c = int(np.flatnonzero(np.asarray(grid.xs) == gx[0, j])[0])
    block = fine[r - 2 * ex:r + 2 * ex + 1, c - 2 * ex:c + 2 * ex + 1]
    assert z[i, j] == pytest.approx(block.mean(), rel=1e-9)
    # the valley floor, row by row: smooth now; sampled at the nodes it jumped by a decade
    floor = np.log10(z).min(axis=1)
    assert np.abs(np.diff(floor)).max() < 0.4
    sampled = np.log10(np.maximum(fine[::ex, ::ex], 1e-8)).min(axis=1)
    assert np.abs(np.diff(sampled)).max() > 1.0


def test_3d_log_floor_is_the_drawn_surfaces_lowest_height():
    # SGD's exact loss (1e-3) lay three decades below the averaged surface: its path dropped
    # straight through the surface to a star on the floor of the box
    from matplotlib.colors import rgb_to_hsv
    from mpl_toolkits.mplot3d.art3d import Poly3DCollection

    from optviz.render.surface3d import Heights, mesh

    spec = TrajectorySpec(function="rosenbrock", steps=300, view="3d",
                          optimizers=["sgd:lr=0.002", "adam:lr=0.05"])
    rendered = render_figure(spec)
    _, drawn, grid, _ = rendered.computed.draw_inputs["panels"][0]
    heights = Heights(drawn, grid)
    lowest = float(np.nanmin(mesh(grid)[2]))
    assert heights.floor == pytest.approx(lowest, rel=1e-12)
    sgd_lowest = min(v for v in drawn.runs[0].loss if v is not None)
    assert sgd_lowest < lowest / 100  # the path's own loss goes far deeper
    ax, lines = _lines3d(rendered.figure)
    for run in rendered.data["runs"]:
        _, _, zs = lines[run["label"]]
        assert np.allclose(zs, np.log10(np.maximum(run["loss"], lowest)))
        assert min(zs) >= np.log10(lowest) - 1e-12
    # the minimum: the stills' outline star (no fill), on the surface's lowest height, on top
    stars = [line for line in ax.get_lines() if line.get_marker() == "*"]
    assert len(stars) == 2 and all(star.get_markerfacecolor() == "none" for star in stars)
    assert all(star.get_data_3d()[2][0] == pytest.approx(np.log10(lowest)) for star in stars)
    paths = [line for line in ax.get_lines() if len(line.get_xdata()) > 1]
    assert min(star.get_zorder() for star in stars) > max(p.get_zorder() for p in paths)
    # a grey surface: no hue to hide a blue path in
    (surf,) = [c for c in ax.collections if isinstance(c, Poly3DCollection)]
    assert rgb_to_hsv(surf.get_facecolor()[:, :3])[:, 1].max() < 0.02


def test_3d_z_label_stays_upright_while_the_camera_turns():
    spec = spec_of(function="rosenbrock", steps=4, view="3d", rotate=True)
    _, animator = animator_of(spec, rotate=True)
    ax = next(a for a in animator.fig.axes if hasattr(a, "get_zlim"))
    for turn in (0.0, 45.0, 90.0):
        animator.frame(4, turn)
        label = ax.zaxis.label
        assert label.get_rotation() == 90  # reads bottom to top, never mirrored
        assert label.get_text() == "log₁₀ f"


# -- vectors on the 3-D view ----------------------------------------------------------------------


def test_vectors_in_3d_are_torch_state_lifted_onto_the_surface():
    spec = spec_of(optimizers=["momentum:lr=0.002", "adam:lr=0.01"], steps=8, vectors=True,
                   view="3d")
    rendered, animator = animator_of(spec, vectors=True)
    runs = rendered.data["runs"]
    by_hand = {0: torch_vectors(torch.optim.SGD, 8, lr=0.002, momentum=0.9),
               1: torch_vectors(torch.optim.Adam, 8, lr=0.01)}
    assert [p.vectors is not None for p in animator.paths] == [True, True]
    for k in (0, 3, 7):
        animator.frame(k)
        for i, path in enumerate(animator.paths):
            art = path.vectors
            grad, update, state = by_hand[i][k]
            moment = state["momentum_buffer" if i == 0 else "exp_avg"]
            point = runs[i]["points"][k]
            for kind, sign, torch_value in (("gradient", -1, grad), ("update", 1, update),
                                            ("momentum", -1, moment)):
                shaft, *heads = art.segments[kind]
                # from the path's point, at its height on the surface (the valley's f itself)
                assert shaft[0] == pytest.approx([*point, runs[i]["loss"][k]], rel=1e-6)
                assert shaft[0][2] == pytest.approx(path.zs[k])
                # along the vector torch holds, scaled by the run's one factor, level
                drawn = (shaft[1] - shaft[0])[:2] / art.factors[kind]
                assert drawn == pytest.approx(sign * torch_value.double().numpy(), rel=1e-5,
                                              abs=1e-12)
                assert shaft[1][2] == shaft[0][2] and len(heads) == 2
                assert all(np.allclose(h[0], shaft[1]) for h in heads)
            if i == 1:  # Adam's scaling box, at the point's height, sides in its ratio
                xs, ys, zs = (np.asarray(v) for v in art.box.get_data_3d())
                s = 1 / (state["exp_avg_sq"].double().sqrt() + 1e-8)
                assert (np.ptp(xs) / np.ptp(ys)) == pytest.approx(float(s[0] / s[1]), rel=1e-5)
                assert np.all(zs == path.zs[k])
    animator.frame(8)  # no step is taken from the last point: the last step's, from point 7
    for i, path in enumerate(animator.paths):
        assert all(a.get_visible() for a in path.vectors.artists)
        shaft, *_ = path.vectors.segments["gradient"]
        assert shaft[0] == pytest.approx([*runs[i]["points"][7], path.zs[7]], rel=1e-6)


def test_vectors_at_on_a_3d_still():
    from mpl_toolkits.mplot3d.art3d import Line3DCollection

    spec = spec_of(optimizers=["momentum:lr=0.002"], steps=8, vectors_at=[2, 5], view="3d")
    fig = render_figure(spec).figure
    ax = next(a for a in fig.axes if hasattr(a, "get_zlim"))
    arrows = [c for c in ax.collections if isinstance(c, Line3DCollection) and c.get_visible()]
    assert len(arrows) == 2 * 3  # two steps x (gradient, momentum, update)


def test_lookahead_jumps_appear_when_the_frame_reaches_them():
    spec = spec_of(optimizers=["sgd"], lr=0.001, steps=12, lookahead={"k": 5, "alpha": 0.5})
    rendered, animator = animator_of(spec)
    (path,) = animator.paths
    points = np.array(rendered.data["runs"][0]["points"])
    assert path.gaps.tolist() == [5, 10]  # the slow weights moved, the fast ones were reset
    (line,) = path.lines
    for k, jumped in ((4, []), (7, [5]), (12, [5, 10])):
        animator.frame(k)
        xs = np.asarray(line.get_xdata(), dtype=float)
        # points 0..k, broken by a NaN before each reset point reached so far
        assert np.array_equal(xs, np.insert(points[:k + 1, 0], jumped, np.nan), equal_nan=True)
        assert [t for jump, t in path.jumps if jump.get_visible()] == jumped
        (resets,) = path.resets
        assert np.asarray(resets.get_xdata()).tolist() == points[jumped, 0].tolist()
    assert sorted(t for _, t in path.jumps) == [5, 10]


def test_gif_keeps_the_exact_colours_of_what_moves():
    # the arrows are a few pixels each: a median cut of the picture merged them into the
    # contour's colours (the red gradient arrow came out brown)
    from matplotlib.colors import to_rgb

    from optviz.render.vectors import ARROWS

    spec = spec_of(optimizers=["momentum:lr=0.002", "adam:lr=0.01"], steps=12, vectors=True)
    rendered, animator = animator_of(spec, dpi=ANIMATION_DPI, vectors=True)
    drawn = animator.frame(6)
    frames, _ = gif_frames(rendered.image_bytes(".gif"))
    for _, _, colour, _ in ARROWS:
        rgb = np.round(np.array(to_rgb(colour)) * 255).astype(int)
        exact = np.all(drawn == rgb, axis=2)
        assert exact.sum() >= 5, colour
        assert np.abs(frames[6][exact] - rgb).max() <= 2, colour  # Pillow's rounding
    for path in animator.paths:
        rgb = np.round(np.array(to_rgb(path.lines[0].get_color())) * 255).astype(int)
        exact = np.all(drawn == rgb, axis=2)
        assert exact.sum() >= 1 and np.abs(frames[6][exact] - rgb).max() <= 2


def test_linear_fit_panel_on_the_3d_view_moves_with_the_frames():
    spec = TrajectorySpec(optimizers=["sgd:lr=0.1"], model="linear", in_features=1, epochs=2,
                          samples=32, batch_size=8, view="3d")
    rendered, animator = animator_of(spec)
    (line,) = _fit_of(animator).fits
    for k in (0, 5):
        animator.frame(k)
        (x0, x1), (y0, y1) = np.asarray(line.get_xdata()), np.asarray(line.get_ydata())
        weight, bias = rendered.data["runs"][0]["points"][k]
        assert (y1 - y0) / (x1 - x0) == pytest.approx(weight, rel=1e-9)
        assert y0 - (y1 - y0) / (x1 - x0) * x0 == pytest.approx(bias, rel=1e-9, abs=1e-12)


# -- views: zoom in animations, equal scale --------------------------------------------------------


def test_zoom_animation_frames_show_the_view_fitted_to_the_paths():
    # Beale's ±4.5 domain: all the movement was in a small corner of the frames
    from optviz.figures.animate import _animator

    spec = TrajectorySpec(function="beale", steps=40, zoom=True,
                          optimizers=["sgd:lr=0.01", "adam:lr=0.05"])
    rendered = render_figure(spec)
    animator, _ = _animator(rendered, 40)
    ax = animator.paths[0].head.axes
    (x0, x1), (y0, y1) = ax.get_xlim(), ax.get_ylim()
    assert x1 - x0 < 0.5 * 9 and y1 - y0 < 0.5 * 9  # far narrower than the domain
    pts = np.concatenate([np.array(r["points"]) for r in rendered.data["runs"]])
    assert pts[:, 0].min() >= x0 and pts[:, 0].max() <= x1
    assert pts[:, 1].min() >= y0 and pts[:, 1].max() <= y1
    assert x0 <= 3.0 <= x1 and y0 <= 0.5 <= y1  # the minimum nearest the ends
    # no inset in the frames; the contour sampled over the fitted view
    assert len([a for a in animator.fig.axes if a.get_visible()]) == 2
    # the paths fill the frame: the still without zoom keeps the whole domain
    still = render_figure(spec.model_copy(update={"zoom": False})).figure
    assert np.ptp(still.axes[0].get_xlim()) >= 9


def test_linear_fit_weight_panel_at_equal_scale_in_the_frames():
    # px per unit of weight and of bias, through the axes transform, on the frames drawn
    spec = TrajectorySpec(optimizers=["sgd:lr=0.1", "momentum:lr=0.01", "adam:lr=0.02"],
                          model="linear", in_features=1, samples=128, noise=0.3, seed=7,
                          batch_size=16, epochs=10, animate=True)
    _, animator = animator_of(spec, dpi=ANIMATION_DPI)
    for k in (0, animator.steps):
        frame = animator.frame(k)
        ax = animator.paths[0].head.axes
        (px0, py0), (px1, py1) = ax.transData.transform([[0.0, 0.0], [1.0, 1.0]])
        assert px1 - px0 == pytest.approx(py1 - py0, rel=1e-3)
        # on the pixels: the contour panel's box spans its limits at that one scale
        bbox = ax.get_window_extent()
        (x0, x1), (y0, y1) = ax.get_xlim(), ax.get_ylim()
        assert bbox.width / (x1 - x0) == pytest.approx(bbox.height / (y1 - y0), rel=1e-3)
        assert frame.shape[1] == round(animator.fig.bbox.width) and bbox.width > 100


def test_short_vectors_keep_their_direction_at_the_shortest_length():
    # near the minimum momentum's vectors shrank to ~4 px, inside its 11 px head marker
    from optviz.render.vectors import MIN_SHARE

    spec = spec_of(optimizers=["momentum:lr=0.001"], steps=60, vectors=True)
    rendered, animator = animator_of(spec, dpi=ANIMATION_DPI, vectors=True)
    (path,) = animator.paths
    art = path.vectors
    rows = np.array(rendered.data["runs"][0]["vectors"]["gradient"])
    lengths = np.hypot(*rows.T) * art.factors["gradient"]
    (x0, x1), (y0, y1) = path.head.axes.get_xlim(), path.head.axes.get_ylim()
    shortest = MIN_SHARE * np.hypot(x1 - x0, y1 - y0)
    k = int(np.flatnonzero(lengths < shortest / 2)[-1])  # a late, short gradient
    animator.frame(k)
    q = next(q for kind, _, _, q in art.arrows if kind == "gradient")
    drawn = np.array([q.U[0], q.V[0]]) * art.factors["gradient"]
    assert np.hypot(*drawn) == pytest.approx(shortest, rel=1e-9)
    unit = -rows[k] / np.hypot(*rows[k])
    assert drawn / np.hypot(*drawn) == pytest.approx(unit, abs=1e-9)  # its own direction
    # longer than the head marker's radius, so it shows beyond it
    ax = path.head.axes
    px = ax.transData.transform([[0, 0], [shortest, 0]])
    assert px[1, 0] - px[0, 0] > path.head.get_markersize() / 2 + 3
    k0 = int(np.argmax(lengths))  # the largest keeps its length
    animator.frame(k0)
    assert [q.U[0], q.V[0]] == pytest.approx(list(-rows[k0]))


def test_a_frames_rgb_is_its_buffers_first_three_channels_in_its_own_memory():
    from optviz.render.animate import rgb_of

    rgba = np.random.default_rng(0).integers(0, 256, (7, 5, 4), dtype=np.uint8)
    rgb = rgb_of(rgba)
    np.testing.assert_array_equal(rgb, rgba[..., :3])
    assert rgb.dtype == np.uint8 and rgb.flags.c_contiguous and not np.shares_memory(rgb, rgba)
