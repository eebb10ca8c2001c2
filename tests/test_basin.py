"""Basin maps: starts in row-major order, every sampled start equal to a lone run, the steps
metric, the picture's pixels, and the command's files and errors."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest
import torch
from forked import run_optviz
from pixels import within
from typer.testing import CliRunner

from optviz.cli import app
from optviz.engines.basin import grid_starts, run_basin
from optviz.engines.single import run_one, surface
from optviz.engines.sweep import threshold
from optviz.errors import UnsupportedError
from optviz.plan.optimizers import plan_optimizer
from optviz.registry import FUNCTIONS
from optviz.render.basin import CMAP, DIVERGED, basin_values
from optviz.spec.figures import OptimizerSpec

runner = CliRunner()
BASIN_PIXELS = (1050, 1260)  # Figure(8.4, 7) at the default 150 dpi


def invoke(*args: str):
    return runner.invoke(app, list(args), env={"COLUMNS": "200"})


def lone(function, spec: str, start, steps):
    plan = plan_optimizer(OptimizerSpec.model_validate(spec))
    return run_one(function.load(), plan, torch.tensor(start, dtype=torch.float32), steps,
                   function.domain)


def test_grid_starts_are_row_major_edge_to_edge():
    xs, ys, starts = grid_starts(((-2, 2), (-1, 3)), 5)
    assert xs.tolist() == [-2, -1, 0, 1, 2] and ys.tolist() == [-1, 0, 1, 2, 3]
    for i in range(5):
        for j in range(5):
            assert starts[i * 5 + j].tolist() == [xs[j], ys[i]]


@pytest.fixture(scope="module")
def sgd_basin(tmp_path_factory):
    """SGD on rosenbrock: the steep corners diverge, the valley converges."""
    out = tmp_path_factory.mktemp("basin")
    png, js = out / "basin.png", out / "basin.json"
    res = invoke("basin", "sgd:lr=2e-3", "-f", "rosenbrock", "--grid", "12", "--steps", "60",
                 "-o", str(png), "--export", str(js))
    return res, png, js


def test_basin_cli_export_is_row_major_and_equals_lone_runs(sgd_basin):
    res, png, js = sgd_basin
    assert res.exit_code == 0, res.output
    assert res.stderr == ""  # no progress bar off a terminal
    assert res.stdout.splitlines()[-2:] == [f"wrote {png}", f"wrote {js}"]
    data = json.loads(js.read_text())
    assert data["grid"] == 12 and len(data["starts"]) == 144 == len(data["final_loss"])
    xs, ys = np.linspace(-2, 2, 12), np.linspace(-1, 3, 12)
    assert data["starts"][13] == [xs[1], ys[1]] and data["starts"][12] == [xs[0], ys[1]]
    f = FUNCTIONS.resolve("rosenbrock")
    diverged = [i for i, d in enumerate(data["diverged"]) if d is not None]
    assert 0 < len(diverged) < 144
    for i in [0, 5, 13, 77, 143, *diverged[:3]]:
        run = lone(f, "sgd:lr=2e-3", data["starts"][i], 60)
        assert data["diverged"][i] == run.diverged
        assert data["final_loss"][i] == (None if run.diverged else run.loss[-1])


def test_basin_picture_pixels(sgd_basin, png_pixels):
    _, png, _ = sgd_basin
    pixels = png_pixels(png)
    assert pixels.shape[:2] == BASIN_PIXELS
    wide = pixels.astype(np.int64)  # int16 would overflow in the shift
    packed = (wide[..., 0] << 16) | (wide[..., 1] << 8) | wide[..., 2]
    assert len(np.unique(packed)) > 100  # not blank
    red = np.array([int(DIVERGED[k:k + 2], 16) for k in (1, 3, 5)])
    assert within(pixels, red, 10).sum() > 500  # diverged corners
    # The minimum's star (style.MINIMUM_STAR): its dark edge, no longer gold.
    edge = np.array([0x1a, 0x1a, 0x1a])
    assert within(pixels, edge, 6).any()
    assert not within(pixels, [255, 215, 0], 12).any()
    import matplotlib

    # The image's colour map appears: the darkest (lowest loss) and a mid colour.
    lut = np.round(matplotlib.colormaps[CMAP](np.linspace(0, 1, 9))[:, :3] * 255)
    seen = [bool(within(pixels, c, 6).any()) for c in lut]
    assert sum(seen) >= 4, seen


def test_steps_metric_equals_lone_runs_and_marks_the_never_arrived():
    f = FUNCTIONS.resolve("himmelblau")
    plan = plan_optimizer(OptimizerSpec.model_validate("sgd:lr=0.01"))
    result = run_basin(f, plan, grid=6, steps=30, metric="steps")
    thr = threshold(f)
    for i in (0, 7, 20, 35):
        loss = np.array(lone(f, "sgd:lr=0.01", result.starts[i].tolist(), 30).loss, dtype=float)
        hit = np.flatnonzero(loss <= thr)
        assert result.steps_to_tol[i] == (hit[0] if hit.size else -1)
    values, diverged, missing = basin_values(result)
    assert values.shape == (6, 6)
    never = (result.steps_to_tol < 0).reshape(6, 6) & ~diverged
    assert (missing == never).all() and np.isnan(values[never]).all()
    arrived = ~never & ~diverged
    assert (values[arrived] == result.steps_to_tol.reshape(6, 6)[arrived]).all()


def test_fallback_basin_equals_lone_runs_and_notes_once(out_dir):
    js = out_dir / "l.json"
    res = invoke("basin", "lbfgs:lr=0.5", "-f", "booth", "--grid", "3", "--steps", "6", "-o",
                 str(out_dir / "l.png"), "--export", str(js))
    assert res.exit_code == 0, res.output
    assert res.stderr.count("not element-wise") == 1 and "9 trajectories" in res.stderr
    data = json.loads(js.read_text())
    f = FUNCTIONS.resolve("booth")
    for i in (0, 4, 8):
        assert data["final_loss"][i] == lone(f, "lbfgs:lr=0.5", data["starts"][i], 6).loss[-1]


def test_basin_csv_and_lr_auto(out_dir):
    csv = out_dir / "b.csv"
    res = invoke("basin", "adam", "--lr", "auto", "-f", "quadratic", "--grid", "4", "--steps",
                 "20", "-o", str(out_dir / "b.png"), "--export", str(csv))
    assert res.exit_code == 0, res.output
    rows = csv.read_text().splitlines()
    assert rows[0] == "x,y,final_loss,steps_to_tol,diverged" and len(rows) == 17
    assert rows[1].startswith("-5.0,-5.0,")


@pytest.mark.parametrize("args, message", [
    (["adam", "-f", "parabola"], "needs a 2-D function"),
    (["adam", "-f", "saddle", "--metric", "steps"], "needs a known minimum"),
    (["adam", "--metric", "time"], "--metric"),
    (["adam", "--grid", "1"], "--grid: must be >= 2"),
    (["adam", "--export", "x.txt"], ".json or .csv"),
])
def test_basin_errors_are_one_line_and_write_nothing(args, message, out_dir):
    res = invoke("basin", *args, "--grid" if "--grid" not in args else "--steps", "3",
                 "-o", str(out_dir / "x.png"))
    assert res.exit_code == 2, res.output
    assert res.stderr.startswith("optviz: error: ") and res.stderr.count("\n") == 1
    assert message in res.stderr
    assert list(out_dir.iterdir()) == []


def test_unsupported_function_from_the_library():
    with pytest.raises(UnsupportedError):
        run_basin(FUNCTIONS.resolve("parabola"), plan_optimizer(OptimizerSpec(name="adam")))


def test_basin_as_a_real_process(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "OPTVIZ_DEBUG"}
    proc = run_optviz(["basin", "adam:lr=0.05", "--grid", "8", "--steps", "25", "--export",
                       "b.json"], cwd=tmp_path, env=env)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    assert proc.stdout.splitlines()[-2:] == ["wrote basin_rosenbrock_adam-lr0.05_grid8_steps25.png",
                                             "wrote b.json"]
    assert json.loads((tmp_path / "b.json").read_text())["grid"] == 8


def test_basin_with_lookahead_equals_lone_lookahead_runs(out_dir):
    js = out_dir / "look.json"
    res = invoke("basin", "sgd:lr=2e-3", "-f", "rosenbrock", "--grid", "4", "--steps", "25",
                 "--lookahead", "--lookahead-alpha", "0.3", "-o", str(out_dir / "look.png"),
                 "--export", str(js))
    assert res.exit_code == 0, res.output
    data = json.loads(js.read_text())
    assert data["label"].startswith("Lookahead(SGD, k=5, α=0.3)")
    f = FUNCTIONS.resolve("rosenbrock")
    plan = plan_optimizer(OptimizerSpec(name="sgd", lr=2e-3), lookahead=(5, 0.3))
    for start, final, diverged in zip(data["starts"], data["final_loss"], data["diverged"],
                                      strict=True):
        run = run_one(f.load(), plan, torch.tensor(start, dtype=torch.float32), 25, f.domain)
        assert diverged == run.diverged
        assert final == (None if run.diverged else run.loss[-1])


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_basin_on_cuda_equals_cpu(out_dir):
    """The command end to end on the GPU: the same starts, the same verdicts, losses within
    float32 rounding of the CPU's (different kernels, so not bit for bit)."""
    data = {}
    for device in ("cpu", "cuda"):
        js = out_dir / f"{device}.json"
        res = invoke("basin", "adam:lr=0.05", "-f", "rosenbrock", "--grid", "16", "--steps",
                     "200", "--device", device, "-o", str(out_dir / f"{device}.png"),
                     "--export", str(js))
        assert res.exit_code == 0, res.output
        data[device] = json.loads(js.read_text())
    cpu, gpu = data["cpu"], data["cuda"]
    assert gpu["starts"] == cpu["starts"] and gpu["device"].startswith("cuda")
    assert gpu["diverged"] == cpu["diverged"]
    finite = [(a, b) for a, b in zip(cpu["final_loss"], gpu["final_loss"], strict=True)
              if a is not None]
    np.testing.assert_allclose([b for _, b in finite], [a for a, _ in finite], rtol=1e-3,
                               atol=1e-6)


def test_metric_minimum_colours_each_start_by_the_minimum_it_reached():
    """Each start's label is the nearest known minimum to its last point, checked against
    lone runs stepped here; the legend counts the starts per minimum."""
    from optviz.engines.basin import REACH
    from optviz.engines.single import run_trajectory
    from optviz.render.basin import basin_figure

    f = FUNCTIONS.resolve("himmelblau")
    plan = plan_optimizer(OptimizerSpec(name="sgd", lr=0.01))
    result = run_basin(f, plan, grid=5, steps=200, metric="minimum", dtype="float64")
    minima = np.array(f.minima)
    radius = REACH * 10
    assert result.reach_radius == pytest.approx(radius)
    for i in (0, 6, 12, 18, 24):
        lone = run_trajectory(f, [plan], start=list(result.starts[i]), steps=200,
                              dtype="float64").runs[0]
        end = np.array(lone.points[-1])
        d = np.linalg.norm(minima - end, axis=1)
        want = int(d.argmin()) if d.min() <= radius else -1
        assert result.reached[i] == want
    assert set(result.reached.tolist()) >= {0, 1, 2, 3}  # all four basins from a 5 x 5 grid
    assert result.to_dict()["reached"][12] == result.reached[12]
    fig = basin_figure(result, surface(f, result.domain))
    texts = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    counts = np.bincount(result.reached + 1, minlength=5)
    assert texts[0] == f"reached minimum 1: (3, 2): {counts[1]} starts"
    assert texts[-1] == f"no known minimum: {counts[0]} starts"


def test_metric_minimum_needs_known_minima():
    with pytest.raises(UnsupportedError, match="has none"):
        run_basin(FUNCTIONS.resolve("saddle"), plan_optimizer(OptimizerSpec(name="sgd")),
                  grid=3, steps=2, metric="minimum")


def test_steps_colour_bar_and_title_agree_on_the_slowest_start():
    """The colour bar spans the starts that arrived; the title says the budget and the slowest
    start, so the bar stopping short of the budget reads as what it is."""
    from optviz.render.basin import basin_figure

    f = FUNCTIONS.resolve("himmelblau")
    plan = plan_optimizer(OptimizerSpec(name="sgd", lr=0.002, settings={"momentum": 0.9}))
    result = run_basin(f, plan, grid=8, steps=400, metric="steps")
    steps = np.asarray(result.steps_to_tol)
    slowest = int(steps[steps >= 0].max())
    assert slowest < 400  # every start arrived well inside the budget
    fig = basin_figure(result, surface(f, result.domain))
    image = fig.axes[0].images[0]
    assert image.norm.vmax == slowest
    assert image.colorbar.extend == "neither"
    title = fig.get_suptitle()
    assert "within 400 steps" in title and f"slowest start: {slowest}" in title
    assert "128" not in title and "8\u00a0×\u00a08 starts" in title  # never broken inside


def test_metric_minimum_puts_the_legend_beside_the_map_on_a_wider_canvas():
    from optviz.render.basin import basin_figure

    f = FUNCTIONS.resolve("himmelblau")
    plan = plan_optimizer(OptimizerSpec(name="gd", lr=0.005))
    result = run_basin(f, plan, grid=6, steps=300, metric="minimum")
    fig = basin_figure(result, surface(f, result.domain))
    assert tuple(fig.get_size_inches()) == (11, 6.6)
    legend = fig.axes[0].get_legend()
    assert legend.get_bbox_to_anchor().x0 > fig.axes[0].bbox.x1 - 1  # outside, to the right
